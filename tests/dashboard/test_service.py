"""Home dashboards: each role gets its sections, and every figure agrees with the module it comes from."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlmodel import Session

from hr_portal.attendance import service as attendance
from hr_portal.core.db import get_engine
from hr_portal.dashboard import service as dashboard
from hr_portal.leave import service as leave
from hr_portal.notifications import service as notifications
from hr_portal.reports import service as reports
from tests.reports.conftest import NOW, TODAY, World


def run(fn, **kw):
    with Session(get_engine(), expire_on_commit=False) as s:
        result = fn(session=s, **kw)
        s.commit()
        return result


def test_an_employee_sees_only_their_own_week(world: World):
    data = run(dashboard.home, actor=world.actor("e1"), now=NOW)
    assert data["team"] is None and data["org"] is None and data["errors"] == []
    me = data["me"]
    assert me["hours_label"] == "2 h 20 min"  # checked in 09:40, still in at 12:00
    assert me["hours_detail"].startswith("1 of 5 working days")
    expected = [b for b in run(leave.balances, actor=world.actor("e1")) if b.entitled or b.taken or b.balance]
    assert [(b["type"], b["available"]) for b in me["balances"]] == [(b.leave_type_name, b.available) for b in expected]
    assert me["pending_total"] == 1 and me["pending"][0]["title"] == "Annual · 3 days"
    assert me["pending"][0]["status"] == "Awaiting manager"


def test_my_pending_requests_include_corrections_and_holidays_are_upcoming(world: World):
    me = run(dashboard.my_home, actor=world.actor("e2"), now=NOW)
    assert [p["kind"] for p in me["pending"]] == ["Correction"]
    assert me["pending_total"] == 1
    assert all(date.fromisoformat(h["date"]) >= TODAY for h in me["holidays"])


def test_my_notifications_are_the_inbox(world: World):
    with Session(get_engine()) as s:
        notifications.deliver(s, organization_id=world.org.id, user_ids=[world.people["e3"].user_id],
                              kind="leave_decision", title="Your leave was approved", body="9-11 March",
                              link="/leave")
        s.commit()
    me = run(dashboard.my_home, actor=world.actor("e3"), now=NOW)
    assert me["unread"] == 1
    assert [(n["title"], n["link"], n["read"]) for n in me["notifications"]] == [
        ("Your leave was approved", "/leave", False)]


def test_a_manager_sees_the_team_today_approvals_absences_and_hours(world: World):
    manager = world.actor("manager")
    data = run(dashboard.home, actor=manager, now=NOW)
    assert data["org"] is None and data["me"] is not None
    team = data["team"]
    today = run(attendance.team_today, actor=manager, now=NOW)
    assert team["counts"]["in"] == today["counts"]["in"] == 1
    assert team["counts"]["late"] == 1 and team["counts"]["on_leave"] == 1 and team["counts"]["not_in"] == 2
    assert team["size"] == 5 and len(team["rows"]) == 5
    assert team["approvals"]["leave"] == 1 and team["approvals"]["corrections"] == 1
    assert [i["name"] for i in team["leave_queue"]] == ["E1 Tester"]
    assert [i["href"] for i in team["correction_queue"]] == ["/attendance/approvals"]
    assert [(r["name"], r["status"]) for r in team["off"]] == [("E3 Tester", "approved")]
    hours = run(reports.team_hours, actor=manager, start=TODAY.replace(day=1), end=TODAY, now=NOW)
    assert [p["hours"] for p in team["hours"]] == [p["hours"] for p in hours["people"]]


def test_hr_sees_the_organization(world: World):
    hr = world.actor("hr")
    data = run(dashboard.home, actor=hr, now=NOW)
    assert data["team"] is None
    org = data["org"]
    assert (org["headcount"], org["joiners"], org["leavers"]) == (9, 0, 0)
    assert org["today"] == run(reports.today_counts, actor=hr, now=NOW)
    assert org["today"]["present"] == 4 and org["today"]["on_leave"] == 1
    assert org["approvals"]["leave"] == 2 and org["approvals"]["corrections"] == 1
    assert org["hygiene"]["no_manager"] == 1
    assert [c["what"] for c in org["celebrations"]] == ["Birthday", "2 years at the company"]
    assert org["present_rate"] == round(100 * 4 / (9 - 1), 1)


def test_an_account_without_an_employee_record_still_gets_its_dashboard(world: World):
    admin = dataclasses.replace(world.actor("admin"), employee_id=None)
    data = run(dashboard.home, actor=admin, now=NOW)
    assert data["me"] is None and data["org"]["headcount"] == 9
