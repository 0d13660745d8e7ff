"""The Reflex UI's session look-up (hr_portal/ui/session.py, auth.service.ui_session_lookup): one statement
per look-up, at most one look-up per page-load event, and page states of pages left behind are dropped.

Statement counts come from a SQLAlchemy `before_cursor_execute` listener on the app's engine; SQLite's
`BEGIN IMMEDIATE` (core/db.py) is transaction control, not a look-up, and is not counted.

The state tests build the app's state tree in memory (allowed under pytest) and run each "event" inside
its own Reflex EventContext, as the event processor does (a task per event with the event's context).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from hr_portal.auth import service
from hr_portal.auth.models import Role, UISession, User
from hr_portal.core.db import get_engine, session_scope, utcnow
from hr_portal.core.errors import Unauthorized
from hr_portal.core.security import hash_token
from tests.factories import PASSWORD, create_organization, create_person
from tests.sql_count import statements


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
    with statements() as seen, session_scope() as s:
        actor, profile = _lookup(token, None, None)(s)
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


# ================================================================ one look-up per page-load event


def _root():
    # Every module's states, as in the app (hr_portal/modules.py discovers them).
    from reflex.state import State

    from hr_portal.modules import submodules

    for _ in submodules("state"):
        pass
    return State(_reflex_internal_init=True)


def _event_context():
    from reflex_base.event.context import EventContext

    return EventContext(token="tab-token", state_manager=None, enqueue_impl=None)


def run_event(coro_fn):
    """Run `coro_fn()` as the event processor runs a handler: in its own task, inside a fresh event's context."""

    async def event_task():
        with _event_context():
            return await coro_fn()

    return asyncio.run(event_task())


@pytest.fixture
def tab(db, person, monkeypatch):
    from hr_portal.core.authz import PAGE_ROLES
    from hr_portal.ui import session as ui_session
    from hr_portal.ui.session import SessionState

    monkeypatch.setitem(PAGE_ROLES, "ui_test_page", frozenset(Role))
    monkeypatch.setattr(ui_session, "_route_states", lambda path: set())  # no app here: no page routes
    root = _root()
    state = asyncio.run(root.get_state(SessionState))
    state.session_token = ui_login(db, person.email)
    return state


def test_guard_then_require_looks_up_once_per_event(tab):
    async def on_load():
        with statements() as seen:
            assert await tab.guard_page("ui_test_page") is None
            actor = await tab.require()
            first = len(seen)
            await tab.require()  # a later look-up in the same handler is a fresh one
        return actor, first, len(seen)

    actor, first, total = run_event(on_load)
    assert actor.role == Role.manager and tab.user_name == "Grace Hopper" and tab.org_name == "Lookup Org"
    assert (first, total) == (1, 2)


def test_nothing_is_remembered_across_events_of_the_same_state_instance(db, tab):
    # The in-memory state manager keeps the instance between events: the next event must look again,
    # so a sign-out elsewhere (another process) takes effect at once.
    assert run_event(lambda: tab.guard_page("ui_test_page")) is None
    service.end_ui_session(session=db, token=tab.session_token)
    db.commit()
    with pytest.raises(Unauthorized):
        run_event(tab.require)
    assert tab.session_token == "" and tab.user_name == ""


def test_the_remembered_actor_is_keyed_to_the_event_not_the_task(db, tab):
    # Two events in one task (the context variable survives): the second event's id differs.
    async def two_events():
        with _event_context():
            assert await tab.guard_page("ui_test_page") is None  # remembers its actor for this event
        service.end_ui_session(session=db, token=tab.session_token)
        db.commit()
        with _event_context():
            return await tab.actor()

    assert asyncio.run(two_events()) is None


def test_guard_page_refused_session_and_role(db, tab, monkeypatch):
    from hr_portal.core.authz import PAGE_ROLES

    monkeypatch.setitem(PAGE_ROLES, "ui_hr_page", frozenset({Role.hr_manager}))
    redirect = run_event(lambda: tab.guard_page("ui_hr_page"))
    assert redirect is not None and "/not-allowed" in str(redirect)

    async def denied_then_require():
        await tab.guard_page("ui_hr_page")
        with statements() as seen:
            await tab.require()
        return len(seen)

    assert run_event(denied_then_require) == 1  # nothing remembered from a refused guard


