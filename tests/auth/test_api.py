"""Legacy /api/v1/auth endpoints and /health, against the contract in shared/API_CONTRACT.md."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import create_engine, func, update
from sqlmodel import Session, select

from hr_portal.auth.models import PasswordResetToken, Role, User
from hr_portal.core.audit import AuditLog
from hr_portal.core.config import get_settings
from hr_portal.core.db import aware, get_engine, utcnow
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.org.models import Company, Organization
from tests.factories import (
    API,
    PASSWORD,
    access_token_accepted,
    actor_of,
    bearer,
    claims_of,
    deliver_and_collect,
    login,
    register,
    register_body,
    sign,
    text_body,
    unsigned_token,
)

USER_FIELDS = {"id", "email", "firstName", "lastName", "role", "organizationId", "employeeId"}
NEW_PASSWORD = "Brand-New-Pass-77"


@contextmanager
def fresh_session():
    """A short-lived session, closed before the next API call (SQLite: releases the write lock)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session
        session.commit()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["error"]["details"], list)
    return body


def error_fields(response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def logout(client, access: str, refresh: str | None = None):
    body = {"refreshToken": refresh} if refresh else None
    return client.post(f"{API}/auth/logout", headers=bearer(access), json=body)


def refresh(client, token: str):
    return client.post(f"{API}/auth/refresh-token", json={"refreshToken": token})


# =============================================================================== register


def test_register_returns_201_with_envelope_tokens_and_camelcase_user(client):
    body = register_body(firstName="Grace", lastName="Hopper", email="grace@example.com")
    response = client.post(f"{API}/auth/register", json=body)

    assert response.status_code == 201, response.text
    payload = response.json()
    assert payload["success"] is True and isinstance(payload["message"], str)
    data = payload["data"]
    assert set(data) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert set(data["user"]) == USER_FIELDS
    user = data["user"]
    assert (user["email"], user["firstName"], user["lastName"], user["role"]) == (
        "grace@example.com", "Grace", "Hopper", "admin")
    assert isinstance(user["id"], int) and isinstance(user["organizationId"], int)
    assert isinstance(user["employeeId"], int)
    assert data["expiresIn"] == get_settings().access_token_minutes * 60
    assert access_token_accepted(data["accessToken"])
    assert claims_of(data["refreshToken"])["type"] == "refresh"


def test_register_creates_organization_default_company_admin_user_and_employee(client):
    body = register_body(organizationName="Initech", email="boss@initech.example")
    user = register(client, **body).json()["data"]["user"]

    with fresh_session() as s:
        org = s.get(Organization, user["organizationId"])
        assert org.name == "Initech"
        companies = s.exec(select(Company).where(Company.organization_id == org.id)).all()
        assert len(companies) == 1
        account = s.get(User, user["id"])
        assert account.organization_id == org.id and Role(account.role) == Role.admin
        assert account.password_hash and PASSWORD not in account.password_hash
        employee = s.get(Employee, user["employeeId"])
        assert employee.user_id == account.id and employee.organization_id == org.id
        assert employee.company_id == companies[0].id
        assert (employee.first_name, employee.last_name, employee.email) == ("Ada", "Lovelace", "boss@initech.example")


def test_register_stores_email_lowercased_and_login_accepts_any_case(client):
    response = register(client, email="  Mixed.Case@Example.COM ")
    assert response.status_code == 201
    assert response.json()["data"]["user"]["email"] == "mixed.case@example.com"
    assert login(client, "MIXED.case@example.com")["user"]["id"] == response.json()["data"]["user"]["id"]


@pytest.mark.parametrize("second", ["a@x.io", "A@X.io", " a@X.IO"])
def test_register_rejects_an_email_already_registered_case_insensitively(client, second):
    assert register(client, email="a@x.io").status_code == 201
    response = register(client, email=second, organizationName="Someone Else")

    assert_error(response, 409, "CONFLICT")
    with fresh_session() as s:
        assert s.exec(select(func.count()).select_from(Organization)).one() == 1
        assert s.exec(select(func.count()).select_from(User)).one() == 1


def test_register_rejects_missing_fields_and_lists_each_one(client):
    response = client.post(f"{API}/auth/register", json={})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) >= {"organizationName", "firstName", "lastName", "email", "password"}


