"""Home dashboards, one per role, assembled from the modules' own services (per-person facts) and the
reports module's aggregate queries (team- and organization-wide figures).

- Everyone with an employee record: hours this week, leave balances, my pending requests, upcoming
  holidays of my company, my latest notifications (the check-in card loads itself).
- Manager: team today (attendance's Team today), approvals waiting (leave and corrections), who is off
  this week and next, team hours this month.
- HR manager and admin: headcount with joiners and leavers this month, today across the organization,
  pending approvals organization-wide, data hygiene, upcoming birthdays and work anniversaries.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from hr_portal.attendance import service as attendance
from hr_portal.auth.models import Role
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import aware, utcnow
from hr_portal.core.errors import AppError
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.leave import service as leave
from hr_portal.notifications import service as notifications
from hr_portal.org.models import Company
from hr_portal.org.service import holidays_between
from hr_portal.reports import service as reports

HR = (Role.admin, Role.hr_manager)
TEAM_ROWS = 6
QUEUE_ROWS = 4
HOLIDAYS_SHOWN = 4
NOTIFICATIONS_SHOWN = 5

TODAY_COLORS = {"in": "green", "late": "orange", "not_in": "gray", "out": "indigo", "absent": "red",
                "on_leave": "blue", "off": "gray"}


def _own(session: Session, actor: Actor) -> tuple[Employee, Company] | None:
    if actor.employee_id is None:
        return None
    emp = session.get(Employee, actor.employee_id)
    if emp is None or emp.organization_id != actor.organization_id or emp.status != EmployeeStatus.active:
        return None
    return emp, session.get(Company, emp.company_id)


def local_today(session: Session, actor: Actor, now: datetime) -> date:
    own = _own(session, actor)
    if own is None:
        return now.date()
    return now.astimezone(ZoneInfo(own[1].timezone or "UTC")).date()


def _week(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


# ================================================================ me


def my_home(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, Any] | None:
    """The signed-in person's own figures (None without an active employee record)."""
    require(actor)
    now = aware(now) or utcnow()
    own = _own(session, actor)
    if own is None:
        return None
    emp, company = own
    today = now.astimezone(ZoneInfo(company.timezone or "UTC")).date()
    monday, sunday = _week(today)
    cal = attendance.Calendar(session, actor.organization_id)
    week = attendance.derive_days(session, cal, [emp], monday, min(sunday, today), now=now)[0].totals
    kinds = cal.kinds(company, monday, sunday)
    working_days = sum(1 for k in kinds.values() if k == "working")

    balances = []
    for b in leave.balances(session=session, actor=actor):
        if b.entitled == 0 and b.taken == 0 and b.pending == 0 and b.balance == 0:
            continue
        balances.append({"type": b.leave_type_name, "available": b.available, "available_label": leave.fmt_days(
            b.available), "entitled_label": leave.fmt_days(b.entitled), "taken_label": leave.fmt_days(b.taken),
            "pending": b.pending, "pending_label": leave.fmt_days(b.pending) if b.pending else ""})

    requests, leave_total = leave.list_requests(session=session, actor=actor, status="pending",
                                                employee_id=emp.id, limit=5)
    pending = [{"kind": "Leave", "title": f"{r.leave_type_name} · {leave.fmt_days(r.days)}",
                "detail": _range(r.start_date, r.end_date), "status": "Awaiting HR" if r.step >= 2 else "Awaiting manager",
                "href": "/leave"} for r in requests]
    corrections = [c for c in attendance.my_corrections(session=session, actor=actor, limit=50)
                   if c["status"] == "pending"]
    pending += [{"kind": "Correction", "title": f"Attendance {c['date_label']}",
                 "detail": f"{c['check_in']}–{c['check_out']}", "status": "Awaiting manager", "href": "/attendance"}
                for c in corrections[:5]]

    holidays = sorted(holidays_between(session, company, today, today + timedelta(days=365)).items())
    upcoming = [{"name": name, "date": d.isoformat(), "when": _when(d, today), "weekday": d.strftime("%A")}
                for d, name in holidays[:HOLIDAYS_SHOWN]]

    inbox = notifications.inbox_summary(session=session, actor=actor, limit=NOTIFICATIONS_SHOWN)
    return {
        "hours_label": attendance.fmt_duration(week.seconds),
        "hours_detail": f"{week.present_days} of {working_days} working day{'s' if working_days != 1 else ''}"
                        f" · week of {monday.day} {monday.strftime('%b')}",
        "balances": balances,
        "pending": pending, "pending_total": leave_total + len(corrections),
        "holidays": upcoming,
        "notifications": [{"id": n.id, "title": n.title, "body": n.body, "link": n.link or "/notifications",
                           "read": n.read, "kind": n.kind_label} for n in inbox["items"]],
        "unread": int(inbox["unread"]),
        "company": company.name,
    }


