"""Fixtures of the notification tests: actors, a committed-transaction runner, direct builders for
leave requests and attendance rows (so these tests do not depend on the leave/attendance rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from hr_portal.core import events
from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.notifications.models import Notification
from tests import factories


def actor_of(person: factories.Person) -> Actor:
    return Actor(user_id=person.user_id, organization_id=person.organization_id, role=person.role,
                 employee_id=person.employee_id, email=person.email)


def run(fn: Callable[..., Any], **kw: Any) -> Any:
    """Call a service in its own committed transaction (as the API and UI do)."""
    with Session(get_engine(), expire_on_commit=False) as s:
        try:
            result = fn(session=s, **kw)
            s.commit()
            return result
        except BaseException:
            s.rollback()
            raise


def inbox(user_id: int) -> list[Notification]:
    """The user's notifications, once the background listeners have handled every event so far."""
    events.drain()
    with Session(get_engine()) as s:
        return list(s.exec(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id)).all())


@pytest.fixture
def actors(people) -> dict[str, Actor]:
    return {k: actor_of(p) for k, p in people.items()}


@pytest.fixture
def leave_type(org) -> Any:
    from hr_portal.leave.models import LeaveType

    with Session(get_engine(), expire_on_commit=False) as s:
        t = LeaveType(organization_id=org.id, name="Annual", yearly_entitlement=25)
        s.add(t)
        s.commit()
        return t


def add_leave(org, person, leave_type, *, start: str, end: str, status: str = "pending", days: float = 1,
              created_at: dt.datetime | None = None, step: int = 1, steps_required: int = 1) -> Any:
    from hr_portal.leave.models import LeaveRequest, LeaveStatus

    with Session(get_engine(), expire_on_commit=False) as s:
        req = LeaveRequest(organization_id=org.id, employee_id=person.employee_id, leave_type_id=leave_type.id,
                           start_date=dt.date.fromisoformat(start), end_date=dt.date.fromisoformat(end), days=days,
                           status=LeaveStatus(status), requester_user_id=person.user_id, step=step,
                           steps_required=steps_required, reason="Family trip")
        if created_at is not None:
            req.created_at = created_at
        s.add(req)
        s.commit()
        return req