def test_register_rejects_blank_names_listing_each_field(client):
    response = register(client, organizationName="   ", firstName=" ", lastName="\t")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == {"organizationName", "firstName", "lastName"}


@pytest.mark.parametrize("bad_email", ["not-an-email", "a@b", "two@@example.com", "spa ce@example.com"])
def test_register_rejects_an_invalid_email(client, bad_email):
    response = register(client, email=bad_email)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert "email" in error_fields(response)


def test_register_rejects_malformed_json_with_400(client):
    response = client.post(f"{API}/auth/register", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Sh0rt!x", id="7-chars"),
        pytest.param("Aa1!" * 32 + "x", id="129-chars"),
        pytest.param("é" * 37, id="74-bytes-utf8"),
        pytest.param("Pass-word-1" + "é" * 31, id="73-bytes-utf8"),
        pytest.param("password123", id="common"),
        pytest.param("PASSWORD123", id="common-any-case"),
        pytest.param("aaaaaaaaaaaa", id="too-few-distinct-characters"),
    ],
)
def test_register_rejects_a_weak_or_overlong_password_with_400(client, password):
    response = register(client, password=password)
    assert_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == {"password"}
    with fresh_session() as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 0


def test_register_accepts_a_password_of_exactly_72_bytes(client):
    password = "Pass-word-1" + "é" * 30 + "x"
    assert len(password.encode()) == 72 and len(password) == 42
    response = register(client, email="bytes@example.com", password=password)
    assert response.status_code == 201, response.text
    assert login(client, "bytes@example.com", password)["user"]["email"] == "bytes@example.com"


def test_register_tokens_carry_the_new_organization(client):
    first = register(client).json()["data"]
    second = register(client).json()["data"]
    assert first["user"]["organizationId"] != second["user"]["organizationId"]
    for data in (first, second):
        actor = actor_of(data["accessToken"])
        assert actor.organization_id == data["user"]["organizationId"]
        assert actor.user_id == data["user"]["id"] and actor.role == Role.admin


# =============================================================================== login


def test_login_returns_tokens_and_the_user(client, people):
    manager = people["manager"]
    response = client.post(f"{API}/auth/login", json={"email": manager.email, "password": PASSWORD})

    assert response.status_code == 200
    payload = response.json()
    assert payload["success"] is True
    data = payload["data"]
    assert set(data) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert data["user"] == {
        "id": manager.user_id, "email": manager.email, "firstName": manager.employee.first_name,
        "lastName": manager.employee.last_name, "role": "manager", "organizationId": manager.organization_id,
        "employeeId": manager.employee_id,
    }
    assert actor_of(data["accessToken"]).user_id == manager.user_id


def test_login_wrong_password_and_unknown_email_give_the_same_401(client, people):
    wrong = client.post(f"{API}/auth/login", json={"email": people["employee"].email, "password": "Wrong-Pass-99"})
    unknown = client.post(f"{API}/auth/login", json={"email": "nobody@example.com", "password": "Wrong-Pass-99"})

    assert_error(wrong, 401, "UNAUTHORIZED")
    assert_error(unknown, 401, "UNAUTHORIZED")
    assert wrong.json() == unknown.json()


def test_login_rejects_missing_fields_with_400(client):
    response = client.post(f"{API}/auth/login", json={"email": "x@example.com"})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert "password" in error_fields(response)


def _fail_login(client, email: str):
    return client.post(f"{API}/auth/login", json={"email": email, "password": "Wrong-Pass-99"})


def test_login_locks_account_after_five_failures(client, people):
    email = people["employee"].email
    for _ in range(5):
        assert_error(_fail_login(client, email), 401, "UNAUTHORIZED")

    locked = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert_error(locked, 423, "ACCOUNT_LOCKED")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60 + 1
    assert retry_after > 14 * 60  # the lock lasts 15 minutes, not a few seconds

    # Other accounts are not affected.
    assert login(client, people["manager"].email)["user"]["id"] == people["manager"].user_id


