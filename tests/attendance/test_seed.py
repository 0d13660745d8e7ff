"""The demo's attendance (attendance/seed.py) on any day it is seeded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from hr_portal.attendance import seed as attendance_seed
from hr_portal.attendance.models import AttendanceCorrection, AttendanceRecord
from hr_portal.core.db import get_engine, session_scope
from hr_portal.employees.models import Employee
from hr_portal.seed import seed_demo


# 2026-11-26 23:30 UTC: the random days off fell on the demo employee's forgotten check-out, and seeding
# failed (the e2e servers seed the demo at start, so the browser tests failed that evening).
@pytest.mark.parametrize("now", ["2026-11-26T23:30:00", "2026-11-27T02:00:00", "2026-03-02T08:00:00"])
def test_the_demo_seeds_its_special_days_whatever_the_date(clean_database, monkeypatch, now):
    when = dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC)
    monkeypatch.setattr(attendance_seed, "utcnow", lambda: when)
    with session_scope() as s:
        seed_demo(s)
    with Session(get_engine()) as s:
        demo = s.exec(select(Employee).where(Employee.email == attendance_seed.DEMO_EMPLOYEE)).one()
        correction = s.exec(select(AttendanceCorrection).where(AttendanceCorrection.employee_id == demo.id)).one()
        forgot = s.exec(select(AttendanceRecord).where(AttendanceRecord.employee_id == demo.id,
                                                       AttendanceRecord.work_date == correction.work_date)).one()
    assert forgot.system_closed and correction.work_date < when.date()
