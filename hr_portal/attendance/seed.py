"""Demo attendance: the default shift of each company (09:00–17:30 local, 10 min grace, 4 h half-day
threshold, 60 min auto check-out tolerance) and the last 30 days of punches for everyone.

Deterministic for a given day (a fixed random seed; dates relative to today in each company's time
zone) and inserted in bulk. Today is included only once its working day is over (after 18:30 local);
before that it is left empty, so every demo person can check in. The story:
mostly on time, some late arrivals, one half day, one absence, and employee@acme.example forgot to
check out three working days ago (closed automatically) and asked for a correction, which is pending
with her manager (manager@acme.example).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session, select

from hr_portal.attendance.models import (
    AttendanceCorrection,
    AttendancePunch,
    AttendanceRecord,
    AttendanceStatus,
    PunchKind,
    PunchSource,
)
from hr_portal.attendance.service import ensure_default_shift
from hr_portal.core.db import utcnow
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.org.models import Company
from hr_portal.org.service import day_kinds

DAYS_BACK = 30
DEMO_EMPLOYEE = "employee@acme.example"
OFFICE = {"Europe/Berlin": (52.5208, 13.4094), "America/Chicago": (41.8837, -87.6325)}
UA = "Mozilla/5.0 (demo seed)"


def seed(session: Session, organization_id: int) -> None:
    rng = random.Random(4242)
    now = utcnow()
    companies = {c.id: c for c in session.exec(select(Company).where(Company.organization_id == organization_id))}
    shifts = {}
    for company in companies.values():
        shift = ensure_default_shift(session, company)
        shift.start_time, shift.end_time, shift.grace_minutes = time(9, 0), time(17, 30), 10
        shift.half_day_hours, shift.auto_checkout_minutes = 4.0, 60
        session.add(shift)
        shifts[company.id] = shift
    session.flush()

    people = list(session.exec(select(Employee).where(Employee.organization_id == organization_id,
                                                      Employee.status == EmployeeStatus.active)
                               .order_by(Employee.id)))
    kinds = {}
    for company in companies.values():
        tz = ZoneInfo(company.timezone)
        today = now.astimezone(tz).date()
        # Today counts only once its working day is over (shift end + the auto check-out tolerance), so
        # nobody is left open and, before that, everyone can check in from a clean slate.
        day_over = now >= datetime.combine(today, time(18, 30), tzinfo=tz).astimezone(UTC)
        last = today if day_over else today - timedelta(days=1)
        kinds[company.id] = day_kinds(session, company, today - timedelta(days=DAYS_BACK), last)

    # The special days: one absence, one half day, and the demo employee's forgotten check-out.
    workdays = {cid: sorted(d for d, k in kinds[cid].items() if k == "working") for cid in companies}
    absent = (people[len(people) // 2].id, workdays[people[len(people) // 2].company_id][-5])
    half = (people[len(people) // 3].id, workdays[people[len(people) // 3].company_id][-4])
    demo = next((p for p in people if p.email == DEMO_EMPLOYEE), None)
    forgot = (demo.id, workdays[demo.company_id][-3]) if demo else None

    rows, punches = [], []
    for person in people:
        company = companies[person.company_id]
        tz = ZoneInfo(company.timezone)
        punctual = rng.random() < 0.7
        for day in workdays[company.id]:
            if person.date_of_joining and day < person.date_of_joining:
                continue
            key = (person.id, day)
            # A random day off now and then, never on the special days (the demo's forgotten check-out has a
            # correction waiting for it; which days fall out depends on the date the demo is seeded on).
            if key == absent or (rng.random() < 0.02 and key not in (forgot, half)):
                continue
            arrive = 8 * 60 + 35 + rng.randint(0, 30 if punctual else 40)
            if (person.id + day.toordinal()) % 17 == 0:
                arrive = 9 * 60 + 12 + rng.randint(0, 25)  # a late day for a few people
            stay = rng.randint(8 * 60 + 15, 9 * 60 + 20)
            if key == half:
                arrive, stay = 9 * 60, 3 * 60 + 30
            start = datetime.combine(day, time(arrive // 60, arrive % 60), tzinfo=tz).astimezone(UTC)
            end = start + timedelta(minutes=stay)
            system_closed = key == forgot
            if system_closed:
                end = datetime.combine(day, time(17, 30), tzinfo=tz).astimezone(UTC)
            seconds = int((end - start).total_seconds())
            late = start > datetime.combine(day, time(9, 10), tzinfo=tz).astimezone(UTC)
            status = (AttendanceStatus.half_day if seconds < 4 * 3600 else
                      AttendanceStatus.late if late else AttendanceStatus.present)
            rows.append({"organization_id": organization_id, "employee_id": person.id, "work_date": day,
                         "check_in": start, "check_out": end, "open_since": None, "work_seconds": seconds,
                         "status": status, "is_late": late, "shift_id": shifts[company.id].id,
                         "system_closed": system_closed, "corrected": False, "notes": None,
                         "created_at": start, "updated_at": end})
            jitter = (rng.uniform(-0.0004, 0.0004), rng.uniform(-0.0004, 0.0004))
            punches.append((key, PunchKind.check_in, start, PunchSource.web, jitter))
            punches.append((key, PunchKind.check_out, end, PunchSource.system if system_closed else PunchSource.web,
                            jitter))
    if not rows:
        return
    session.execute(insert(AttendanceRecord), rows)
    ids = {(emp_id, day): rec_id for rec_id, emp_id, day in session.exec(
        select(AttendanceRecord.id, AttendanceRecord.employee_id, AttendanceRecord.work_date)
        .where(AttendanceRecord.organization_id == organization_id))}
    tz_of = {p.id: companies[p.company_id].timezone for p in people}
    punch_rows = []
    for (emp_id, day), kind, at, source, (dlat, dlon) in punches:
        lat, lon = OFFICE.get(tz_of[emp_id], (None, None))
        web = source == PunchSource.web
        punch_rows.append({"organization_id": organization_id, "employee_id": emp_id, "record_id": ids[(emp_id, day)],
                           "kind": kind, "at": at, "source": source, "ip": "198.51.100.20" if web else None,
                           "user_agent": UA if web else None,
                           "latitude": lat + dlat if web and lat is not None else None,
                           "longitude": lon + dlon if web and lon is not None else None,
                           "accuracy_m": 25.0 if web and lat is not None else None, "site_id": None,
                           "actor_user_id": None, "created_at": at})
    session.execute(insert(AttendancePunch), punch_rows)
    if demo is not None and forgot is not None:
        tz = ZoneInfo(companies[demo.company_id].timezone)
        rec = next(r for r in rows if (r["employee_id"], r["work_date"]) == forgot)
        session.add(AttendanceCorrection(
            organization_id=organization_id, employee_id=demo.id, work_date=forgot[1], check_in=rec["check_in"],
            check_out=datetime.combine(forgot[1], time(18, 5), tzinfo=tz).astimezone(UTC),
            reason="Forgot to check out after the sprint review; left at 18:05.", requested_by_user_id=demo.user_id,
            created_at=now - timedelta(hours=20)))
    session.flush()