def test_login_lock_lasts_fifteen_minutes(client, people):
    person = people["employee"]
    for _ in range(5):
        _fail_login(client, person.email)
    with fresh_session() as s:
        locked_until = aware(s.get(User, person.user_id).locked_until)
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)


def test_login_four_failures_do_not_lock(client, people):
    email = people["employee"].email
    for _ in range(4):
        _fail_login(client, email)
    assert login(client, email)["user"]["email"] == email


def test_login_success_resets_the_failure_counter(client, people):
    email = people["employee"].email
    for _ in range(4):
        _fail_login(client, email)
    login(client, email)
    for _ in range(4):
        assert_error(_fail_login(client, email), 401, "UNAUTHORIZED")
    assert login(client, email)["user"]["email"] == email


def test_login_lock_expires_after_the_lock_period(client, people):
    person = people["employee"]
    for _ in range(5):
        _fail_login(client, person.email)
    assert client.post(f"{API}/auth/login", json={"email": person.email, "password": PASSWORD}).status_code == 423

    with fresh_session() as s:  # 15 minutes later
        s.exec(update(User).where(User.id == person.user_id).values(locked_until=utcnow() - timedelta(seconds=1)))

    assert login(client, person.email)["user"]["id"] == person.user_id
    with fresh_session() as s:
        user = s.get(User, person.user_id)
        assert user.locked_until is None and user.failed_login_count == 0


def test_login_after_lock_expiry_starts_a_fresh_count(client, people):
    person = people["employee"]
    for _ in range(5):
        _fail_login(client, person.email)
    with fresh_session() as s:
        s.exec(update(User).where(User.id == person.user_id).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert_error(_fail_login(client, person.email), 401, "UNAUTHORIZED")  # one failure, not the sixth
    assert login(client, person.email)["user"]["id"] == person.user_id


@pytest.mark.parametrize("known", [True, False], ids=["known-email", "unknown-email"])
def test_login_with_a_password_over_72_bytes_is_400(client, people, known):
    email = people["employee"].email if known else "nobody@example.com"
    response = client.post(f"{API}/auth/login", json={"email": email, "password": "é" * 37})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == {"password"}


def test_login_refused_for_a_deactivated_user(client, people):
    person = people["employee"]
    with fresh_session() as s:
        s.exec(update(User).where(User.id == person.user_id).values(is_active=False))
    response = client.post(f"{API}/auth/login", json={"email": person.email, "password": PASSWORD})
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.json() == _fail_login(client, "nobody@example.com").json()


def test_login_refused_when_the_employee_record_is_inactive(client, people):
    person = people["employee"]
    with fresh_session() as s:
        s.exec(update(Employee).where(Employee.id == person.employee_id).values(status=EmployeeStatus.inactive))
    response = client.post(f"{API}/auth/login", json={"email": person.email, "password": PASSWORD})
    assert_error(response, 401, "UNAUTHORIZED")


def test_login_refused_for_an_account_without_a_password(client, org, make_person):
    invited = make_person(org, password=None)
    for attempt in ("", PASSWORD):
        response = client.post(f"{API}/auth/login", json={"email": invited.email, "password": attempt})
        assert_error(response, 401, "UNAUTHORIZED")


# =============================================================================== tokens


@pytest.fixture
def session_tokens(client, people):
    """A real login of the employee: {user, accessToken, refreshToken, expiresIn}."""
    return login(client, people["employee"].email)


def test_access_token_authenticates_a_protected_endpoint(client, session_tokens):
    response = logout(client, session_tokens["accessToken"])
    assert response.status_code == 200
    assert response.json()["success"] is True


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer"}, id="empty"),
        pytest.param({"Authorization": "Bearer garbage"}, id="garbage"),
        pytest.param({"Authorization": "Bearer a.b.c"}, id="three-garbage-parts"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic-scheme"),
    ],
)
def test_protected_endpoint_refuses_missing_or_garbage_bearer_with_401(client, headers):
    assert_error(client.post(f"{API}/auth/logout", headers=headers), 401, "UNAUTHORIZED")


