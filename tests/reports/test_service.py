"""Every report figure against the module it comes from (attendance's derived days, leave's balances and
approval queue, Team today) and against a direct count, plus role scoping and filter validation."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from hr_portal.attendance import service as attendance
from hr_portal.auth.models import Role
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Forbidden, ValidationFailed
from hr_portal.employees.models import Employee
from hr_portal.leave import service as leave
from hr_portal.reports import service as reports
from tests.reports.conftest import EVENING, LEFT_AT, MARCH, NOW, TODAY, World, working_days

TEAM = ("e1", "e2", "e3", "sub", "joiner")  # the manager's active team (transitive), not the manager


def run(fn, **kw):
    with Session(get_engine(), expire_on_commit=False) as s:
        return fn(session=s, **kw)


def march(world: World, **kw) -> reports.Filters:
    return reports.make_filters(start=MARCH[0], end=MARCH[1], **kw)


def derived(world: World, names: tuple[str, ...], start: date, end: date):
    """attendance's own derived days for these people."""
    with Session(get_engine(), expire_on_commit=False) as s:
        people = list(s.exec(select(Employee).where(Employee.id.in_([world.emp(n) for n in names]))).all())
        cal = attendance.Calendar(s, world.org.id)
        return attendance.derive_days(s, cal, people, start, end, now=NOW)


def _expected_attendance(world: World, names: tuple[str, ...]) -> dict[str, int]:
    """Sum attendance's derived statuses over working days (the leaver only up to the day before leaving)."""
    totals = {"present": 0, "late": 0, "absent": 0, "on_leave": 0, "scheduled": 0}
    for name in names:
        end = LEFT_AT.date() - timedelta(days=1) if name == "leaver" else MARCH[1]
        for person in derived(world, (name,), MARCH[0], end):
            for day in person.days:
                if day.kind != "working" or day.status == "":
                    continue
                totals["scheduled"] += 1
                totals["present"] += day.record is not None
                totals["late"] += day.status == "late"
                totals["absent"] += day.status == "absent"
                totals["on_leave"] += day.status == "on_leave"
    return totals


# ================================================================ attendance


def test_attendance_report_totals_match_attendance_derived_days(world):
    data = run(reports.attendance_report, actor=world.actor("hr"), filters=march(world), now=NOW)
    everyone = tuple(world.people)
    expected = _expected_attendance(world, everyone)
    t = data["totals"]
    assert {k: t[k] for k in expected} == expected
    assert (t["present"], t["late"], t["absent"], t["on_leave"]) == (expected["present"], 2, 1, 3)
    assert t["rate"] == round(100 * t["present"] / (t["scheduled"] - t["on_leave"]), 1)
    assert t["half_day"] == 1


def test_attendance_report_counts_each_day_like_a_direct_count(world):
    data = run(reports.attendance_report, actor=world.actor("hr"), filters=march(world), now=NOW)
    days = {r["date"]: r for r in data["daily"]}
    assert sorted(days) == [d.isoformat() for d in working_days(*MARCH)]  # weekends and the holiday left out
    with Session(get_engine()) as s:
        from hr_portal.attendance.models import AttendanceRecord

        for day in working_days(*MARCH):
            direct = s.exec(select(func.count()).select_from(AttendanceRecord).where(
                AttendanceRecord.organization_id == world.org.id, AttendanceRecord.work_date == day)).one()
            assert days[day.isoformat()]["present"] == direct, day
    # 2 March: nine people in headcount (joiner not yet, leaver still there), e1 late.
    assert days["2026-03-02"]["scheduled"] == 9 and days["2026-03-02"]["late"] == 1
    # 18 March: the leaver left that morning, the joiner is in by now.
    assert days["2026-03-18"]["scheduled"] == 9 and days["2026-03-17"]["scheduled"] == 10
    # 12 March: e3 late on a half-day leave counts as present, not late (as attendance shows it).
    assert days["2026-03-12"]["late"] == 0 and days["2026-03-12"]["on_leave"] == 0
    assert days["2026-03-10"]["on_leave"] == 1


def test_attendance_report_by_department_adds_up(world):
    data = run(reports.attendance_report, actor=world.actor("admin"), filters=march(world), now=NOW)
    by = {r["department"]: r for r in data["by_department"]}
    assert set(by) == {"Engineering", "People", "Sales", reports.NO_DEPARTMENT}
    for key in ("scheduled", "present", "late", "on_leave", "absent"):
        assert sum(r[key] for r in by.values()) == data["totals"][key]
    eng = _expected_attendance(world, ("manager", "e1", "e2", "e3", "sub", "joiner", "leaver"))
    assert {k: by["Engineering"][k] for k in eng} == eng


