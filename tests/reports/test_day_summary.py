"""The per-day attendance rollup (`attendance_day_summary`, kept by database triggers) equals a direct count
of the records after every kind of change the modules make (punches, check-out, auto check-out, corrections,
a person moving department or company, deletions), and the organization-wide attendance report built on it
still equals attendance's own derived days, including after leave changes. Also the streamed monthly sheet
CSV, cell by cell and total by total, against attendance's `derive_days`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import case, delete, func, text, update
from sqlmodel import Session, select

from hr_portal.attendance import service as attendance
from hr_portal.attendance.models import AttendanceRecord, AttendanceStatus
from hr_portal.core.db import get_engine
from hr_portal.employees import service as employees
from hr_portal.employees.models import Employee, EmployeeStatus, EmployeeUpdate
from hr_portal.leave.models import LeaveStatus
from hr_portal.org.models import Company
from hr_portal.reports import service as reports
from hr_portal.reports.models import DAY_SUMMARY_SLOTS, AttendanceDaySummary
from tests.reports.conftest import EVENING, MARCH, NOW, World, _leave
from tests.reports.test_service import _expected_attendance, march, run

APRIL = (date(2026, 4, 1), date(2026, 4, 14))


def _direct(s: Session, org_id: int) -> dict[tuple, tuple]:
    rows = s.exec(
        select(AttendanceRecord.work_date, Employee.company_id, Employee.department_id, func.count(),
               func.sum(case((AttendanceRecord.status == AttendanceStatus.late, 1), else_=0)),
               func.sum(case((AttendanceRecord.status == AttendanceStatus.half_day, 1), else_=0)),
               func.sum(AttendanceRecord.work_seconds))
        .join(Employee, Employee.id == AttendanceRecord.employee_id)
        .where(AttendanceRecord.organization_id == org_id)
        .group_by(AttendanceRecord.work_date, Employee.company_id, Employee.department_id)).all()
    return {(d, c, dept or 0): (int(n), int(late), int(half), int(secs)) for d, c, dept, n, late, half, secs in rows}


def _summary(s: Session, org_id: int) -> dict[tuple, tuple]:
    sm = AttendanceDaySummary
    rows = s.exec(select(sm.work_date, sm.company_id, sm.department_id, sm.records, sm.late, sm.half_day,
                         sm.work_seconds).where(sm.organization_id == org_id)).all()
    out: dict[tuple, tuple] = {}
    for d, c, dept, n, late, half, secs in rows:  # a key's slots, summed
        out[(d, c, dept)] = tuple(a + b for a, b in zip(out.get((d, c, dept), (0, 0, 0, 0)), (n, late, half, secs)))
    return {k: v for k, v in out.items() if v != (0, 0, 0, 0)}


def assert_exact(org_id: int) -> None:
    with Session(get_engine()) as s:
        direct = _direct(s, org_id)
        assert direct, "no records: the comparison would prove nothing"
        assert _summary(s, org_id) == direct


def _hr_totals(world: World, filters: reports.Filters | None = None) -> dict:
    data = run(reports.attendance_report, actor=world.actor("hr"), filters=filters or march(world), now=NOW)
    return data


def _check_march_report(world: World) -> None:
    t = _hr_totals(world)["totals"]
    expected = _expected_attendance(world, tuple(world.people))
    assert {k: t[k] for k in expected} == expected


def test_the_migration_fills_the_rollup_and_triggers_keep_the_built_world_exact(world):
    assert_exact(world.org.id)
    _check_march_report(world)


def test_check_in_check_out_and_auto_check_out_keep_it_exact(world):
    e4 = world.actor("e4")
    with Session(get_engine(), expire_on_commit=False) as s:
        attendance.check_in(session=s, actor=e4, now=datetime(2026, 4, 6, 9, 30, tzinfo=UTC))  # late
        s.commit()
    assert_exact(world.org.id)
    with Session(get_engine(), expire_on_commit=False) as s:
        attendance.check_out(session=s, actor=e4, now=datetime(2026, 4, 6, 12, 0, tzinfo=UTC))  # a half day
        s.commit()
    assert_exact(world.org.id)
    with Session(get_engine()) as s:
        rec = s.exec(select(AttendanceRecord).where(AttendanceRecord.employee_id == world.emp("e4"),
                                                    AttendanceRecord.work_date == date(2026, 4, 6))).one()
        assert rec.status == AttendanceStatus.half_day
    # Check in again the same day (the record re-opens), then the forgotten check-outs are closed by the job.
    with Session(get_engine(), expire_on_commit=False) as s:
        attendance.check_in(session=s, actor=e4, now=datetime(2026, 4, 6, 13, 0, tzinfo=UTC))
        s.commit()
    assert_exact(world.org.id)
    with Session(get_engine(), expire_on_commit=False) as s:
        closed = attendance.auto_close_open_records(session=s, now=datetime(2026, 4, 16, 9, 0, tzinfo=UTC))
        s.commit()
    assert closed >= 3  # e4 on 6 April, and e1, manager, hr on 15 April
    assert_exact(world.org.id)
    april = reports.make_filters(start=APRIL[0], end=APRIL[1])
    daily = {r["date"]: r for r in _hr_totals(world, april)["daily"]}
    assert daily["2026-04-06"]["present"] == 1


def test_two_people_of_one_department_check_in_at_once_without_waiting_for_each_other(world):
    """The rollup row of a department and day is split in slots by person: a punch holds its slot's row
    until it commits, and another person's punch in the same department must not wait for that commit."""
    if get_engine().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is nothing to wait on but its database lock")
    e2, e3 = world.actor("e2"), world.actor("e3")
    assert world.people["e2"].employee.department_id == world.people["e3"].employee.department_id
    assert world.emp("e2") % DAY_SUMMARY_SLOTS != world.emp("e3") % DAY_SUMMARY_SLOTS
    at = datetime(2026, 4, 7, 8, 55, tzinfo=UTC)
    with Session(get_engine(), expire_on_commit=False) as first, Session(get_engine(), expire_on_commit=False) as second:
        attendance.check_in(session=first, actor=e2, now=at)  # not committed yet: its rows stay locked
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        attendance.check_in(session=second, actor=e3, now=at)  # raised LockNotAvailable with one row per key
        second.commit()
        first.commit()
    assert_exact(world.org.id)