def test_a_resigned_copy_of_a_valid_token_is_accepted(client, session_tokens):
    """Control for the crafted-token tests below: re-signing unchanged claims keeps the token valid."""
    copy = sign(claims_of(session_tokens["accessToken"]))
    assert logout(client, copy).status_code == 200


def _without(claims: dict, key: str) -> dict:
    return {k: v for k, v in claims.items() if k != key}


CRAFTED = {
    "expired": lambda c: sign({**c, "exp": int((utcnow() - timedelta(minutes=1)).timestamp())}),
    "without-exp": lambda c: sign(_without(c, "exp")),
    "without-iat": lambda c: sign(_without(c, "iat")),
    "without-jti": lambda c: sign(_without(c, "jti")),
    "without-type": lambda c: sign(_without(c, "type")),
    "type-refresh": lambda c: sign({**c, "type": "refresh"}),
    "wrong-issuer": lambda c: sign({**c, "iss": "someone-else"}),
    "wrong-audience": lambda c: sign({**c, "aud": "another-api"}),
    "without-audience": lambda c: sign(_without(c, "aud")),
    "wrong-signature": lambda c: sign(c, key="another-secret-key-of-enough-length-0123456789"),
    "alg-none": lambda c: unsigned_token(c),
    "alg-hs384": lambda c: sign(c, algorithm="HS384"),
    "non-numeric-subject": lambda c: sign({**c, "sub": "admin"}),
    "old-token-version": lambda c: sign({**c, "ver": c["ver"] - 1}),
    "unknown-family": lambda c: sign({**c, "fam": "00000000-0000-0000-0000-000000000000"}),
}


@pytest.mark.parametrize("variant", list(CRAFTED))
def test_crafted_access_token_is_refused_with_401(client, session_tokens, variant):
    token = CRAFTED[variant](claims_of(session_tokens["accessToken"]))
    assert_error(logout(client, token), 401, "UNAUTHORIZED")
    assert access_token_accepted(session_tokens["accessToken"])  # the original is untouched


def test_refresh_token_used_as_access_token_is_refused(client, session_tokens):
    assert_error(logout(client, session_tokens["refreshToken"]), 401, "UNAUTHORIZED")