# ================================================================ page states of other pages are dropped


@pytest.fixture
def pages(tab, monkeypatch):
    """Route -> page states, as the app's on_load handlers give them; `go(path)` runs that page's guard."""
    from hr_portal.attendance.state import AttendanceSettingsState
    from hr_portal.employees.state import ImportState
    from hr_portal.leave.state import CalendarState
    from hr_portal.ui import session as ui_session

    routes = {"/leave/calendar": CalendarState, "/attendance/settings": AttendanceSettingsState,
              "/employees/import": ImportState, "/not-a-page": None}
    current = {"path": "/"}
    monkeypatch.setattr(ui_session, "_route_states", lambda path: {
        routes[current["path"]].get_full_name()} if routes[current["path"]] else set())
    fetched: list[str] = []
    original = type(tab).get_state

    async def spy(self, cls):
        fetched.append(cls.__name__)
        return await original(self, cls)

    monkeypatch.setattr(type(tab), "get_state", spy)

    def go(path: str):
        current["path"] = path
        fetched.clear()
        assert run_event(lambda: tab.guard_page("ui_test_page")) is None
        return list(fetched)

    return go


def _states(tab, *classes):
    return [asyncio.run(tab.get_state(c)) for c in classes]


def test_opening_a_page_drops_the_data_of_the_page_left(tab, pages):
    from hr_portal.attendance.state import AttendanceSettingsState, CheckInState
    from hr_portal.leave.state import CalendarState
    from hr_portal.notifications.state import NotificationBellState

    calendar, settings, bell, card = _states(tab, CalendarState, AttendanceSettingsState, NotificationBellState,
                                             CheckInState)
    assert pages("/leave/calendar") == []  # nothing held yet: no state fetched
    calendar.rows, calendar.title, calendar.department = [{"name": "x", "cells": []}], "May 2026", "7"
    bell.bell_unread, bell.bell_items = 3, [{"id": "1"}]
    card.card, card.card_ready = {"state": "in"}, True
    tab._topics, tab._live_generation = ["org:1:leave"], 5

    assert pages("/attendance/settings") == ["CalendarState"]  # only the state holding data is fetched
    assert (calendar.rows, calendar.title, calendar.department) == ([], "", "all")
    # the layout's states (bell, check-in card) and the live watchers' bookkeeping stay
    assert (bell.bell_unread, bell.bell_items, card.card_ready) == (3, [{"id": "1"}], True)
    assert tab._live_generation == 5
    assert tab._holding == [AttendanceSettingsState.get_full_name()]

    settings.people_options = [{"value": "1", "label": "A"}]
    assert pages("/attendance/settings") == []  # the same page again: its own data stays
    assert settings.people_options == [{"value": "1", "label": "A"}]
    assert pages("/not-a-page") == ["AttendanceSettingsState"]
    assert settings.people_options == [] and tab._holding == []


def test_a_page_state_may_keep_its_data_while_its_job_runs(tab, pages):
    from hr_portal.employees.state import ImportState
    from hr_portal.leave.state import CalendarState

    (imports,) = _states(tab, ImportState)
    pages("/employees/import")
    imports.step, imports.progress = "applying", 40
    pages("/leave/calendar")
    assert (imports.step, imports.progress) == ("applying", 40)
    assert set(tab._holding) == {ImportState.get_full_name(), CalendarState.get_full_name()}
    imports.step = "done"
    pages("/leave/calendar")
    assert (imports.step, imports.progress) == ("upload", 0)
    assert tab._holding == [CalendarState.get_full_name()]


def test_sign_out_forgets_every_page_and_the_list(tab, pages):
    from hr_portal.leave.state import CalendarState

    (calendar,) = _states(tab, CalendarState)
    pages("/leave/calendar")
    calendar.rows = [{"name": "x"}]
    run_event(tab.sign_out)
    assert calendar.rows == [] and tab._holding == [] and tab.session_token == ""