def test_attendance_report_leaves_out_today_and_later(world):
    f = reports.make_filters(start=TODAY - timedelta(days=2), end=TODAY + timedelta(days=5))
    data = run(reports.attendance_report, actor=world.actor("hr"), filters=f, now=NOW)
    assert max(r["date"] for r in data["daily"]) < TODAY.isoformat()
    assert "Today is not included" in data["note"]


# ================================================================ monthly sheet


def test_monthly_sheet_codes_match_each_persons_month_view(world):
    sheet = run(reports.monthly_sheet, actor=world.actor("manager"), month=date(2026, 3, 1), now=NOW)
    assert sheet["total"] == len(TEAM)
    assert {r["employee_id"] for r in sheet["rows"]} == {world.emp(n) for n in TEAM}
    for row in sheet["rows"]:
        view = run(attendance.month_view, actor=world.actor("hr"), month=date(2026, 3, 1),
                   employee_id=row["employee_id"], now=NOW)
        assert [c["code"] for c in row["cells"]] == [attendance.STATUS_CODES[d["status"]] for d in view["days"]]
        assert row["present"] == view["totals"]["present_days"]
        assert row["absent"] == view["totals"]["absent_days"]


def test_monthly_sheet_pages_and_filters(world):
    hr = world.actor("hr")
    first = run(reports.monthly_sheet, actor=hr, month=date(2026, 3, 1), page=1, limit=4, now=NOW)
    second = run(reports.monthly_sheet, actor=hr, month=date(2026, 3, 1), page=2, limit=4, now=NOW)
    assert first["total"] == 9 and first["pages"] == 3  # active people only
    assert not {r["employee_id"] for r in first["rows"]} & {r["employee_id"] for r in second["rows"]}
    sales = run(reports.monthly_sheet, actor=hr, month=date(2026, 3, 1), department_id=world.departments["Sales"].id,
                now=NOW)
    assert [r["employee_id"] for r in sales["rows"]] == [world.emp("e4")]


def test_monthly_sheet_csv_has_everyone_and_every_day(world):
    name, text = run(reports.monthly_sheet_csv, actor=world.actor("hr"), month=date(2026, 3, 1), now=NOW)
    rows = list(csv.reader(io.StringIO(text)))
    assert name == "attendance-sheet-2026-03.csv"
    assert rows[0][3] == "2026-03-01" and rows[0][33] == "2026-03-31"
    people = [r for r in rows[1:] if r and r[0].startswith("E-")]
    assert len(people) == 9
    e2 = next(r for r in people if r[1].startswith("E2 "))
    assert e2[3 + 3] == "A" and e2[3 + 4] == "H" and e2[3 + 19] == "HO"


# ================================================================ headcount


def test_headcount_over_time_matches_direct_counts(world):
    f = reports.make_filters(start=date(2026, 1, 1), end=date(2026, 4, 15), max_days=reports.MAX_HEADCOUNT_DAYS)
    data = run(reports.headcount_report, actor=world.actor("hr"), filters=f)
    joined = {n: p.employee.date_of_joining for n, p in world.people.items()}
    for point in data["series"]:
        as_of = date.fromisoformat(point["as_of"])
        direct = sum(1 for n, j in joined.items()
                     if j <= as_of and not (n == "leaver" and datetime.combine(
                         as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC) > LEFT_AT))
        assert point["headcount"] == direct, point
    by_month = {p["month"]: p for p in data["series"]}
    assert (by_month["2026-03"]["joiners"], by_month["2026-03"]["leavers"]) == (1, 1)
    assert by_month["2026-02"]["headcount"] == 9 and by_month["2026-03"]["headcount"] == 9
    assert data["totals"]["joiners"] == 1 and data["totals"]["leavers"] == 1
    depts = {r["name"]: r["headcount"] for r in data["by_department"]}
    assert depts == {"Engineering": 6, "People": 1, "Sales": 1, reports.NO_DEPARTMENT: 1}
    assert {r["name"]: r["headcount"] for r in data["by_type"]} == {"Full time": 9}


def test_headcount_csv_export(world):
    f = reports.make_filters(start=date(2026, 1, 1), end=date(2026, 3, 31))
    name, text = run(reports.headcount_csv, actor=world.actor("hr"), filters=f)
    rows = list(csv.reader(io.StringIO(text)))
    assert name == "headcount-2026-01-01_2026-03-31.csv"
    assert rows[0] == ["Month", "Headcount at month end", "Joiners", "Leavers"]
    assert rows[3] == ["2026-03", "9", "1", "1"]
    assert ["Engineering", "6", "66.7"] in rows


# ================================================================ leave