def test_access_token_used_as_refresh_token_is_refused(client, session_tokens):
    assert_error(refresh(client, session_tokens["accessToken"]), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("variant", ["expired", "wrong-signature", "alg-none", "without-exp", "wrong-audience"])
def test_crafted_refresh_token_is_refused_with_401(client, session_tokens, variant):
    token = CRAFTED[variant](claims_of(session_tokens["refreshToken"]))
    assert_error(refresh(client, token), 401, "UNAUTHORIZED")
    assert refresh(client, session_tokens["refreshToken"]).status_code == 200  # the original was not spent


def test_access_token_of_a_deactivated_user_is_refused_at_once(client, people, session_tokens):
    with fresh_session() as s:
        s.exec(update(User).where(User.id == people["employee"].user_id).values(is_active=False))
    assert_error(logout(client, session_tokens["accessToken"]), 401, "UNAUTHORIZED")
    assert_error(refresh(client, session_tokens["refreshToken"]), 401, "UNAUTHORIZED")


# =============================================================================== logout


def test_logout_revokes_the_access_token_at_once(client, session_tokens):
    assert logout(client, session_tokens["accessToken"]).status_code == 200
    assert_error(logout(client, session_tokens["accessToken"]), 401, "UNAUTHORIZED")
    assert not access_token_accepted(session_tokens["accessToken"])


def test_logout_revokes_the_refresh_token_given_in_the_body(client, people, session_tokens):
    other_login = login(client, people["employee"].email)
    response = logout(client, session_tokens["accessToken"], refresh=other_login["refreshToken"])
    assert response.status_code == 200
    assert_error(refresh(client, other_login["refreshToken"]), 401, "UNAUTHORIZED")


def test_logout_ends_the_refresh_token_of_the_same_login(client, session_tokens):
    assert logout(client, session_tokens["accessToken"]).status_code == 200
    assert_error(refresh(client, session_tokens["refreshToken"]), 401, "UNAUTHORIZED")


def test_logout_leaves_other_logins_of_the_user_working(client, people, session_tokens):
    other = login(client, people["employee"].email)
    assert logout(client, session_tokens["accessToken"]).status_code == 200
    assert access_token_accepted(other["accessToken"])
    assert refresh(client, other["refreshToken"]).status_code == 200


def test_logout_ignores_a_refresh_token_of_another_user(client, people, session_tokens):
    victim = login(client, people["manager"].email)
    assert logout(client, session_tokens["accessToken"], refresh=victim["refreshToken"]).status_code == 200
    assert refresh(client, victim["refreshToken"]).status_code == 200
    assert access_token_accepted(victim["accessToken"])


# =============================================================================== refresh


def test_refresh_rotates_both_tokens(client, session_tokens):
    response = refresh(client, session_tokens["refreshToken"])
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"user", "accessToken", "refreshToken", "expiresIn"}
    assert data["user"] == session_tokens["user"]
    assert data["accessToken"] != session_tokens["accessToken"]
    assert data["refreshToken"] != session_tokens["refreshToken"]
    assert access_token_accepted(data["accessToken"])
    assert refresh(client, data["refreshToken"]).status_code == 200


def test_reusing_a_spent_refresh_token_is_401_and_revokes_every_token_of_that_login(client, session_tokens):
    first = refresh(client, session_tokens["refreshToken"]).json()["data"]
    second = refresh(client, first["refreshToken"]).json()["data"]
    assert access_token_accepted(second["accessToken"])

    reuse = refresh(client, session_tokens["refreshToken"])
    assert_error(reuse, 401, "UNAUTHORIZED")

    assert_error(refresh(client, second["refreshToken"]), 401, "UNAUTHORIZED")  # the newest refresh token
    for access in (session_tokens["accessToken"], first["accessToken"], second["accessToken"]):
        assert not access_token_accepted(access)
    assert_error(logout(client, second["accessToken"]), 401, "UNAUTHORIZED")


def test_refresh_reuse_leaves_other_logins_of_the_user_working(client, people, session_tokens):
    other = login(client, people["employee"].email)
    refresh(client, session_tokens["refreshToken"])
    assert refresh(client, session_tokens["refreshToken"]).status_code == 401

    assert access_token_accepted(other["accessToken"])
    rotated = refresh(client, other["refreshToken"])
    assert rotated.status_code == 200
    assert logout(client, rotated.json()["data"]["accessToken"]).status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_refuses_a_garbage_token(client, token):
    assert_error(refresh(client, token), 401, "UNAUTHORIZED")


def test_refresh_refuses_a_missing_body_with_400(client):
    assert_error(client.post(f"{API}/auth/refresh-token", json={}), 400, "VALIDATION_ERROR")


# =============================================================================== password reset


def request_reset(client, email: str, **headers):
    return client.post(f"{API}/auth/password-reset/request", json={"email": email}, headers=headers)


def confirm_reset(client, token: str, new_password: str = NEW_PASSWORD):
    return client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "newPassword": new_password})


def reset_link(outbox, email: str) -> str:
    messages = deliver_and_collect(outbox, to=email, expect=1)
    assert len(messages) == 1, f"expected one mail to {email}, found {len(messages)}"
    links = re.findall(r"\S+/reset-password\?token=[A-Za-z0-9_\-]+", text_body(messages[0]))
    assert links, text_body(messages[0])
    return links[0]


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def test_reset_request_gives_the_same_answer_for_known_and_unknown_email(client, people, outbox):
    known = request_reset(client, people["employee"].email)
    unknown = request_reset(client, "nobody@example.com")
    malformed = request_reset(client, "not-an-email")
    assert known.status_code == unknown.status_code == malformed.status_code == 200
    assert known.json() == unknown.json() == malformed.json()
    assert known.json()["success"] is True