def test_run_as_checks_the_session_and_runs_the_work_in_one_unit_of_work(db, tab):
    """`_run_as` (the check-in click): the look-up and the handler's work in one thread and transaction;
    a signed-out tab or a role not allowed gets the same errors as `require`, and the work never runs."""
    import threading

    from hr_portal.core.errors import Forbidden

    calls = []

    def work(*, session, actor, value):
        calls.append((threading.get_ident(), session.get_transaction() is not None, actor.role, value))
        return value * 2

    with statements() as seen:
        assert run_event(lambda: tab._run_as(work, value=21)) == 42
    assert len(seen) == 1 and calls[0][1:] == (True, Role.manager, 21)
    assert tab.user_name == "Grace Hopper" and tab.signed_in

    with pytest.raises(Forbidden):
        run_event(lambda: tab._run_as(work, Role.hr_manager, value=1))
    service.end_ui_session(session=db, token=tab.session_token)
    db.commit()
    with pytest.raises(Unauthorized):
        run_event(lambda: tab._run_as(work, value=1))
    assert len(calls) == 1 and tab.session_token == "" and tab.user_name == ""


def test_an_unchanged_profile_leaves_the_session_state_clean(db, tab, person):
    """Every event looks the session up again. Assigning the same name, role and menu each time would mark them
    dirty: the state written back and the menu sent to the browser (and re-rendered) on every click. Only what
    changed is assigned; a new role brings its own menu at the next event."""
    from hr_portal.core.authz import nav_for

    run_event(tab.require)
    assert tab.role == "manager" and tab.nav == nav_for(Role.manager) and tab.signed_in
    tab._clean()
    run_event(tab.require)
    run_event(lambda: tab._run_as(lambda *, session, actor: None))
    assert not tab.dirty_vars

    from hr_portal.employees.models import Employee

    db.exec(update(User).where(User.id == person.user_id).values(role=Role.hr_manager))
    db.exec(update(Employee).where(Employee.user_id == person.user_id).values(first_name="Ada"))
    db.commit()
    run_event(tab.require)
    assert {"role", "nav", "user_name"} <= tab.dirty_vars and "user_email" not in tab.dirty_vars
    assert tab.role == "hr_manager" and tab.nav == nav_for(Role.hr_manager)
    assert tab.user_name == "Ada Hopper"


def test_open_page_as_guards_and_reads_in_one_unit_of_work(db, tab, monkeypatch):
    """`_open_page_as` (a page's on_load): `guard_page`'s verdicts, with the page's first read in the same thread
    and transaction as the look-up; the read runs only for an admitted visitor, and the actor it admitted is
    remembered for the rest of the event like `guard_page`'s."""
    from hr_portal.core.authz import PAGE_ROLES

    monkeypatch.setitem(PAGE_ROLES, "ui_hr_page", frozenset({Role.hr_manager}))
    calls = []

    def work(*, session, actor, value):
        calls.append((session.get_transaction() is not None, actor.role, value))
        return value * 2

    async def admitted_then_require():
        with statements() as seen:
            got = await tab._open_page_as("ui_test_page", work, value=21)
            actor = await tab.require()
        return got, actor.role, len(seen)

    assert run_event(admitted_then_require) == ((None, 42), Role.manager, 1)
    assert calls == [(True, Role.manager, 21)]

    redirect, result = run_event(lambda: tab._open_page_as("ui_hr_page", work, value=1))
    assert "/not-allowed" in str(redirect) and result is None and len(calls) == 1

    service.end_ui_session(session=db, token=tab.session_token)
    db.commit()
    redirect, result = run_event(lambda: tab._open_page_as("ui_test_page", work, value=1))
    assert "/login" in str(redirect) and result is None and len(calls) == 1
    assert tab.session_token == "" and tab.user_name == ""
    redirect, _ = run_event(lambda: tab._open_page_as("ui_test_page", work, value=1))  # no token at all
    assert "/login" in str(redirect) and len(calls) == 1