def test_an_approved_correction_keeps_it_exact_and_shows_in_the_report(world):
    before = _hr_totals(world)["totals"]
    with Session(get_engine(), expire_on_commit=False) as s:
        pending, _total = attendance.list_corrections(session=s, actor=world.actor("hr"), status="pending")
        correction_id = pending[0].id
        attendance.decide_correction(session=s, actor=world.actor("manager"), correction_id=correction_id,
                                     approve=True, now=NOW)
        s.commit()
    assert_exact(world.org.id)
    after = _hr_totals(world)["totals"]
    assert (after["present"], after["absent"]) == (before["present"] + 1, before["absent"] - 1)
    _check_march_report(world)


def test_moving_a_person_to_another_department_or_company_moves_their_days(world):
    with Session(get_engine(), expire_on_commit=False) as s:
        employees.update_employee(session=s, actor=world.actor("hr"), employee_id=world.emp("e1"),
                                  data=EmployeeUpdate(department_id=world.departments["Sales"].id))
        s.commit()
    assert_exact(world.org.id)
    by = {r["department"]: r for r in _hr_totals(world)["by_department"]}
    sales = _expected_attendance(world, ("e1", "e4"))
    assert {k: by["Sales"][k] for k in sales} == sales
    sales_only = run(reports.attendance_report, actor=world.actor("hr"),
                     filters=march(world, department_id=world.departments["Sales"].id), now=NOW)["totals"]
    assert {k: sales_only[k] for k in sales} == sales
    # No department at all, then another company (the key is company and department).
    with Session(get_engine(), expire_on_commit=False) as s:
        s.exec(update(Employee).where(Employee.id == world.emp("e2")).values(department_id=None))
        other = Company(organization_id=world.org.id, name="Second Co", timezone="UTC")
        s.add(other)
        s.flush()
        s.exec(update(Employee).where(Employee.id == world.emp("e3")).values(company_id=other.id))
        s.commit()
    assert_exact(world.org.id)
    _check_march_report(world)


def test_deleting_and_bulk_updating_records_keeps_it_exact(world):
    with Session(get_engine(), expire_on_commit=False) as s:
        s.exec(delete(AttendanceRecord).where(AttendanceRecord.employee_id == world.emp("sub"),
                                              AttendanceRecord.work_date <= date(2026, 3, 10)))
        s.exec(update(AttendanceRecord).where(AttendanceRecord.employee_id == world.emp("e2"),
                                              AttendanceRecord.work_date >= date(2026, 3, 23))
               .values(status=AttendanceStatus.late, work_seconds=AttendanceRecord.work_seconds - 600))
        s.exec(update(AttendanceRecord).where(AttendanceRecord.employee_id == world.emp("e4"),
                                              AttendanceRecord.work_date == date(2026, 3, 24))
               .values(work_date=date(2026, 3, 28)))  # to a Saturday (left out of the report, kept in the rollup)
        s.commit()
    assert_exact(world.org.id)
    _check_march_report(world)