def test_reset_request_mails_a_link_only_for_a_known_account(client, people, outbox):
    request_reset(client, "nobody@example.com")
    request_reset(client, people["employee"].email)
    messages = deliver_and_collect(outbox, expect=1)
    assert [m["To"] for m in messages] == [people["employee"].email]


def test_reset_request_for_a_deactivated_account_sends_no_mail(client, people, outbox):
    with fresh_session() as s:
        s.exec(update(User).where(User.id == people["employee"].user_id).values(is_active=False))
    assert request_reset(client, people["employee"].email).status_code == 200
    assert deliver_and_collect(outbox) == []


def test_reset_link_uses_the_configured_base_url_never_the_host_header(client, people, outbox):
    email = people["employee"].email
    response = request_reset(client, email, Host="evil.example", **{"X-Forwarded-Host": "evil.example"})
    assert response.status_code == 200

    message = deliver_and_collect(outbox, to=email, expect=1)[0]
    link = reset_link(outbox, email)
    assert link.startswith(f"{get_settings().base_url}/reset-password?token=")
    assert "evil.example" not in message.as_string()


def test_reset_mail_has_text_and_html_parts_with_the_link(client, people, outbox):
    email = people["employee"].email
    request_reset(client, email)
    message = deliver_and_collect(outbox, to=email, expect=1)[0]
    link = reset_link(outbox, email)
    assert message.get_body(preferencelist=("html",)) is not None
    assert link in message.get_body(preferencelist=("html",)).get_content()


def test_reset_link_expires_after_one_hour_and_only_its_hash_is_stored(client, people, outbox):
    request_reset(client, people["employee"].email)
    token = token_of(reset_link(outbox, people["employee"].email))
    with fresh_session() as s:
        rows = s.exec(select(PasswordResetToken)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert aware(rows[0].expires_at) - aware(rows[0].created_at) == pytest.approx(timedelta(hours=1), abs=timedelta(seconds=5))


def test_reset_confirm_sets_the_new_password(client, people, outbox):
    email = people["employee"].email
    request_reset(client, email)
    response = confirm_reset(client, token_of(reset_link(outbox, email)))
    assert response.status_code == 200 and response.json()["success"] is True

    assert login(client, email, NEW_PASSWORD)["user"]["email"] == email
    assert_error(client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD}), 401, "UNAUTHORIZED")


def test_reset_token_is_single_use(client, people, outbox):
    email = people["employee"].email
    request_reset(client, email)
    token = token_of(reset_link(outbox, email))
    assert confirm_reset(client, token).status_code == 200
    assert_error(confirm_reset(client, token, "Another-Pass-88"), 400, "VALIDATION_ERROR")
    assert login(client, email, NEW_PASSWORD)  # the second attempt changed nothing