def test_leave_taken_and_owed_match_the_leave_balances(world):
    hr = world.actor("hr")
    f = reports.make_filters(start=date(2026, 1, 1), end=date(2026, 12, 31))
    data = run(reports.leave_report, actor=hr, filters=f, today=TODAY)
    taken = {r["type"]: r["days"] for r in data["taken_by_type"]}
    owed = {r["type"]: r["days"] for r in data["liability"]}
    expected_taken: dict[str, float] = {}
    expected_owed: dict[str, float] = {}
    for name in world.people:
        if name == "leaver":
            continue
        for b in run(leave.balances, actor=hr, employee_id=world.emp(name), year=2026):
            expected_taken[b.leave_type_name] = expected_taken.get(b.leave_type_name, 0.0) + b.taken
            if b.paid and b.balance > 0:
                expected_owed[b.leave_type_name] = expected_owed.get(b.leave_type_name, 0.0) + b.balance
    assert taken == {k: pytest.approx(v) for k, v in expected_taken.items()}
    assert {k: v for k, v in owed.items() if v} == {k: pytest.approx(v) for k, v in expected_owed.items()}
    assert taken["Annual"] == 4.0 and taken["Sick"] == 0.5  # the cancelled leave gave its two days back
    assert "Unpaid" not in owed


def test_leave_report_by_department_and_upcoming(world):
    f = reports.make_filters(start=date(2026, 3, 1), end=date(2026, 3, 31))
    data = run(reports.leave_report, actor=world.actor("hr"), filters=f, today=TODAY)
    eng = next(r for r in data["taken_by_department"] if r["department"] == "Engineering")
    assert eng["days"] == 3.5
    assert data["taken_total"] == 3.5
    names = [r["name"] for r in data["upcoming"]]
    assert data["upcoming_total"] == 3 and len(names) == 3  # e3 today, e4 pending, e1 pending in May
    assert [r["status"] for r in data["upcoming"]] == ["approved", "pending", "pending"]


def test_leave_csv_lists_every_section(world):
    f = reports.make_filters(start=date(2026, 1, 1), end=date(2026, 12, 31))
    _, text = run(reports.leave_csv, actor=world.actor("hr"), filters=f, today=TODAY)
    rows = list(csv.reader(io.StringIO(text)))
    assert ["Annual", "4.0"] in rows
    assert any(r and r[0].startswith("Upcoming absences") for r in rows)
    assert sum(1 for r in rows if len(r) == 7 and r[6] in ("Approved", "Pending")) == 3


# ================================================================ today, approvals, hygiene, celebrations


@pytest.mark.parametrize("now", [NOW, EVENING], ids=["during-shift", "after-shift"])
def test_today_counts_match_team_today(world, now):
    for who in ("manager", "admin"):
        actor = world.actor(who)
        mine = run(reports.today_counts, actor=actor, now=now)
        theirs = run(attendance.team_today, actor=actor, now=now)["counts"]
        own = run(attendance.today_card, actor=actor, now=now)["state"]
        # team_today leaves out the actor; today_counts (HR) covers everyone, a manager's only the team.
        adjust = {"in": 0, "out": 0, "not_in": 0, "absent": 0}
        if who == "admin":
            key = {"in": "in", "out": "out"}.get(own, "not_in" if now == NOW else "absent")
            adjust[key] = 1
        assert mine["in"] == theirs["in"] + adjust["in"]
        assert mine["out"] == theirs["out"] + adjust["out"]
        assert mine["on_leave"] == theirs["on_leave"]
        assert mine["absent"] == theirs["absent"] + adjust["absent"]
        assert mine["not_in"] == theirs["not_in"] + adjust["not_in"]
        assert mine["off"] == theirs["off"]
        assert mine["present"] == mine["in"] + mine["out"]
    team = run(reports.today_counts, actor=world.actor("manager"), now=now)
    assert (team["active"], team["present"], team["late"], team["on_leave"]) == (5, 2, 1, 1)


def test_pending_approvals_match_the_approval_queues(world):
    for who in ("manager", "hr", "admin"):
        actor = world.actor(who)
        counts = run(reports.pending_approvals, actor=actor, today=TODAY)
        assert counts["leave"] == len(run(leave.approval_queue, actor=actor, now=NOW, limit=500)), who
        assert counts["corrections"] == run(attendance.approval_queue, actor=actor)["total"], who
    assert run(reports.pending_approvals, actor=world.actor("manager"), today=TODAY)["leave"] == 1
    assert run(reports.pending_approvals, actor=world.actor("hr"), today=TODAY)["leave"] == 2


def test_data_hygiene_counts_people_without_manager_or_department(world):
    hygiene = run(reports.data_hygiene, actor=world.actor("hr"))
    assert hygiene["no_manager"] == 1 and hygiene["no_department"] == 1
    assert [p["id"] for p in hygiene["no_manager_people"]] == [world.emp("admin")]
    with pytest.raises(Forbidden):
        run(reports.data_hygiene, actor=world.actor("manager"))


