"""Events -> notifications: through the real leave and attendance services (the payloads they really
publish), the fallbacks for missing payload keys, and the durable retry of a failing listener."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlmodel import Session, select

from hr_portal.auth.models import Role
from hr_portal.core import events
from hr_portal.core.db import get_engine, utcnow
from hr_portal.core.mail import OutboxEmail
from hr_portal.leave.models import LeaveDelegation, LeaveType
from hr_portal.notifications import listeners, reliable, service
from hr_portal.notifications.models import ListenerFailure
from tests.notifications.conftest import actor_of, add_leave, inbox, run


def _next_weekday(days_ahead: int) -> dt.date:
    day = utcnow().date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _previous_weekday() -> dt.date:
    day = utcnow().date() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


@pytest.fixture
def unpaid(org) -> LeaveType:
    """The default leave types; 'Unpaid' needs no balance (one day of it stays a one-step request)."""
    from hr_portal.leave import service as leave_service

    with Session(get_engine(), expire_on_commit=False) as s:
        types = leave_service.ensure_default_types(s, org.id)
        s.commit()
    return next(t for t in types if t.name == "Unpaid")


def _apply(person, leave_type, day: dt.date):
    from hr_portal.leave import service as leave_service

    return run(leave_service.apply_leave, actor=actor_of(person), leave_type_id=leave_type.id,
               start_date=day.isoformat(), end_date=day.isoformat(), reason="Moving house")


def _mail_kinds(to: str) -> list[str]:
    events.drain()
    with Session(get_engine()) as s:
        return [m.kind for m in s.exec(select(OutboxEmail).where(OutboxEmail.to_address == to)).all()]


# ---------------------------------------------------------------- leave, through the leave service


def test_manager_is_notified_when_an_employee_applies(people, unpaid):
    leave = _apply(people["employee"], unpaid, _next_weekday(14))
    [n] = inbox(people["manager"].user_id)
    assert n.kind == "leave_request" and n.link == "/leave/approvals"
    assert people["employee"].employee.full_name in n.title and "Unpaid" in n.title
    assert "leave_request" in _mail_kinds(people["manager"].email)
    assert inbox(people["employee"].user_id) == []  # the requester is not told about their own request
    assert leave.status == "pending"


def test_requester_gets_the_decision_with_the_comment(people, unpaid):
    from hr_portal.leave import service as leave_service

    leave = _apply(people["employee"], unpaid, _next_weekday(15))
    run(leave_service.decide, actor=actor_of(people["manager"]), leave_id=leave.id, status="rejected",
        comment="Release week")
    [n] = inbox(people["employee"].user_id)
    assert n.kind == "leave_decision" and n.title == "Your Unpaid leave was rejected" and "Release week" in n.body
    assert n.link == "/leave"
    assert "leave_decision" in _mail_kinds(people["employee"].email)


def test_approver_hears_when_a_pending_request_is_cancelled(people, unpaid):
    from hr_portal.leave import service as leave_service

    leave = _apply(people["employee"], unpaid, _next_weekday(16))
    run(leave_service.cancel_leave, actor=actor_of(people["employee"]), leave_id=leave.id)
    kinds = [n.kind for n in inbox(people["manager"].user_id)]
    assert kinds == ["leave_request", "leave_cancelled"]


def test_a_delegate_gets_requests_while_delegated(people, unpaid, org, make_person):
    deputy = make_person(org, role=Role.manager)
    today = utcnow().date()
    with Session(get_engine()) as s:
        s.add(LeaveDelegation(organization_id=org.id, approver_employee_id=people["manager"].employee_id,
                              delegate_employee_id=deputy.employee_id, start_date=today - dt.timedelta(days=1),
                              end_date=today + dt.timedelta(days=5)))
        s.commit()
    _apply(people["employee"], unpaid, _next_weekday(17))
    assert [n.kind for n in inbox(deputy.user_id)] == ["leave_request"]
    assert [n.kind for n in inbox(people["manager"].user_id)] == ["leave_request"]


def test_an_expired_delegation_sends_nothing_to_the_former_delegate(people, unpaid, org, make_person):
    deputy = make_person(org, role=Role.manager)
    today = utcnow().date()
    with Session(get_engine()) as s:
        s.add(LeaveDelegation(organization_id=org.id, approver_employee_id=people["manager"].employee_id,
                              delegate_employee_id=deputy.employee_id, start_date=today - dt.timedelta(days=9),
                              end_date=today - dt.timedelta(days=2)))
        s.commit()
    _apply(people["employee"], unpaid, _next_weekday(18))
    assert inbox(deputy.user_id) == []


# ---------------------------------------------------------------- corrections, through the attendance service


def test_correction_request_and_decision_reach_approver_and_requester(people):
    from hr_portal.attendance import service as attendance_service

    day = _previous_weekday()
    corr = run(attendance_service.request_correction, actor=actor_of(people["employee"]),
               work_date=day.isoformat(), check_in="09:00", check_out="17:00", reason="Forgot to check out")
    [req] = inbox(people["manager"].user_id)
    assert req.kind == "correction_request" and "09:00–17:00" in req.body and req.link == "/attendance/approvals"
    run(attendance_service.decide_correction, actor=actor_of(people["manager"]), correction_id=corr.id,
        approve=True, comment="OK")
    [dec] = inbox(people["employee"].user_id)
    assert dec.kind == "correction_decision" and dec.title.endswith("was approved") and "OK" in dec.body


# ---------------------------------------------------------------- payload handling


def test_recipients_in_the_payload_are_used_as_given(people, org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-11")
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": org.id, "leave_id": req.id,
                                           "requester_user_id": people["employee"].user_id,
                                           "approver_user_ids": [people["hr_manager"].user_id]})
    assert len(inbox(people["hr_manager"].user_id)) == 1 and inbox(people["manager"].user_id) == []


def test_missing_approvers_fall_back_to_the_reporting_manager(people, org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-11")
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": org.id, "leave_id": req.id})
    assert len(inbox(people["manager"].user_id)) == 1


def test_a_request_at_the_hr_step_goes_to_hr(people, org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-20", step=2,
                    steps_required=2)
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": org.id, "leave_id": req.id})
    assert len(inbox(people["hr_manager"].user_id)) == 1 and inbox(people["manager"].user_id) == []


def test_a_first_step_approval_tells_the_requester_and_the_next_approver(people, org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-20", step=2,
                    steps_required=2)
    events.dispatch(events.LEAVE_APPROVED, {"organization_id": org.id, "leave_id": req.id, "status": "approved",
                                            "actor_user_id": people["manager"].user_id,
                                            "next_approver_user_ids": [people["hr_manager"].user_id]})
    [mine] = inbox(people["employee"].user_id)
    assert "now waits for HR" in mine.title
    [hr] = inbox(people["hr_manager"].user_id)
    assert hr.kind == "leave_request"


@pytest.mark.parametrize("payload", [{}, {"organization_id": 1}, {"leave_id": "x", "organization_id": None},
                                     {"leave_id": 999999, "organization_id": 1}])
def test_unusable_payloads_are_logged_and_skipped_without_a_retry(people, payload, caplog):
    events.dispatch(events.LEAVE_APPLIED, payload)
    events.dispatch(events.CORRECTION_DECIDED, payload)
    with Session(get_engine()) as s:
        assert s.exec(select(ListenerFailure)).all() == []
    assert "skipped" in caplog.text


def test_a_leave_of_another_organization_is_not_announced(people, org, other_org, leave_type):
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-11")
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": other_org.id, "leave_id": req.id})
    assert inbox(people["manager"].user_id) == []


# ---------------------------------------------------------------- durable listeners: recorded and retried


def _failures() -> list[ListenerFailure]:
    with Session(get_engine()) as s:
        return list(s.exec(select(ListenerFailure).order_by(ListenerFailure.id)).all())


def _break_delivery(monkeypatch, times: int):
    real = service.deliver
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] <= times:
            raise RuntimeError("database hiccup")
        return real(*a, **kw)

    monkeypatch.setattr(service, "deliver", flaky)
    return calls


def test_a_failing_listener_never_breaks_the_action_and_is_retried_later(people, unpaid, monkeypatch):
    _break_delivery(monkeypatch, times=1)
    leave = _apply(people["employee"], unpaid, _next_weekday(19))  # the action succeeds
    assert leave.id and inbox(people["manager"].user_id) == []
    [failure] = _failures()
    assert failure.status == "pending" and failure.event_name == events.LEAVE_APPLIED
    assert "database hiccup" in failure.last_error and failure.payload["leave_id"] == leave.id
    # Not due yet: nothing happens.
    with Session(get_engine()) as s:
        assert reliable.retry_failed_listeners(session=s, now=utcnow()) == 0
        assert reliable.retry_failed_listeners(session=s, now=utcnow() + dt.timedelta(minutes=2)) == 1
    assert [n.kind for n in inbox(people["manager"].user_id)] == ["leave_request"]
    [failure] = _failures()
    assert failure.status == "done" and failure.attempts == 2 and failure.last_error is None


def test_a_listener_that_keeps_failing_backs_off_and_ends_failed(people, org, leave_type, monkeypatch):
    _break_delivery(monkeypatch, times=100)
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-11")
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": org.id, "leave_id": req.id})
    now = utcnow()
    delays = []
    for _ in range(10):
        [row] = _failures()
        if row.status != "pending":
            break
        now = max(now, row.next_attempt_at.replace(tzinfo=dt.UTC) if row.next_attempt_at.tzinfo is None
                  else row.next_attempt_at) + dt.timedelta(seconds=1)
        with Session(get_engine()) as s:
            reliable.retry_failed_listeners(session=s, now=now)
        [after] = _failures()
        delays.append(after.attempts)
    [row] = _failures()
    assert row.status == "failed" and row.attempts == 5 and "database hiccup" in row.last_error
    assert delays == [2, 3, 4, 5]
    assert reliable.backoff(1) < reliable.backoff(2) < reliable.backoff(3)


def test_a_retry_of_a_listener_that_no_longer_exists_ends_failed(clean_database):
    with Session(get_engine()) as s:
        s.add(ListenerFailure(event_name="x.y", listener="gone.module.fn", payload={}, next_attempt_at=utcnow()))
        s.commit()
    with Session(get_engine()) as s:
        assert reliable.retry_failed_listeners(session=s, now=utcnow() + dt.timedelta(seconds=1)) == 0
    [row] = _failures()
    assert row.status == "failed" and "no longer exists" in row.last_error


@pytest.mark.race
def test_two_processes_retrying_at_once_run_a_failed_listener_once(people, org, leave_type, monkeypatch):
    _break_delivery(monkeypatch, times=1)
    req = add_leave(org, people["employee"], leave_type, start="2030-03-11", end="2030-03-11")
    events.dispatch(events.LEAVE_APPLIED, {"organization_id": org.id, "leave_id": req.id})
    due = utcnow() + dt.timedelta(minutes=5)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def worker():
        with Session(get_engine()) as s:
            barrier.wait()
            results.append(reliable.retry_failed_listeners(session=s, now=due))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(inbox(people["manager"].user_id)) == 1


def test_listeners_are_subscribed_once_and_durably():
    for name, fn in listeners.SUBSCRIPTIONS:
        wrapped = [f for f in events._listeners[name] if getattr(f, "__wrapped__", None) is fn]
        assert len(wrapped) == 1, name
        assert wrapped[0] in events._background, name  # off the committing request (event worker)
    listeners.subscribe_all()
    assert all(len([f for f in events._listeners[n] if getattr(f, "__wrapped__", None) is fn]) == 1
               for n, fn in listeners.SUBSCRIPTIONS)
