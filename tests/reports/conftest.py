"""A small organization with a month of attendance, leave and requests, built directly in the tables the
attendance, leave and employees modules own (as their services store them), so every report figure can
be checked against the modules' own services and against a direct count.

Company in UTC, weekly offs Saturday and Sunday, a holiday on Friday 20 March 2026, default shift
09:00-17:30 (10 min grace). People (managers of the manager's team are transitive):

    admin (no department, no manager)
    ├── hr (People)
    ├── manager (Engineering)
    │   ├── e1 (Engineering): late on 2 and 3 March; pending leave in May
    │   │   └── sub (Engineering): also worked Saturday 7 March
    │   ├── e2 (Engineering): absent 4 March, half day 5 March; pending correction
    │   ├── e3 (Engineering): approved annual leave 9-11 March, half a sick day and late on 12 March
    │   ├── joiner (Engineering): joined 10 March 2026
    │   └── leaver (Engineering): deactivated 18 March 2026 10:00 UTC
    └── e4 (Sales): pending leave (at the manager step, approver admin), a rejected one
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session

from hr_portal.attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceStatus, Shift
from hr_portal.auth.models import Role
from hr_portal.core import audit
from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.employees.models import Department, EmployeeStatus
from hr_portal.leave.models import LeaveLedger, LeaveRequest, LeaveStatus, LedgerKind
from hr_portal.leave.service import ensure_default_types
from hr_portal.org.models import Holiday
from tests import factories

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
HOLIDAY = date(2026, 3, 20)
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # a Wednesday, during the shift
EVENING = datetime(2026, 4, 15, 18, 30, tzinfo=UTC)  # the same day after the shift ended
TODAY = NOW.date()
LEFT_AT = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)


def actor_of(person: factories.Person) -> Actor:
    return Actor(user_id=person.user_id, organization_id=person.organization_id, role=person.role,
                 employee_id=person.employee_id, email=person.email)


def working_days(start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        if day.isoweekday() < 6 and day != HOLIDAY:
            out.append(day)
        day += timedelta(days=1)
    return out


@dataclass
class World:
    org: factories.OrgBundle
    people: dict[str, factories.Person]
    departments: dict[str, Department]
    types: dict[str, int]
    requests: dict[str, int] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        return actor_of(self.people[name])

    def emp(self, name: str) -> int:
        return self.people[name].employee_id


def _record(session: Session, person: factories.Person, day: date, *, start: time = time(8, 55),
            end: time | None = time(17, 40), status: AttendanceStatus = AttendanceStatus.present, late: bool = False,
            shift_id: int | None = None) -> AttendanceRecord:
    check_in = datetime.combine(day, start, tzinfo=UTC)
    check_out = datetime.combine(day, end, tzinfo=UTC) if end else None
    rec = AttendanceRecord(organization_id=person.organization_id, employee_id=person.employee_id, work_date=day,
                           check_in=check_in, check_out=check_out, open_since=None if end else check_in,
                           work_seconds=int((check_out - check_in).total_seconds()) if check_out else 0,
                           status=status, is_late=late, shift_id=shift_id)
    session.add(rec)
    return rec


def _leave(session: Session, world: World, name: str, type_name: str, start: date, end: date, days: float,
           status: LeaveStatus, *, half: bool = False, step: int = 1) -> LeaveRequest:
    person = world.people[name]
    req = LeaveRequest(organization_id=world.org.id, employee_id=person.employee_id,
                       leave_type_id=world.types[type_name], start_date=start, end_date=end, half_day_start=half,
                       days=days, reason="test", status=status, step=step, requester_user_id=person.user_id)
    session.add(req)
    session.flush()
    if status == LeaveStatus.approved:
        session.add(LeaveLedger(organization_id=world.org.id, employee_id=person.employee_id,
                                leave_type_id=world.types[type_name], year=start.year, entry_date=start,
                                kind=LedgerKind.taken, amount=-days, leave_request_id=req.id))
    return req


def build_world(session: Session) -> World:
    org = factories.create_organization(session, name="Reports Org")
    depts = {n: factories.create_department(session, org, name=n) for n in ("Engineering", "People", "Sales")}
    mk = factories.create_person
    admin = mk(session, org, role=Role.admin, first_name="Ada", date_of_joining=date(2020, 1, 6))
    people = {
        "admin": admin,
        "hr": mk(session, org, role=Role.hr_manager, first_name="Hana", manager=admin, department=depts["People"],
                 date_of_joining=date(2021, 3, 1)),
        "manager": mk(session, org, role=Role.manager, first_name="Max", manager=admin,
                      department=depts["Engineering"], date_of_joining=date(2021, 6, 1)),
    }
    eng = depts["Engineering"]
    for name, joined in (("e1", date(2024, 1, 15)), ("e2", date(2024, 2, 1)), ("e3", date(2025, 5, 5)),
                         ("joiner", date(2026, 3, 10)), ("leaver", date(2024, 1, 15))):
        people[name] = mk(session, org, first_name=name.title(), manager=people["manager"], department=eng,
                          date_of_joining=joined)
    people["sub"] = mk(session, org, first_name="Sub", manager=people["e1"], department=eng,
                       date_of_joining=date(2025, 1, 6))
    people["e4"] = mk(session, org, first_name="Erin", manager=admin, department=depts["Sales"],
                      date_of_joining=date(2025, 9, 1))
    # Birthdays and anniversaries around NOW (15 April): e1's birthday tomorrow, e2's joining anniversary in 3 days.
    people["e1"].employee.date_of_birth = date(1990, 4, 16)
    people["e2"].employee.date_of_joining = date(2024, 4, 18)
    session.add_all([people["e1"].employee, people["e2"].employee])
    session.add(Holiday(organization_id=org.id, company_id=org.company.id, date=HOLIDAY, name="Founders' Day"))
    shift = Shift(organization_id=org.id, company_id=org.company.id, name="Standard", start_time=time(9, 0),
                  end_time=time(17, 30), grace_minutes=10, half_day_hours=4.0, auto_checkout_minutes=60,
                  is_default=True)
    session.add(shift)
    session.flush()
    types = {t.name: t.id for t in ensure_default_types(session, org.id)}
    world = World(org, people, depts, types)

    # The leaver: deactivated on 18 March (as employees.service.deactivate_employee records it).
    leaver = people["leaver"].employee
    leaver.status = EmployeeStatus.inactive
    session.add(leaver)
    entry = audit.record(session, action="employee.deactivated", organization_id=org.id, entity_type="employee",
                         entity_id=leaver.id, changes={"status": ["active", "inactive"]})
    entry.created_at = LEFT_AT
    session.flush()

    # Entitlements for 2026 (Annual 24, Sick 10) for everyone but the leaver.
    for name, person in people.items():
        if name == "leaver":
            continue
        for type_name, amount in (("Annual", 24.0), ("Sick", 10.0)):
            session.add(LeaveLedger(organization_id=org.id, employee_id=person.employee_id,
                                    leave_type_id=types[type_name], year=2026, entry_date=date(2026, 1, 1),
                                    kind=LedgerKind.allocation, amount=amount))

    # March attendance.
    special = {("e2", date(2026, 3, 4)), ("e3", date(2026, 3, 9)), ("e3", date(2026, 3, 10)),
               ("e3", date(2026, 3, 11))}
    for name, person in people.items():
        joined = person.employee.date_of_joining
        for day in working_days(*MARCH):
            if (name, day) in special or (joined and day < joined):
                continue
            if name == "leaver" and day >= LEFT_AT.date():
                continue
            if name == "e1" and day in (date(2026, 3, 2), date(2026, 3, 3)):
                _record(session, person, day, start=time(9, 25), status=AttendanceStatus.late, late=True,
                        shift_id=shift.id)
            elif name == "e2" and day == date(2026, 3, 5):
                _record(session, person, day, start=time(9, 0), end=time(12, 0), status=AttendanceStatus.half_day,
                        shift_id=shift.id)
            elif name == "e3" and day == date(2026, 3, 12):
                _record(session, person, day, start=time(13, 30), status=AttendanceStatus.late, late=True,
                        shift_id=shift.id)
            else:
                _record(session, person, day, shift_id=shift.id)
    _record(session, people["sub"], date(2026, 3, 7), start=time(10, 0), end=time(14, 0), shift_id=shift.id)

    # Leave: approved (with the ledger's taken lines), pending, rejected, and a cancelled one returned.
    world.requests["e3_annual"] = _leave(session, world, "e3", "Annual", date(2026, 3, 9), date(2026, 3, 11), 3.0,
                                         LeaveStatus.approved).id
    world.requests["e3_sick"] = _leave(session, world, "e3", "Sick", date(2026, 3, 12), date(2026, 3, 12), 0.5,
                                       LeaveStatus.approved, half=True).id
    world.requests["e1_pending"] = _leave(session, world, "e1", "Annual", date(2026, 5, 4), date(2026, 5, 6), 3.0,
                                          LeaveStatus.pending).id
    world.requests["e4_pending"] = _leave(session, world, "e4", "Annual", date(2026, 4, 20), date(2026, 4, 21), 2.0,
                                          LeaveStatus.pending).id
    world.requests["e4_rejected"] = _leave(session, world, "e4", "Sick", date(2026, 3, 16), date(2026, 3, 16), 1.0,
                                           LeaveStatus.rejected).id
    cancelled = _leave(session, world, "e2", "Annual", date(2026, 2, 2), date(2026, 2, 3), 2.0,
                       LeaveStatus.approved)
    cancelled.status = LeaveStatus.cancelled
    session.add(cancelled)
    session.add(LeaveLedger(organization_id=org.id, employee_id=people["e2"].employee_id,
                            leave_type_id=types["Annual"], year=2026, entry_date=date(2026, 2, 2),
                            kind=LedgerKind.cancelled, amount=2.0, leave_request_id=cancelled.id))
    # Approved leave on NOW's day for e3, and a pending correction by e2.
    _leave(session, world, "e3", "Annual", TODAY, TODAY, 1.0, LeaveStatus.approved)
    session.add(AttendanceCorrection(
        organization_id=org.id, employee_id=people["e2"].employee_id, work_date=date(2026, 3, 4),
        check_in=datetime(2026, 3, 4, 9, 0, tzinfo=UTC), check_out=datetime(2026, 3, 4, 17, 0, tzinfo=UTC),
        reason="Forgot my phone", requested_by_user_id=people["e2"].user_id))

    # NOW's day: e1 in (late, open), e2 in and out, manager in (open), hr in (open).
    _record(session, people["e1"], TODAY, start=time(9, 40), end=None, status=AttendanceStatus.late, late=True,
            shift_id=shift.id)
    _record(session, people["e2"], TODAY, start=time(8, 50), end=time(11, 0), shift_id=shift.id)
    _record(session, people["manager"], TODAY, start=time(8, 45), end=None, shift_id=shift.id)
    _record(session, people["hr"], TODAY, start=time(8, 58), end=None, shift_id=shift.id)
    session.flush()
    return world


@pytest.fixture
def world(clean_database) -> World:
    with Session(get_engine(), expire_on_commit=False) as session:
        built = build_world(session)
        session.commit()
        return built