def test_reset_token_past_its_expiry_is_refused(client, people, outbox):
    email = people["employee"].email
    request_reset(client, email)
    token = token_of(reset_link(outbox, email))
    with fresh_session() as s:
        s.exec(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_error(confirm_reset(client, token), 400, "VALIDATION_ERROR")
    assert login(client, email, PASSWORD)  # unchanged


@pytest.mark.parametrize("token", ["", "garbage", "x" * 300])
def test_reset_confirm_refuses_a_bad_token(client, token):
    assert_error(confirm_reset(client, token), 400, "VALIDATION_ERROR")


def test_reset_revokes_all_existing_tokens_of_the_user(client, people, outbox):
    email = people["employee"].email
    first = login(client, email)
    second = login(client, email)
    request_reset(client, email)
    assert confirm_reset(client, token_of(reset_link(outbox, email))).status_code == 200

    for tokens in (first, second):
        assert_error(logout(client, tokens["accessToken"]), 401, "UNAUTHORIZED")
        assert_error(refresh(client, tokens["refreshToken"]), 401, "UNAUTHORIZED")
    fresh = login(client, email, NEW_PASSWORD)
    assert access_token_accepted(fresh["accessToken"])


def test_reset_with_a_bad_new_password_is_400_and_does_not_spend_the_token(client, people, outbox):
    email = people["employee"].email
    request_reset(client, email)
    token = token_of(reset_link(outbox, email))

    for bad in ("short", "password123", "é" * 37):
        response = confirm_reset(client, token, bad)
        assert_error(response, 400, "VALIDATION_ERROR")
        assert error_fields(response) == {"newPassword"}

    assert confirm_reset(client, token).status_code == 200
    assert login(client, email, NEW_PASSWORD)


def test_reset_of_one_user_leaves_other_users_tokens_working(client, people, outbox):
    other = login(client, people["manager"].email)
    request_reset(client, people["employee"].email)
    confirm_reset(client, token_of(reset_link(outbox, people["employee"].email)))
    assert access_token_accepted(other["accessToken"])


# =============================================================================== organizations


def test_tokens_carry_the_organization_of_their_user(client, org, other_org, make_person):
    alice = make_person(org, role=Role.hr_manager, email="alice@a.example")
    bob = make_person(other_org, role=Role.hr_manager, email="bob@b.example")
    a, b = login(client, alice.email), login(client, bob.email)

    assert a["user"]["organizationId"] == org.id and b["user"]["organizationId"] == other_org.id
    actor_a, actor_b = actor_of(a["accessToken"]), actor_of(b["accessToken"])
    assert (actor_a.user_id, actor_a.organization_id, actor_a.employee_id) == (alice.user_id, org.id, alice.employee_id)
    assert (actor_b.user_id, actor_b.organization_id, actor_b.employee_id) == (bob.user_id, other_org.id, bob.employee_id)
    assert claims_of(a["accessToken"])["org"] == org.id and claims_of(b["accessToken"])["org"] == other_org.id


def test_refreshed_tokens_stay_in_the_users_organization(client, org, other_org, make_person):
    bob = make_person(other_org, email="bob@b.example")
    tokens = refresh(client, login(client, bob.email)["refreshToken"]).json()["data"]
    assert actor_of(tokens["accessToken"]).organization_id == other_org.id
    assert tokens["user"]["organizationId"] == other_org.id


def test_a_token_with_another_users_subject_is_refused(client, org, other_org, make_person):
    alice = make_person(org, email="alice@a.example")
    bob = make_person(other_org, email="bob@b.example")
    claims = claims_of(login(client, alice.email)["accessToken"])
    forged = sign({**claims, "sub": str(bob.user_id)}, key="attacker-does-not-know-the-key-0123456789abcdef")
    assert_error(logout(client, forged), 401, "UNAUTHORIZED")


# =============================================================================== health and misc


def test_health_reports_database_and_cache(client):
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    expected_cache = "ok" if get_settings().redis_url else "memory"
    assert response.json() == {"status": "ok", "database": "ok", "cache": expected_cache}


def test_health_is_503_naming_the_database_when_it_is_unreachable(client, monkeypatch):
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    monkeypatch.setattr("hr_portal.api.get_engine", lambda: dead)
    try:
        response = client.get(f"{API}/health")
    finally:
        dead.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "ok"
    assert body["database"] not in ("ok", None)


def test_unknown_api_path_is_404_envelope(client):
    assert_error(client.get(f"{API}/no-such-endpoint"), 404, "NOT_FOUND")


def test_login_writes_audit_entries_without_the_password(client, people):
    email = people["employee"].email
    _fail_login(client, email)
    login(client, email)
    with fresh_session() as s:
        entries = s.exec(select(AuditLog).where(AuditLog.actor_user_id == people["employee"].user_id)
                         .order_by(AuditLog.id)).all()
    assert [e.action for e in entries] == ["auth.login_failed", "auth.login"]
    assert all("Wrong-Pass" not in str(e.changes) and PASSWORD not in str(e.changes) for e in entries)

