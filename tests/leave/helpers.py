"""Helpers of the leave tests (dates are in 2030 so that notice rules never depend on the real today)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.leave.models import LeaveType
from tests import factories

# Monday 4 March 2030, 09:00 UTC.
NOW = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def actor_of(person: factories.Person) -> Actor:
    return Actor(user_id=person.user_id, organization_id=person.organization_id, role=person.role,
                 employee_id=person.employee_id, email=person.email)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def update_type(type_id: int, **values) -> None:
    with Session(get_engine()) as s:
        t = s.get(LeaveType, type_id)
        for k, v in values.items():
            setattr(t, k, v)
        s.add(t)
        s.commit()


def run(fn, **kw):
    """Call a service in its own committed transaction (as the API and UI do)."""
    with Session(get_engine(), expire_on_commit=False) as s:
        try:
            result = fn(session=s, **kw)
            s.commit()
            return result
        except BaseException:
            s.rollback()
            raise