def test_celebrations_in_the_next_two_weeks_respect_opt_outs(world):
    items = run(reports.celebrations, actor=world.actor("hr"), today=TODAY)
    assert [(i["name"], i["what"], i["when"]) for i in items] == [
        ("E1 Tester", "Birthday", "Tomorrow"), ("E2 Tester", "2 years at the company", "Sat 18 Apr")]
    from hr_portal.notifications.models import CelebrationOptOut

    with Session(get_engine()) as s:
        s.add(CelebrationOptOut(user_id=world.people["e1"].user_id, organization_id=world.org.id))
        s.commit()
    assert [i["name"] for i in run(reports.celebrations, actor=world.actor("hr"), today=TODAY)] == ["E2 Tester"]


def test_month_movement_counts_joiners_and_leavers(world):
    moved = run(reports.month_movement, actor=world.actor("hr"), today=date(2026, 3, 25))
    assert moved == {"headcount": 9, "joiners": 1, "leavers": 1}


# ================================================================ scope and validation


def test_a_managers_reports_cover_only_their_team(world):
    manager = world.actor("manager")
    f = reports.make_filters(start=date(2026, 1, 1), end=date(2026, 3, 31))
    head = run(reports.headcount_report, actor=manager, filters=f)
    assert head["totals"]["headcount"] == len(TEAM)  # the leaver left, the manager is not in their own team
    assert {r["name"] for r in head["by_department"]} == {"Engineering"}
    att = run(reports.attendance_report, actor=manager, filters=march(world), now=NOW)
    assert {k: att["totals"][k] for k in ("present", "absent", "late", "on_leave")} == {
        k: v for k, v in _expected_attendance(world, (*TEAM, "leaver")).items() if k != "scheduled"}
    lv = run(reports.leave_report, actor=manager, filters=reports.make_filters(start=date(2026, 1, 1),
                                                                               end=date(2026, 12, 31)), today=TODAY)
    assert {r["name"].split()[0] for r in lv["upcoming"]} == {"E3", "E1"}  # not e4 (another manager's)
    options = run(reports.filter_options, actor=manager)
    assert [d["name"] for d in options["departments"]] == ["Engineering"]
    hours = run(reports.team_hours, actor=manager, start=date(2026, 3, 1), end=date(2026, 3, 31), now=NOW)
    assert {p["employee_id"] for p in hours["people"]} <= {world.emp(n) for n in TEAM}


def test_a_team_lead_sees_only_their_reports(world):
    lead = dataclasses.replace(world.actor("e1"), role=Role.manager)
    data = run(reports.headcount_report, actor=lead, filters=march(world))
    assert data["totals"]["headcount"] == 1  # only "sub"


def test_employees_cannot_open_reports(world):
    for fn, kw in ((reports.headcount_report, {"filters": march(world)}),
                   (reports.attendance_report, {"filters": march(world)}),
                   (reports.leave_report, {"filters": march(world)}),
                   (reports.monthly_sheet, {"month": date(2026, 3, 1)}),
                   (reports.filter_options, {})):
        with pytest.raises(Forbidden):
            run(fn, actor=world.actor("e2"), **kw)


def test_another_organizations_ids_and_bad_ranges_are_refused(world, other_org):
    hr = world.actor("hr")
    with pytest.raises(ValidationFailed) as exc:
        run(reports.attendance_report, actor=hr, filters=march(world, company_id=other_org.company.id), now=NOW)
    assert exc.value.details[0]["field"] == "companyId"
    with pytest.raises(ValidationFailed):
        reports.make_filters(start="2026-03-31", end="2026-03-01")
    with pytest.raises(ValidationFailed):
        reports.make_filters(start="2024-01-01", end="2026-03-01")
    with pytest.raises(ValidationFailed):
        reports.make_filters(start="yesterday")
    with pytest.raises(ValidationFailed):
        reports.make_filters(department_id="DROP TABLE")
    other = run(reports.headcount_report, actor=hr, filters=march(world))
    assert other["totals"]["headcount"] == 9  # nothing from the other organization


def test_company_and_department_filters_narrow_every_report(world):
    hr = world.actor("hr")
    sales = world.departments["Sales"].id
    f = march(world, department_id=sales)
    att = run(reports.attendance_report, actor=hr, filters=f, now=NOW)
    assert [r["department"] for r in att["by_department"]] == ["Sales"]
    assert att["totals"]["scheduled"] == len(working_days(*MARCH))
    head = run(reports.headcount_report, actor=hr, filters=f)
    assert head["totals"]["headcount"] == 1