def test_leave_approved_or_cancelled_later_changes_the_report_like_attendance(world):
    with Session(get_engine(), expire_on_commit=False) as s:
        # e1 was late on 2 March: approved leave that day makes the day present (not late) in attendance.
        _leave(s, world, "e1", "Annual", date(2026, 3, 2), date(2026, 3, 2), 1.0, LeaveStatus.approved)
        # e2 was absent on 4 March: now on leave.
        req = _leave(s, world, "e2", "Sick", date(2026, 3, 4), date(2026, 3, 4), 1.0, LeaveStatus.approved)
        s.commit()
        req_id = req.id
    data = _hr_totals(world)
    days = {r["date"]: r for r in data["daily"]}
    assert days["2026-03-02"]["late"] == 0 and days["2026-03-04"]["on_leave"] == 1
    _check_march_report(world)
    with Session(get_engine(), expire_on_commit=False) as s:
        from hr_portal.leave.models import LeaveRequest

        s.exec(update(LeaveRequest).where(LeaveRequest.id == req_id).values(status=LeaveStatus.cancelled))
        s.commit()
    days = {r["date"]: r for r in _hr_totals(world)["daily"]}
    assert days["2026-03-04"]["on_leave"] == 0 and days["2026-03-04"]["absent"] == 1
    _check_march_report(world)


def test_rebuilding_the_rollup_gives_the_same_rows(world):
    with Session(get_engine(), expire_on_commit=False) as s:
        attendance.check_in(session=s, actor=world.actor("e4"), now=datetime(2026, 4, 7, 8, 59, tzinfo=UTC))
        s.commit()
        kept = _summary(s, world.org.id)
        assert reports.rebuild_day_summary(s) > 0
        s.commit()
        assert _summary(s, world.org.id) == kept == _direct(s, world.org.id)


# ================================================================ the streamed monthly sheet CSV


@pytest.mark.parametrize("now", [NOW, EVENING], ids=["during-shift", "after-shift"])
@pytest.mark.parametrize("month", [date(2026, 3, 1), date(2026, 4, 1)], ids=["march", "april"])
@pytest.mark.parametrize("who", ["hr", "manager"])
def test_sheet_csv_equals_attendance_derived_days_cell_by_cell(world, now, month, who):
    _, text = run(reports.monthly_sheet_csv, actor=world.actor(who), month=month, now=now)
    rows = [r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("E-")]
    first, last = attendance.month_bounds(month)
    with Session(get_engine(), expire_on_commit=False) as s:
        members = list(s.exec(reports._sheet_query(world.actor(who), None, None)
                              .order_by(Employee.first_name, Employee.last_name, Employee.id)).all())
        people = attendance.derive_days(s, attendance.Calendar(s, world.org.id), members, first, last, now=now)
    assert len(rows) == len(people) > 0
    for row, p in zip(rows, people, strict=True):
        t = p.totals
        assert row[0] == p.employee.employee_code and row[1] == p.employee.full_name
        assert row[3:3 + len(p.days)] == [attendance.STATUS_CODES.get(d.status, "") for d in p.days], row[1]
        assert row[3 + len(p.days):] == [str(v) for v in (
            t.working_days, t.present_days, t.late_days, t.half_days, t.absent_days, round(t.leave_days, 2),
            t.holidays, attendance.hours(t.seconds))], row[1]


def test_sheet_csv_streams_in_chunks_of_people(world, monkeypatch):
    monkeypatch.setattr(reports, "SHEET_CSV_CHUNK", 4)
    with Session(get_engine(), expire_on_commit=False) as s:
        name, chunks = reports.monthly_sheet_csv_stream(session=s, actor=world.actor("hr"), month=date(2026, 3, 1),
                                                        now=NOW)
        parts = list(chunks)
    assert name == "attendance-sheet-2026-03.csv" and len(parts) == 3  # 9 active people: 4 + 4 + 1 and codes
    whole = run(reports.monthly_sheet_csv, actor=world.actor("hr"), month=date(2026, 3, 1), now=NOW)[1]
    assert "".join(parts) == whole


def test_sheet_csv_leaves_out_people_who_left(world):
    with Session(get_engine()) as s:
        active = s.exec(select(func.count()).select_from(Employee).where(
            Employee.organization_id == world.org.id, Employee.status == EmployeeStatus.active)).one()
    _, text = run(reports.monthly_sheet_csv, actor=world.actor("hr"), month=date(2026, 3, 1), now=NOW)
    assert len([r for r in csv.reader(io.StringIO(text)) if r and r[0].startswith("E-")]) == active
    assert MARCH[0] < NOW.date() - timedelta(days=1)
