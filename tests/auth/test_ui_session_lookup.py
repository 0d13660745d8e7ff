"""The Reflex UI's session look-up (hr_portal/ui/session.py, auth.service.ui_session_lookup): one statement
per look-up.

Statement counts come from a SQLAlchemy `before_cursor_execute` listener on the app's engine; SQLite's
`BEGIN IMMEDIATE` (core/db.py) is transaction control, not a look-up, and is not counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, update
from sqlmodel import Session

from hr_portal.auth import service
from hr_portal.auth.models import Role, UISession, User
from hr_portal.core.db import get_engine, utcnow
from hr_portal.core.security import hash_token
from tests.factories import PASSWORD, create_organization, create_person


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def ui_login(db: Session, email: str) -> str:
    token, _ = service.create_ui_session(session=db, email=email, password=PASSWORD, ip="203.0.113.9",
                                         user_agent="pytest")
    db.commit()
    return token


def lookup(token: str | None):
    with Session(get_engine(), expire_on_commit=False) as s:
        return service.ui_session_lookup(session=s, token=token, ip="198.51.100.7", user_agent="ua")


@pytest.fixture
def person(db):
    org = create_organization(db, name="Lookup Org")
    p = create_person(db, org, role=Role.manager, first_name="Grace", last_name="Hopper")
    db.commit()
    return p


# ================================================================ the look-up itself


def test_lookup_is_one_statement_with_actor_profile_and_organization(db, person):
    token = ui_login(db, person.email)
    with statements() as seen:
        found = lookup(token)
    assert len(seen) == 1, seen
    actor, profile, org_name = found
    assert (actor.user_id, actor.organization_id, actor.role, actor.employee_id, actor.email) == (
        person.user_id, person.organization_id, Role.manager, person.employee_id, person.email)
    assert (actor.ip, actor.user_agent) == ("198.51.100.7", "ua")
    assert (profile.first_name, profile.last_name, profile.email, profile.employee_id, profile.role) == (
        "Grace", "Hopper", person.email, person.employee_id, Role.manager)
    assert org_name == "Lookup Org"
    # the same actor as the other paths build for this user
    assert service.actor_from_ui_session(session=db, token=token, ip="198.51.100.7", user_agent="ua") == actor


def test_ui_lookup_of_the_session_state_is_one_statement(db, person):
    from hr_portal.ui.session import _lookup

    token = ui_login(db, person.email)
    with statements() as seen:
        actor, profile = _lookup(token, None, None)
    assert len(seen) == 1, seen
    assert actor.user_id == person.user_id
    assert profile == {"name": "Grace Hopper", "email": person.email, "org": "Lookup Org"}


def test_lookup_of_a_user_without_employee_record(db, person):
    token = ui_login(db, person.email)
    db.exec(update(User).where(User.id == person.user_id).values(role=Role.admin))
    person.employee.user_id = None
    db.add(person.employee)
    db.commit()
    actor, profile, org_name = lookup(token)
    assert actor.employee_id is None and actor.role == Role.admin
    assert (profile.first_name, profile.last_name, profile.employee_id) == ("", "", None)
    assert org_name == "Lookup Org"


def _revoke(db, token, person):
    service.end_ui_session(session=db, token=token)


def _expire(db, token, person):
    db.exec(update(UISession).where(UISession.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1)))


def _deactivate(db, token, person):
    db.exec(update(User).where(User.id == person.user_id).values(is_active=False))


def _bump_version(db, token, person):  # what a password change or reset does to every session
    db.exec(update(User).where(User.id == person.user_id).values(token_version=User.token_version + 1))


@pytest.mark.parametrize("end", [_revoke, _expire, _deactivate, _bump_version])
def test_lookup_refuses_ended_sessions(db, person, end):
    token = ui_login(db, person.email)
    other = ui_login(db, person.email)
    assert lookup(token) is not None
    end(db, token, person)
    db.commit()
    assert lookup(token) is None
    if end is _revoke or end is _expire:
        assert lookup(other) is not None  # only that session ended


@pytest.mark.parametrize("token", [None, "", "not-a-session", "x" * 500])
def test_lookup_of_unknown_tokens(db, token):
    assert lookup(token) is None
