"""Attendance services: punches, shifts and time zones, day statuses, auto check-out, corrections, settings."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlmodel import select

from hr_portal.attendance import service
from hr_portal.attendance.models import (
    AttendanceCorrection,
    AttendancePunch,
    AttendanceRecord,
    AttendanceSite,
    AttendanceStatus,
    CorrectionStatus,
    PunchSource,
    ShiftIn,
    SiteIn,
)
from hr_portal.auth.models import Role
from hr_portal.core.audit import AuditLog
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests import factories
from tests.attendance.conftest import actor_of, add_holiday, add_shift, approve_leave, local
from tests.sql_count import statements

UTC_TZ = "UTC"
MON = date(2026, 11, 2)  # a Monday


def records(db, employee_id):
    return db.exec(select(AttendanceRecord).where(AttendanceRecord.employee_id == employee_id)
                   .order_by(AttendanceRecord.work_date)).all()


# ---------------------------------------------------------------- check in / out


def test_check_in_opens_a_record_and_logs_the_punch_with_ip_user_agent_and_location(db, people):
    emp = people["employee"]
    a = actor_of(db, emp)
    out = service.check_in(session=db, actor=a, latitude=52.52, longitude=13.405, accuracy=12,
                           now=local(UTC_TZ, 2026, 11, 2, 9, 2))
    assert out.status == AttendanceStatus.present and out.check_out is None and out.date == MON
    assert out.check_in == "2026-11-02T09:02:00+00:00"
    punch = db.exec(select(AttendancePunch).where(AttendancePunch.employee_id == emp.employee_id)).one()
    assert (punch.kind.value, punch.source, punch.ip, punch.user_agent) == ("in", PunchSource.web, "203.0.113.7",
                                                                          "pytest-browser/1.0")
    assert (punch.latitude, punch.longitude, punch.accuracy_m) == (52.52, 13.405, 12)
    assert punch.record_id == out.id


def test_second_check_in_while_checked_in_is_a_conflict(db, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    with pytest.raises(Conflict, match="already checked in"):
        service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 1))
    assert len(records(db, people["employee"].employee_id)) == 1


def test_check_out_closes_the_record_with_worked_hours(db, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    out = service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 45))
    assert out.work_hours == 8.75 and out.check_out == "2026-11-02T17:45:00+00:00"
    assert out.status == AttendanceStatus.present


def test_check_out_without_check_in_is_a_conflict(db, people):
    with pytest.raises(Conflict, match="not checked in"):
        service.check_out(session=db, actor=actor_of(db, people["employee"]), now=local(UTC_TZ, 2026, 11, 2, 17))


def test_checking_in_again_the_same_day_reopens_the_record_and_adds_the_hours(db, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 12, 0))
    again = service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 13, 0))
    assert again.check_out is None and again.check_in == "2026-11-02T09:00:00+00:00"
    final = service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 18, 0))
    assert final.work_hours == 8.0
    assert len(records(db, people["employee"].employee_id)) == 1
    assert len(db.exec(select(AttendancePunch)).all()) == 4


def test_notes_and_coordinates_are_validated(db, people):
    a = actor_of(db, people["employee"])
    with pytest.raises(ValidationFailed, match="both latitude and longitude"):
        service.check_in(session=db, actor=a, latitude=10)
    with pytest.raises(ValidationFailed, match="Latitude must be between"):
        service.check_in(session=db, actor=a, latitude=91, longitude=0)
    with pytest.raises(ValidationFailed, match="at most 1000"):
        service.check_in(session=db, actor=a, notes="x" * 1001)


def test_inactive_employee_cannot_check_in(db, org, make_person):
    from hr_portal.employees.models import EmployeeStatus

    p = make_person(org, status=EmployeeStatus.inactive)
    with pytest.raises(Forbidden):
        service.check_in(session=db, actor=actor_of(db, p))


# ---------------------------------------------------------------- location rules


def test_company_requiring_location_refuses_a_check_in_without_coordinates(db, people, org):
    service.set_location_required(session=db, actor=actor_of(db, people["admin"]), company_id=org.company.id,
                                  required=True)
    a = actor_of(db, people["employee"])
    with pytest.raises(ValidationFailed, match="requires your location") as exc:
        service.check_in(session=db, actor=a)
    assert exc.value.details[0]["field"] == "location"
    assert service.check_in(session=db, actor=a, latitude=1.0, longitude=2.0).check_out is None


def test_check_in_outside_every_allowed_site_is_refused_with_the_distance(db, people, org):
    hr = actor_of(db, people["hr_manager"])
    service.add_site(session=db, actor=hr, company_id=org.company.id,
                     data=SiteIn(name="Berlin office", latitude=52.5200, longitude=13.4050, radius_m=200))
    a = actor_of(db, people["employee"])
    with pytest.raises(ValidationFailed, match=r"not at an allowed site: 1\.\d km from Berlin office.*within 200 m"):
        service.check_in(session=db, actor=a, latitude=52.5200, longitude=13.4270)
    rec = service.check_in(session=db, actor=a, latitude=52.5205, longitude=13.4055, accuracy=15)
    site = db.exec(select(AttendanceSite)).one()
    assert db.exec(select(AttendancePunch).where(AttendancePunch.record_id == rec.id)).one().site_id == site.id


def test_sites_without_required_location_accept_a_check_in_without_coordinates(db, people, org):
    service.add_site(session=db, actor=actor_of(db, people["admin"]), company_id=org.company.id,
                     data=SiteIn(name="HQ", latitude=0, longitude=0, radius_m=100))
    assert service.check_in(session=db, actor=actor_of(db, people["employee"])).id


# ---------------------------------------------------------------- shifts, time zones


def test_late_and_half_day_are_derived_in_the_company_time_zone(db, tz_org, make_person):
    """America/Chicago is UTC-6 in November: 09:00 local is 15:00 UTC; grace 10 minutes."""
    tz = "America/Chicago"
    on_time, late, short, evening = (make_person(tz_org) for _ in range(4))
    a1, a2, a3 = (actor_of(db, p) for p in (on_time, late, short))
    r1 = service.check_in(session=db, actor=a1, now=local(tz, 2026, 11, 2, 9, 10))
    r2 = service.check_in(session=db, actor=a2, now=local(tz, 2026, 11, 2, 9, 11))
    assert r1.status == AttendanceStatus.present and r2.status == AttendanceStatus.late and r2.late
    assert r2.check_in == "2026-11-02T15:11:00+00:00"
    service.check_in(session=db, actor=a3, now=local(tz, 2026, 11, 2, 9, 0))
    half = service.check_out(session=db, actor=a3, now=local(tz, 2026, 11, 2, 12, 59))
    assert half.status == AttendanceStatus.half_day
    # Late evening local time is already the next UTC day; the record stays on the local date.
    rec = service.check_in(session=db, actor=actor_of(db, evening), now=local(tz, 2026, 11, 2, 20, 30))
    assert rec.date == MON and rec.check_in.startswith("2026-11-03T02:30")


def test_a_quarter_hour_offset_zone_uses_local_wall_clock(db, make_person, clean_database):
    from sqlmodel import Session

    from hr_portal.core.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as s:
        org = factories.create_organization(s, timezone="Asia/Kathmandu")  # UTC+05:45
        s.commit()
    p = make_person(org)
    rec = service.check_in(session=db, actor=actor_of(db, p), now=local("Asia/Kathmandu", 2026, 11, 2, 9, 11))
    assert rec.status == AttendanceStatus.late and rec.check_in == "2026-11-02T03:26:00+00:00"


def test_a_night_shift_counts_toward_the_day_it_starts(db, org, people):
    add_shift(db, org, name="Night", start=time(22, 0), end=time(6, 0), half_day=4.0)
    a = actor_of(db, people["employee"])
    rec = service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 21, 55))
    out = service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 3, 6, 5))
    assert out.date == MON and out.work_hours == 8.17 and out.status == AttendanceStatus.present and rec.id == out.id
    # 00:30 on Thursday is before the shift's 06:00 end: it is Wednesday night's shift, and late.
    late = service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 5, 0, 30))
    assert late.date == date(2026, 11, 4) and late.status == AttendanceStatus.late


def test_a_per_employee_shift_overrides_the_company_default(db, org, people):
    hr = actor_of(db, people["hr_manager"])
    early = service.save_shift(session=db, actor=hr, company_id=org.company.id,
                               data=ShiftIn(name="Early", start_time=time(6, 0), end_time=time(14, 0)))
    service.assign_shift(session=db, actor=hr, employee_id=people["employee"].employee_id, shift_id=early["id"])
    a = actor_of(db, people["employee"])
    assert service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 7, 0)).status == AttendanceStatus.late
    other = actor_of(db, people["manager"])
    assert service.check_in(session=db, actor=other, now=local(UTC_TZ, 2026, 11, 2, 7, 0)).status == \
        AttendanceStatus.present
    # The check-in card's click (`punch`) reads the shifts in its one statement for the day: the same rules.
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 15, 0))
    service.check_out(session=db, actor=other, now=local(UTC_TZ, 2026, 11, 2, 15, 0))
    own = service.punch(session=db, actor=a, action="in", now=local(UTC_TZ, 2026, 11, 3, 6, 5))
    assert own["shift_label"] == "06:00–14:00" and not own["late"]
    card = service.punch(session=db, actor=other, action="in", now=local(UTC_TZ, 2026, 11, 3, 6, 5))
    assert card["shift_label"] != "06:00–14:00" and not card["late"]


# ---------------------------------------------------------------- auto check-out


def test_auto_checkout_closes_a_forgotten_check_out_at_shift_end_after_the_tolerance(db, people):
    a = actor_of(db, people["employee"])
    rec = service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 2, 18, 29)) == 0
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 2, 18, 31)) == 1
    row = db.get(AttendanceRecord, rec.id)
    db.refresh(row)
    assert row.system_closed and row.check_out is not None and row.work_seconds == 8.5 * 3600
    assert service.record_public(row).check_out == "2026-11-02T17:30:00+00:00"
    punch = db.exec(select(AttendancePunch).where(AttendancePunch.source == PunchSource.system)).one()
    assert punch.kind.value == "out" and punch.ip is None
    assert db.exec(select(AuditLog).where(AuditLog.action == "attendance.auto_closed",
                                          AuditLog.entity_id == rec.id)).one()
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 2, 23, 0)) == 0


def test_auto_checkout_does_not_touch_records_checked_out_or_still_in_shift(db, people):
    a, m = actor_of(db, people["employee"]), actor_of(db, people["manager"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 0))
    service.check_in(session=db, actor=m, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 2, 17, 45)) == 0
    assert [r.system_closed for r in records(db, people["employee"].employee_id)] == [False]


def test_auto_checkout_of_a_night_shift_waits_for_the_next_morning(db, org, people):
    add_shift(db, org, name="Night", start=time(22, 0), end=time(6, 0), tolerance=30)
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 22, 0))
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 3, 6, 29)) == 0
    assert service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 3, 6, 31)) == 1
    assert records(db, people["employee"].employee_id)[0].work_seconds == 8 * 3600


# ---------------------------------------------------------------- day statuses, month view, summary


def test_month_view_derives_every_status_and_the_totals(db, org, people):
    emp = people["employee"]
    a = actor_of(db, emp)
    add_holiday(db, org, date(2026, 11, 4))                       # Wednesday: holiday
    approve_leave(db, emp, date(2026, 11, 5))                     # Thursday: on leave
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))   # Monday: present
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 30))
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 3, 9, 30))  # Tuesday: late
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 3, 17, 30))
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 9, 9, 0))   # next Monday: half day
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 9, 11, 0))
    # Friday 6th: no punch, no leave -> absent. "Now" is Tuesday the 10th at 10:00.
    now = local(UTC_TZ, 2026, 11, 10, 10, 0)
    view = service.month_view(session=db, actor=a, month=date(2026, 11, 1), now=now)
    by_date = {d["date"]: d["status"] for d in view["days"]}
    assert by_date["2026-11-02"] == "present" and by_date["2026-11-03"] == "late"
    assert by_date["2026-11-04"] == "holiday" and by_date["2026-11-05"] == "on_leave"
    assert by_date["2026-11-06"] == "absent" and by_date["2026-11-07"] == "weekly_off"
    assert by_date["2026-11-09"] == "half_day"
    assert by_date["2026-11-10"] == ""  # today, shift not over: not absent yet
    assert by_date["2026-11-11"] == ""  # future
    s = service.summary(session=db, actor=a, month=date(2026, 11, 1), now=now)
    assert (s.working_days, s.present_days, s.late_days, s.half_days, s.absent_days, s.leave_days, s.holidays) == \
        (20, 3, 1, 1, 1, 1.0, 1)
    assert s.total_work_hours == 18.5 and s.average_work_hours == round(18.5 / 3, 2)
    # After the shift ended today, today counts as absent too.
    later = service.summary(session=db, actor=a, month=date(2026, 11, 1), now=local(UTC_TZ, 2026, 11, 10, 18, 0))
    assert later.absent_days == 2


def test_a_late_arrival_on_a_half_day_leave_is_not_counted_late(db, people):
    emp = people["employee"]
    a = actor_of(db, emp)
    approve_leave(db, emp, MON, half_day=True)
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 13, 30))
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 30))
    s = service.summary(session=db, actor=a, month=MON, now=local(UTC_TZ, 2026, 11, 3, 8, 0))
    assert s.late_days == 0 and s.leave_days == 0.5 and s.present_days == 1


def test_days_before_joining_are_not_absent(db, org, make_person):
    p = make_person(org, date_of_joining=date(2026, 11, 16))
    s = service.summary(session=db, actor=actor_of(db, p), month=MON, now=local(UTC_TZ, 2026, 11, 17, 20, 0))
    assert s.absent_days == 2  # the 16th and the 17th only


def test_month_csv_has_a_row_per_day_and_the_totals(db, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 0))
    name, text = service.month_csv(session=db, actor=a, month=MON, now=local(UTC_TZ, 2026, 11, 3, 9, 0))
    lines = text.strip().splitlines()
    assert name.endswith("-2026-11.csv")
    assert lines[0].startswith("Date,Weekday,Status,First in,Last out,Hours")
    assert "2026-11-02,Mon,Present,09:00,17:00,8.00" in lines[2]
    assert len([line for line in lines if line.startswith("2026-11-")]) == 30


def test_an_employee_cannot_see_someone_elses_month(db, people):
    with pytest.raises(NotFound):
        service.month_view(session=db, actor=actor_of(db, people["employee"]), month=MON,
                           employee_id=people["manager"].employee_id)


def test_manager_sees_a_report_month_but_not_another_organizations(db, people, other_org, make_person):
    stranger = make_person(other_org)
    m = actor_of(db, people["manager"])
    assert service.month_view(session=db, actor=m, month=MON, employee_id=people["employee"].employee_id)["days"]
    with pytest.raises(NotFound):
        service.summary(session=db, actor=actor_of(db, people["admin"]), month=MON, employee_id=stranger.employee_id)


# ---------------------------------------------------------------- team views


def test_team_today_shows_who_is_in_late_not_yet_in_and_on_leave(db, org, people, make_person):
    mgr = people["manager"]
    on_time, late, missing, away = (make_person(org, manager=mgr) for _ in range(4))
    make_person(org)  # not in this manager's team
    approve_leave(db, away, MON)
    service.check_in(session=db, actor=actor_of(db, on_time), now=local(UTC_TZ, 2026, 11, 2, 8, 55))
    service.check_in(session=db, actor=actor_of(db, late), now=local(UTC_TZ, 2026, 11, 2, 9, 25))
    view = service.team_today(session=db, actor=actor_of(db, mgr), now=local(UTC_TZ, 2026, 11, 2, 9, 30))
    status = {r["employee_id"]: r["status"] for r in view["rows"]}
    assert status == {on_time.employee_id: "in", late.employee_id: "late", missing.employee_id: "not_in",
                      away.employee_id: "on_leave", people["employee"].employee_id: "not_in"}
    assert view["counts"]["in"] == 2 and view["counts"]["late"] == 1 and view["counts"]["not_in"] == 2
    row = next(r for r in view["rows"] if r["employee_id"] == late.employee_id)
    assert row["label"] == "In since 09:25" and row["first_in"] == "09:25"


def test_employees_cannot_open_team_views(db, people):
    with pytest.raises(Forbidden):
        service.team_today(session=db, actor=actor_of(db, people["employee"]))
    with pytest.raises(Forbidden):
        service.team_month(session=db, actor=actor_of(db, people["employee"]), month=MON)


def test_team_month_gives_each_person_status_codes_and_totals(db, org, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 30))
    view = service.team_month(session=db, actor=actor_of(db, people["hr_manager"]), month=MON,
                              now=local(UTC_TZ, 2026, 11, 3, 12, 0))
    row = next(r for r in view["rows"] if r["employee_id"] == people["employee"].employee_id)
    assert row["cells"][1]["code"] == "L" and row["cells"][0]["code"] == "WO" and len(row["cells"]) == 30
    assert view["total"] == 3  # everyone but the HR manager
    name, text = service.team_month_csv(session=db, actor=actor_of(db, people["hr_manager"]), month=MON,
                                        now=local(UTC_TZ, 2026, 11, 3, 12, 0))
    assert len(text.strip().splitlines()) == 1 + 3 * 30 and name == "team-attendance-2026-11.csv"


# ---------------------------------------------------------------- corrections


def _request(db, person, day=MON, check_in="09:00", check_out="17:30", reason="Forgot my badge", now=None):
    return service.request_correction(session=db, actor=actor_of(db, person), work_date=day, check_in=check_in,
                                      check_out=check_out, reason=reason,
                                      now=now or local(UTC_TZ, 2026, 11, 10, 12, 0))


def test_correction_request_is_validated(db, people):
    emp = people["employee"]
    now = local(UTC_TZ, 2026, 11, 10, 12, 0)
    with pytest.raises(ValidationFailed, match="past days"):
        _request(db, emp, day=date(2026, 11, 10), now=now)
    with pytest.raises(ValidationFailed, match="at least 3"):
        _request(db, emp, reason=" ")
    with pytest.raises(ValidationFailed, match="HH:MM"):
        _request(db, emp, check_in="nine")
    with pytest.raises(ValidationFailed, match="longer than 24"):
        _request(db, emp, check_in="2026-11-02T09:00:00+00:00", check_out="2026-11-03T10:00:00+00:00")
    with pytest.raises(ValidationFailed, match="must be on Mon 2 Nov"):
        _request(db, emp, check_in="2026-11-03T09:00:00+00:00", check_out="2026-11-03T10:00:00+00:00")


def test_a_second_pending_correction_for_the_same_day_is_a_conflict(db, people):
    _request(db, people["employee"])
    with pytest.raises(Conflict, match="pending correction"):
        _request(db, people["employee"], check_in="08:00")


def test_manager_approval_creates_the_record_and_writes_the_audit_history(db, people):
    c = _request(db, people["employee"], check_in="09:20", check_out="17:40")
    assert c.status == CorrectionStatus.pending and c.check_in == "2026-11-02T09:20:00+00:00"
    done = service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id,
                                     approve=True, comment="OK")
    assert done.status == CorrectionStatus.approved
    rec = records(db, people["employee"].employee_id)[0]
    assert rec.corrected and rec.status == AttendanceStatus.late and rec.work_seconds == 8 * 3600 + 20 * 60
    log = db.exec(select(AuditLog).where(AuditLog.action == "attendance.record_created",
                                         AuditLog.entity_id == rec.id)).one()
    assert log.changes["correction_id"] == c.id and log.changes["before"] is None
    sources = {p.source for p in db.exec(select(AttendancePunch).where(AttendancePunch.record_id == rec.id)).all()}
    assert sources == {PunchSource.correction}
    history = service.record_history(session=db, actor=actor_of(db, people["employee"]), record_id=rec.id)
    assert history[0]["action"] == "attendance.record_created"


def test_approval_corrects_a_system_closed_record(db, people):
    a = actor_of(db, people["employee"])
    service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
    service.auto_close_open_records(session=db, now=local(UTC_TZ, 2026, 11, 2, 20, 0))
    c = _request(db, people["employee"], check_in="09:00", check_out="19:15")
    service.decide_correction(session=db, actor=actor_of(db, people["hr_manager"]), correction_id=c.id, approve=True)
    rec = records(db, people["employee"].employee_id)[0]
    assert not rec.system_closed and rec.work_seconds == 10 * 3600 + 15 * 60
    log = db.exec(select(AuditLog).where(AuditLog.action == "attendance.record_corrected")).one()
    assert log.changes["before"]["system_closed"] is True and log.changes["after"]["work_hours"] == 10.25


def test_rejection_needs_a_comment_and_changes_no_record(db, people):
    c = _request(db, people["employee"])
    m = actor_of(db, people["manager"])
    with pytest.raises(ValidationFailed, match="why you reject"):
        service.decide_correction(session=db, actor=m, correction_id=c.id, approve=False)
    out = service.decide_correction(session=db, actor=m, correction_id=c.id, approve=False, comment="You were off")
    assert out.status == CorrectionStatus.rejected and out.comment == "You were off"
    assert records(db, people["employee"].employee_id) == []


def test_manager_cannot_approve_a_correction_of_someone_outside_their_team(db, org, people, make_person):
    outsider = make_person(org)
    c = _request(db, outsider)
    with pytest.raises(NotFound):
        service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id, approve=True)
    assert db.get(AttendanceCorrection, c.id).status == CorrectionStatus.pending


def test_manager_cannot_approve_their_own_correction(db, people):
    c = _request(db, people["manager"])
    with pytest.raises(Forbidden, match="own"):
        service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id, approve=True)


def test_hr_cannot_approve_their_own_correction_either(db, people):
    c = _request(db, people["hr_manager"])
    with pytest.raises(Forbidden, match="own"):
        service.decide_correction(session=db, actor=actor_of(db, people["hr_manager"]), correction_id=c.id,
                                  approve=True)


def test_a_skip_level_manager_sees_but_cannot_decide(db, org, people, make_person):
    report_of_report = make_person(org, manager=people["employee"])
    c = _request(db, report_of_report)
    with pytest.raises(Forbidden, match="manager or HR"):
        service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id, approve=True)


def test_employees_cannot_decide_and_other_organizations_get_not_found(db, people, other_org, make_person):
    foreign_admin = make_person(other_org, role=Role.admin)
    c = _request(db, people["employee"])
    with pytest.raises(Forbidden):
        service.decide_correction(session=db, actor=actor_of(db, people["employee"]), correction_id=c.id,
                                  approve=True)
    with pytest.raises(NotFound):
        service.decide_correction(session=db, actor=actor_of(db, foreign_admin), correction_id=c.id, approve=True)


def test_a_decided_request_cannot_be_decided_or_cancelled_again(db, people):
    c = _request(db, people["employee"])
    service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id, approve=True)
    with pytest.raises(Conflict, match="no longer pending"):
        service.decide_correction(session=db, actor=actor_of(db, people["admin"]), correction_id=c.id, approve=False,
                                  comment="no")
    with pytest.raises(Conflict):
        service.cancel_correction(session=db, actor=actor_of(db, people["employee"]), correction_id=c.id)


def test_the_queue_holds_direct_reports_for_managers_and_everyone_for_hr(db, org, people, make_person):
    outsider = make_person(org)
    mine = _request(db, people["employee"])
    other = _request(db, outsider)
    own = _request(db, people["manager"])
    manager_queue = service.approval_queue(session=db, actor=actor_of(db, people["manager"]))
    assert [r["id"] for r in manager_queue["pending"]] == [mine.id]
    hr_queue = service.approval_queue(session=db, actor=actor_of(db, people["hr_manager"]))
    assert {r["id"] for r in hr_queue["pending"]} == {mine.id, other.id, own.id}
    service.cancel_correction(session=db, actor=actor_of(db, people["employee"]), correction_id=mine.id)
    assert service.approval_queue(session=db, actor=actor_of(db, people["manager"]))["pending"] == []


def test_a_night_shift_correction_with_an_earlier_check_out_ends_the_next_day(db, org, people):
    add_shift(db, org, name="Night", start=time(22, 0), end=time(6, 0))
    c = _request(db, people["employee"], check_in="22:00", check_out="06:00")
    assert c.check_out == "2026-11-03T06:00:00+00:00"


# ---------------------------------------------------------------- settings


def test_there_is_always_exactly_one_default_shift(db, org, people):
    hr = actor_of(db, people["hr_manager"])
    view = service.settings_view(session=db, actor=hr, company_id=org.company.id)
    assert [s["is_default"] for s in view["shifts"]] == [True]
    late = service.save_shift(session=db, actor=hr, company_id=org.company.id,
                              data=ShiftIn(name="Late", start_time=time(12, 0), end_time=time(20, 0),
                                           is_default=True))
    view = service.settings_view(session=db, actor=hr, company_id=org.company.id)
    assert [s["name"] for s in view["shifts"] if s["is_default"]] == ["Late"]
    with pytest.raises(Conflict, match="default shift cannot be deleted"):
        service.delete_shift(session=db, actor=hr, shift_id=late["id"])
    with pytest.raises(ValidationFailed, match="another shift the default"):
        service.save_shift(session=db, actor=hr, company_id=org.company.id, shift_id=late["id"],
                           data=ShiftIn(name="Late", start_time=time(12, 0), end_time=time(20, 0), is_default=False))
    with pytest.raises(Conflict, match="already exists"):
        service.save_shift(session=db, actor=hr, company_id=org.company.id,
                           data=ShiftIn(name="Late", start_time=time(8, 0), end_time=time(16, 0)))


def test_only_admin_and_hr_change_settings(db, org, people):
    for role in ("manager", "employee"):
        with pytest.raises(Forbidden):
            service.settings_view(session=db, actor=actor_of(db, people[role]), company_id=org.company.id)


def test_a_shift_of_another_company_cannot_be_assigned(db, people, other_org, make_person):
    foreign = make_person(other_org, role=Role.admin)
    hr = actor_of(db, people["hr_manager"])
    shift = service.settings_view(session=db, actor=actor_of(db, foreign), company_id=other_org.company.id)["shifts"][0]
    with pytest.raises(NotFound):
        service.assign_shift(session=db, actor=hr, employee_id=people["employee"].employee_id, shift_id=shift["id"])


def test_the_card_reports_the_day_in_the_company_time_zone(db, tz_org, make_person):
    p = make_person(tz_org)
    a = actor_of(db, p)
    service.check_in(session=db, actor=a, now=local("America/Chicago", 2026, 11, 2, 9, 2))
    card = service.today_card(session=db, actor=a, now=local("America/Chicago", 2026, 11, 2, 10, 32))
    assert card["state"] == "in" and card["since"] == "09:02" and card["worked_label"] == "1 h 30 min"
    assert card["date_label"] == "Monday, 2 November 2026" and card["timezone"] == "America/Chicago"
    service.check_out(session=db, actor=a, now=local("America/Chicago", 2026, 11, 2, 17, 0))
    card = service.today_card(session=db, actor=a, now=local("America/Chicago", 2026, 11, 2, 17, 1))
    assert card["state"] == "out" and card["last_out"] == "17:00" and card["worked_label"] == "7 h 58 min"


def test_durations_read_like_people_write_them():
    assert [service.fmt_duration(s) for s in (0, 59, 60, 3600, 3600 * 7 + 45 * 60)] == \
        ["0 min", "0 min", "1 min", "1 h", "7 h 45 min"]


def test_month_parsing_refuses_garbage():
    assert service.parse_month("2026-02") == date(2026, 2, 1)
    for bad in ("2026-2", "26-02", "2026-13", "abc", "1999-12"):
        with pytest.raises(ValidationFailed):
            service.parse_month(bad)


def test_sites_are_removed_without_losing_punches(db, org, people):
    hr = actor_of(db, people["hr_manager"])
    site = service.add_site(session=db, actor=hr, company_id=org.company.id,
                            data=SiteIn(name="HQ", latitude=10, longitude=10, radius_m=500))
    service.check_in(session=db, actor=actor_of(db, people["employee"]), latitude=10, longitude=10)
    service.delete_site(session=db, actor=hr, site_id=site["id"])
    db.flush()
    assert db.exec(select(AttendancePunch)).one().site_id is None



def test_punch_checks_in_and_returns_the_card_in_one_transaction(db, people):
    a = actor_of(db, people["employee"])
    card = service.punch(session=db, actor=a, action="in", now=local(UTC_TZ, 2026, 11, 2, 9, 5))
    assert card["state"] == "in" and card["since"] == "09:05"
    card = service.punch(session=db, actor=a, action="out", now=local(UTC_TZ, 2026, 11, 2, 9, 35))
    assert card["state"] == "out" and card["worked_label"] == "30 min"
    with pytest.raises(ValidationFailed):
        service.punch(session=db, actor=a, action="sideways")


def test_a_punch_from_the_check_in_card_reads_its_day_once_and_returns_the_card_as_read_afresh(db, people):
    """The UI's click (`punch`) reads the person, company, shift, location rules and whether a holiday is near
    once for the punch and the card after it, PostgreSQL's advisory lock taken in the same statement: at most 4
    statements either way (17 at first, then 10, 8, 6), and the card equals `today_card` read on its own."""
    a = actor_of(db, people["employee"])
    for action, at in (("in", (9, 5)), ("out", (12, 0)), ("in", (13, 0)), ("out", (17, 40))):
        now = local(UTC_TZ, 2026, 11, 2, *at)
        with statements() as seen:
            card = service.punch(session=db, actor=a, action=action, now=now)
            db.flush()
        assert len(seen) <= 4, seen
        assert card == service.today_card(session=db, actor=a, now=now)
    assert card["state"] == "out" and card["worked_label"] == "7 h 35 min" and card["day_kind"] == "working"


@pytest.mark.parametrize("holiday", ["one-off", "recurring"])
def test_a_punch_near_a_holiday_reads_the_holidays(db, org, people, holiday):
    """Only when the company has a holiday near today (a one-off one by date, a recurring one by month and day,
    whatever year it was entered in) does the click read the holidays: the day's kind is right either way."""
    from hr_portal.org.models import Holiday

    day = date(2026, 11, 2) if holiday == "one-off" else date(2019, 11, 2)
    db.add(Holiday(organization_id=org.id, company_id=org.company.id, date=day, name="Founders' Day",
                   recurring=holiday == "recurring"))
    db.commit()
    a = actor_of(db, people["employee"])
    for when, kind in ((local(UTC_TZ, 2026, 11, 2, 9, 5), "holiday"), (local(UTC_TZ, 2026, 11, 9, 9, 5), "working")):
        with statements() as seen:
            card = service.punch(session=db, actor=a, action="in", now=when)
            db.flush()
        assert card["day_kind"] == kind
        assert len(seen) == (5 if kind == "holiday" else 4), seen  # + the holidays of the window
        service.punch(session=db, actor=a, action="out", now=when + timedelta(hours=1))
        db.flush()