def _range(start: date, end: date) -> str:
    if start == end:
        return f"{start.day} {start.strftime('%b')}"
    return f"{start.day} {start.strftime('%b')} – {end.day} {end.strftime('%b')}"


def _when(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    label = f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"
    return label if day.year == today.year else f"{label} {day.year}"


# ================================================================ manager


def team_home(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """A manager's team: today, approvals waiting, who is off this week and next, hours this month."""
    require(actor, Role.manager, *HR)
    now = aware(now) or utcnow()
    today = local_today(session, actor, now)
    team = attendance.team_today(session=session, actor=actor, now=now, limit=TEAM_ROWS)
    rows = [{"employee_id": r["employee_id"], "name": r["name"], "label": r["label"], "status": r["status"],
             "color": TODAY_COLORS.get(r["status"], "gray"), "hours": r["hours"]} for r in team["rows"]]
    counts = team["counts"]
    approvals = _approvals(session, actor, now, today)
    monday, _ = _week(today)
    off = reports.upcoming_absences(session=session, actor=actor, start=monday, end=monday + timedelta(days=13),
                                    limit=10)
    first = today.replace(day=1)
    hours = reports.team_hours(session=session, actor=actor, start=first, end=today, now=now, limit=12)
    return {
        "counts": {"in": counts["in"], "late": counts["late"], "not_in": counts["not_in"],
                   "on_leave": counts["on_leave"], "absent": counts["absent"], "out": counts["out"],
                   "off": counts["off"]},
        "size": team["total"], "rows": rows, "more": max(0, team["total"] - len(rows)),
        **approvals,
        "off": off["rows"], "off_total": off["total"],
        "off_label": f"{monday.day} {monday.strftime('%b')} – {(monday + timedelta(days=13)).day} "
                     f"{(monday + timedelta(days=13)).strftime('%b')}",
        "hours": hours["people"], "hours_total": hours["total_hours"], "hours_others": hours["others"],
        "month_label": first.strftime("%B"),
    }


def _approvals(session: Session, actor: Actor, now: datetime, today: date) -> dict[str, Any]:
    counts = reports.pending_approvals(session=session, actor=actor, today=today)
    leave_items = [{"name": item["employeeName"], "title": f"{item['leaveTypeName']} · {leave.fmt_days(item['days'])}",
                    "detail": _range(date.fromisoformat(str(item["startDate"])), date.fromisoformat(str(item["endDate"]))),
                    "href": "/leave/approvals"}
                   for item in leave.approval_queue(session=session, actor=actor, now=now, limit=QUEUE_ROWS)]
    queue = attendance.approval_queue(session=session, actor=actor, limit=QUEUE_ROWS)
    correction_items = [{"name": c["name"], "title": f"Correction {c['date_label']}",
                         "detail": f"{c['check_in']}–{c['check_out']}", "href": "/attendance/approvals"}
                        for c in queue["pending"]]
    return {"approvals": counts, "leave_queue": leave_items, "correction_queue": correction_items}


# ================================================================ HR and admin


def org_home(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """The organization today: headcount and movement this month, attendance today, approvals waiting,
    data hygiene, birthdays and anniversaries."""
    require(actor, *HR)
    now = aware(now) or utcnow()
    today = local_today(session, actor, now)
    movement = reports.month_movement(session=session, actor=actor, today=today)
    counts = reports.today_counts(session=session, actor=actor, now=now)
    scheduled = counts["active"] - counts["off"]
    approvals = reports.pending_approvals(session=session, actor=actor, today=today)
    return {
        **movement, "month_label": today.strftime("%B"),
        "today": counts, "scheduled": scheduled,
        "present_rate": reports._pct(counts["present"], max(0, scheduled - counts["on_leave"])),
        "approvals": approvals,
        "hygiene": reports.data_hygiene(session=session, actor=actor),
        "celebrations": reports.celebrations(session=session, actor=actor, today=today),
    }


# ================================================================ the page


def home(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Everything Home shows for the actor's role, in one unit of work."""
    require(actor)
    now = aware(now) or utcnow()
    data: dict[str, Any] = {"me": None, "team": None, "org": None, "errors": []}
    parts = [("me", my_home)]
    if actor.role == Role.manager:
        parts.append(("team", team_home))
    if actor.role in HR:
        parts.append(("org", org_home))
    for key, fn in parts:
        try:
            data[key] = fn(session=session, actor=actor, now=now)
        except AppError as exc:  # one card failing (e.g. no employee record) must not blank the page
            data["errors"].append(exc.message)
    return data
