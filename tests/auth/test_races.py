"""Concurrency: real threads, each with its own TestClient and database connections.

These count successes (not just final totals) and must hold on SQLite (BEGIN IMMEDIATE +
busy_timeout) and on PostgreSQL (conditional updates, row locks, unique indexes).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.auth import service
from hr_portal.auth.models import User
from hr_portal.core.audit import AuditLog
from hr_portal.core.db import aware, get_engine, utcnow
from hr_portal.employees.models import Employee
from hr_portal.org.models import Company, Organization
from tests.factories import API, PASSWORD, access_token_accepted, login, register_body

pytestmark = pytest.mark.race

THREADS = 20


def run_concurrently(n: int, work: Callable[[int], Any], timeout: float = 60) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; return the results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,), name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} thread(s) raised: {errors[0]!r}"
    return results


@pytest.fixture
def api(client):
    """One app shared by the racing threads; each thread uses its own TestClient (own event loop)."""
    return client.app


def post(app, path: str, json: dict, headers: dict | None = None) -> tuple[int, dict]:
    with TestClient(app) as c:
        response = c.post(f"{API}{path}", json=json, headers=headers)
    return response.status_code, response.json()


def test_concurrent_refreshes_with_one_token_succeed_exactly_once(client, api, people):
    tokens = login(client, people["employee"].email)

    results = run_concurrently(THREADS, lambda i: post(api, "/auth/refresh-token",
                                                       {"refreshToken": tokens["refreshToken"]}))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 401: THREADS - 1}, statuses

    # The copies that lost are reuse of a spent token: the whole login is revoked.
    winner = next(body["data"] for status, body in results if status == 200)
    assert not access_token_accepted(winner["accessToken"])
    assert client.post(f"{API}/auth/refresh-token", json={"refreshToken": winner["refreshToken"]}).status_code == 401


def test_concurrent_wrong_password_logins_lock_the_account_without_lost_updates(client, api, people):
    person = people["employee"]
    n = 12

    results = run_concurrently(n, lambda i: post(api, "/auth/login", {"email": person.email, "password": f"Wrong-{i}-pass"}))
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {401, 423}, statuses

    with Session(get_engine()) as s:
        user = s.get(User, person.user_id)
        failures = s.exec(select(func.count()).select_from(AuditLog).where(
            AuditLog.actor_user_id == person.user_id, AuditLog.action == "auth.login_failed")).one()
        locks = s.exec(select(func.count()).select_from(AuditLog).where(
            AuditLog.actor_user_id == person.user_id, AuditLog.action == "auth.account_locked")).one()
    assert user.locked_until is not None and aware(user.locked_until) > utcnow()
    assert locks >= 1
    # Every counted failure is accounted for: 5 per lock, the rest still on the counter.
    assert failures == statuses[401]
    assert statuses[401] == 5 * locks + user.failed_login_count
    assert 0 <= user.failed_login_count < 5

    right = client.post(f"{API}/auth/login", json={"email": person.email, "password": PASSWORD})
    assert right.status_code == 423


def test_concurrent_registrations_with_one_email_create_exactly_one_account(client, api):
    email = "race@example.com"

    results = run_concurrently(10, lambda i: post(api, "/auth/register", register_body(
        email=email if i % 2 else email.upper(), organizationName=f"Racer {i}")))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 9}, statuses

    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 1
        assert s.exec(select(func.count()).select_from(Organization)).one() == 1
        assert s.exec(select(func.count()).select_from(Company)).one() == 1
        assert s.exec(select(func.count()).select_from(Employee)).one() == 1


def test_concurrent_correct_logins_all_succeed_with_separate_logins(client, api, people):
    person = people["manager"]

    results = run_concurrently(10, lambda i: post(api, "/auth/login", {"email": person.email, "password": PASSWORD}))
    assert [status for status, _ in results] == [200] * 10
    families = {service.decode_jwt(body["data"]["accessToken"], expected_type="access")["fam"] for _, body in results}
    assert len(families) == 10


def test_concurrent_password_reset_confirmations_spend_the_token_once(client, api, people, db):
    person = people["employee"]
    user = db.get(User, person.user_id)
    token = service.create_password_link(db, user).split("token=", 1)[1]
    db.commit()
    db.close()

    results = run_concurrently(10, lambda i: post(api, "/auth/password-reset/confirm",
                                                  {"token": token, "newPassword": f"Winner-{i}-pass!"}))
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 400: 9}, statuses

    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    assert login(client, person.email, f"Winner-{winner}-pass!")
