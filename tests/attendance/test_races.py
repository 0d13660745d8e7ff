"""Concurrency: real threads, each with its own connections. Successes are counted, not just totals.

Must hold on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (READ COMMITTED): the partial unique index
"one open record per employee" and conditional UPDATEs decide every race.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from hr_portal.attendance import service
from hr_portal.attendance.models import AttendanceCorrection, AttendancePunch, AttendanceRecord, CorrectionStatus
from hr_portal.core.db import get_engine, session_scope, utcnow
from hr_portal.core.errors import Conflict
from tests.attendance.conftest import actor_of
from tests.factories import API, login_headers

pytestmark = pytest.mark.race


def run_concurrently(n: int, work: Callable[[int], Any], timeout: float = 90) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - counted by the caller
            results[i] = exc

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread did not finish"
    return results


def _actor(person):
    with Session(get_engine()) as s:
        return actor_of(s, person)


def test_fifty_concurrent_api_check_ins_give_one_open_record_and_409_for_the_rest(client, people):
    headers = login_headers(client, people["employee"])
    app = client.app

    def work(_i: int) -> int:
        with TestClient(app) as c:
            return c.post(f"{API}/attendance/check-in", headers=headers).status_code

    statuses = Counter(run_concurrently(50, work))
    assert statuses == Counter({201: 1, 409: 49}), statuses
    with Session(get_engine()) as s:
        open_rows = s.exec(select(AttendanceRecord).where(AttendanceRecord.check_out.is_(None))).all()
        assert len(open_rows) == 1
        assert len(s.exec(select(AttendancePunch)).all()) == 1


def test_fifty_concurrent_service_check_ins_after_a_check_out_reopen_the_day_once(people):
    actor = _actor(people["employee"])
    with session_scope() as s:
        service.check_in(session=s, actor=actor)
    with session_scope() as s:
        service.check_out(session=s, actor=actor)

    def work(_i: int) -> str:
        try:
            with session_scope() as s:
                service.check_in(session=s, actor=actor)
            return "ok"
        except Conflict:
            return "conflict"

    outcome = Counter(run_concurrently(50, work))
    assert outcome == Counter({"ok": 1, "conflict": 49}), outcome


def test_concurrent_check_outs_close_the_record_exactly_once(people):
    actor = _actor(people["employee"])
    with session_scope() as s:
        service.check_in(session=s, actor=actor, now=utcnow() - timedelta(hours=2))

    def work(_i: int) -> str:
        try:
            with session_scope() as s:
                service.check_out(session=s, actor=actor)
            return "ok"
        except Conflict:
            return "conflict"

    outcome = Counter(run_concurrently(20, work))
    assert outcome == Counter({"ok": 1, "conflict": 19}), outcome
    with Session(get_engine()) as s:
        rec = s.exec(select(AttendanceRecord)).one()
        assert 7190 <= rec.work_seconds <= 7300
        assert len(s.exec(select(AttendancePunch)).all()) == 2


def test_concurrent_clicks_on_the_check_in_card_punch_once_each_way(people):
    """The card's `punch` takes the punch lock with the day's first statement (PostgreSQL): of twenty clicks at
    once one checks in, the rest get a conflict; the same for twenty check-outs."""
    actor = _actor(people["employee"])

    def clicks(action: str) -> Counter:
        def work(_i: int) -> str:
            try:
                with session_scope() as s:
                    service.punch(session=s, actor=actor, action=action)
                return "ok"
            except Conflict:
                return "conflict"

        return Counter(run_concurrently(20, work))

    assert clicks("in") == Counter({"ok": 1, "conflict": 19})
    assert clicks("out") == Counter({"ok": 1, "conflict": 19})
    with Session(get_engine()) as s:
        assert s.exec(select(AttendanceRecord).where(AttendanceRecord.check_out.is_(None))).all() == []
        assert sorted(p.kind.value for p in s.exec(select(AttendancePunch)).all()) == ["in", "out"]


def test_auto_checkout_racing_a_manual_check_out_closes_once(people):
    actor = _actor(people["employee"])
    start = utcnow() - timedelta(days=2)
    with session_scope() as s:
        service.check_in(session=s, actor=actor, now=start)

    def work(i: int) -> int:
        with session_scope() as s:
            if i % 2:
                return service.auto_close_open_records(session=s)
            try:
                service.check_out(session=s, actor=actor)
                return 1
            except Conflict:
                return 0

    assert sum(run_concurrently(10, work)) == 1
    with Session(get_engine()) as s:
        assert len(s.exec(select(AttendancePunch).where(AttendancePunch.kind == "out")).all()) == 1


def test_concurrent_decisions_on_one_correction_have_one_winner(people):
    emp, mgr, hr = (_actor(people[k]) for k in ("employee", "manager", "hr_manager"))
    day = utcnow().date() - timedelta(days=3)
    with session_scope() as s:
        c = service.request_correction(session=s, actor=emp, work_date=day, check_in="09:00", check_out="17:00",
                                       reason="Forgot")

    def work(i: int) -> str:
        try:
            with session_scope() as s:
                service.decide_correction(session=s, actor=mgr if i % 2 else hr, correction_id=c.id,
                                          approve=i % 3 != 0, comment="decided")
            return "ok"
        except Conflict:
            return "conflict"

    outcome = Counter(run_concurrently(20, work))
    assert outcome == Counter({"ok": 1, "conflict": 19}), outcome
    with Session(get_engine()) as s:
        row = s.get(AttendanceCorrection, c.id)
        records = s.exec(select(AttendanceRecord)).all()
        assert len(records) == (1 if row.status == CorrectionStatus.approved else 0)


def test_concurrent_correction_requests_for_one_day_leave_one_pending(people):
    emp = _actor(people["employee"])
    day = utcnow().date() - timedelta(days=3)

    def work(_i: int) -> str:
        try:
            with session_scope() as s:
                service.request_correction(session=s, actor=emp, work_date=day, check_in="09:00",
                                           check_out="17:00", reason="Forgot")
            return "ok"
        except Conflict:
            return "conflict"

    outcome = Counter(run_concurrently(20, work))
    assert outcome == Counter({"ok": 1, "conflict": 19}), outcome
