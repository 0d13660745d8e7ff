"""Attendance test helpers: actors, local times, shifts, approved leave, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from hr_portal.attendance.models import Shift
from hr_portal.auth import service as auth_service
from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.org.models import Holiday
from tests import factories


def actor_of(session: Session, person: factories.Person, *, ip: str | None = "203.0.113.7",
             user_agent: str | None = "pytest-browser/1.0") -> Actor:
    user = session.get(auth_service.User, person.user_id)
    return auth_service.actor_for(session, user, ip=ip, user_agent=user_agent)


def local(tz: str, y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A wall-clock time in `tz`, as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def add_shift(session: Session, org: factories.OrgBundle, *, name: str = "Custom", start: time = time(9, 0),
              end: time = time(17, 30), grace: int = 10, half_day: float = 4.0, tolerance: int = 60,
              default: bool = True) -> Shift:
    shift = Shift(organization_id=org.id, company_id=org.company.id, name=name, start_time=start, end_time=end,
                  grace_minutes=grace, half_day_hours=half_day, auto_checkout_minutes=tolerance, is_default=default)
    session.add(shift)
    session.flush()
    return shift


def approve_leave(session: Session, person: factories.Person, start: date, end: date | None = None, *,
                  half_day: bool = False):
    """An approved leave request (built directly, as the leave module stores it)."""
    from hr_portal.leave.models import LeaveRequest, LeaveStatus
    from hr_portal.leave.service import ensure_default_types

    leave_type = ensure_default_types(session, person.organization_id)[0]
    req = LeaveRequest(organization_id=person.organization_id, employee_id=person.employee_id,
                       leave_type_id=leave_type.id, start_date=start, end_date=end or start, half_day_start=half_day,
                       days=0.5 if half_day else 1.0, reason="test", status=LeaveStatus.approved)
    session.add(req)
    session.flush()
    return req


def add_holiday(session: Session, org: factories.OrgBundle, day: date, name: str = "Founders' Day") -> Holiday:
    h = Holiday(organization_id=org.id, company_id=org.company.id, date=day, name=name)
    session.add(h)
    session.flush()
    return h


@pytest.fixture
def tz_org(clean_database) -> factories.OrgBundle:
    """An organization whose company is in America/Chicago (UTC-6 in November)."""
    with Session(get_engine(), expire_on_commit=False) as s:
        bundle = factories.create_organization(s, name="Chicago Org", timezone="America/Chicago")
        s.commit()
        return bundle