def test_domain_events_carry_the_documented_payloads(db, people):
    from hr_portal.core import events

    seen: list[tuple[str, dict]] = []
    listener = lambda name, payload: seen.append((name, payload))  # noqa: E731
    for name in (events.CHECKED_IN, events.CHECKED_OUT, events.CORRECTION_REQUESTED, events.CORRECTION_DECIDED):
        events.subscribe(name, listener)
    try:
        a = actor_of(db, people["employee"])
        service.check_in(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 9, 0))
        service.check_out(session=db, actor=a, now=local(UTC_TZ, 2026, 11, 2, 17, 0))
        c = _request(db, people["employee"], day=date(2026, 11, 3))
        service.decide_correction(session=db, actor=actor_of(db, people["manager"]), correction_id=c.id,
                                  approve=False, comment="No")
        db.commit()
    finally:
        for name in (events.CHECKED_IN, events.CHECKED_OUT, events.CORRECTION_REQUESTED, events.CORRECTION_DECIDED):
            events.unsubscribe(name, listener)
    by_name = {n: p for n, p in seen}
    emp = people["employee"]
    assert by_name[events.CHECKED_IN]["employee_id"] == emp.employee_id
    assert by_name[events.CHECKED_OUT]["user_id"] == emp.user_id and by_name[events.CHECKED_OUT]["attendance_id"]
    requested = by_name[events.CORRECTION_REQUESTED]
    assert requested["approver_user_ids"] == [people["manager"].user_id]
    assert requested["requester_user_id"] == emp.user_id and requested["actor_user_id"] == emp.user_id
    decided = by_name[events.CORRECTION_DECIDED]
    assert (decided["status"], decided["comment"], decided["requester_user_id"]) == ("rejected", "No", emp.user_id)
