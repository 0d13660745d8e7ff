"""Scheduled notifications (the bodies of notifications/jobs.py): check-in and check-out reminders,
pending-approval reminders with escalation to HR, the weekly HR digest, birthday and work-anniversary
notes. Each takes the UTC-aware `now` and returns how many people it reached; every note carries a
once-only key (per person and day or week), so running a job again never repeats a note.

Selection rules (each is tested in tests/notifications/test_reminders.py):
- check-in: an active employee whose shift (attendance's: own shift, else the company default, else
  the standard 09:00-17:30) began at least HR_NOTIFY_CHECKIN_REMINDER_MINUTES ago and has not ended,
  on a working day of their company (no weekly off, no holiday), who has joined by then, has no
  attendance record for that work date and no approved leave covering it.
- check-out: an open attendance record (checked in, not out) whose automatic close (shift end plus
  the shift's auto_checkout_minutes) is less than HR_NOTIFY_CHECKOUT_REMINDER_LEAD_MINUTES away.
- approvals: pending leave requests and attendance corrections waiting at least
  HR_NOTIFY_APPROVAL_REMINDER_DAYS: one note per approver and day listing them; waiting at least
  HR_NOTIFY_APPROVAL_ESCALATION_DAYS at a manager: one note per HR manager and day.
- digest: every Monday to HR managers and admins (opt-out), the past week and the next.
- celebrations: from HR_NOTIFY_CELEBRATION_HOUR local time, to the person's team (their manager,
  peers with the same manager, their direct reports), unless the person opted out of announcements.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core.db import aware
from hr_portal.core.mail import OutboxEmail
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.notifications import service, templates
from hr_portal.notifications.config import notify_settings
from hr_portal.notifications.models import CelebrationOptOut
from hr_portal.org.models import Company, Organization

ATTENDANCE_LINK = "/attendance"
LEAVE_APPROVALS_LINK = "/leave/approvals"
CORRECTION_APPROVALS_LINK = "/attendance/approvals"
MAX_LINES = 10


def _active_employees(session: Session, company_id: int) -> list[Employee]:
    return list(session.exec(select(Employee).where(Employee.company_id == company_id,
                                                    Employee.status == EmployeeStatus.active,
                                                    Employee.user_id.is_not(None))).all())


def _on_leave(session: Session, employee_ids: list[int], day: dt.date) -> set[int]:
    from hr_portal.leave.models import LeaveRequest, LeaveStatus

    if not employee_ids:
        return set()
    return set(session.exec(select(LeaveRequest.employee_id).where(
        LeaveRequest.employee_id.in_(employee_ids), LeaveRequest.status == LeaveStatus.approved,
        LeaveRequest.start_date <= day, LeaveRequest.end_date >= day)).all())


# ---------------------------------------------------------------- check-in / check-out


def _calendar(cache: dict, session: Session, organization_id: int):
    """Attendance's calendar (shifts with its default, time zones, day kinds), one per organization."""
    from hr_portal.attendance.service import Calendar

    if organization_id not in cache:
        cache[organization_id] = Calendar(session, organization_id)
    return cache[organization_id]


def _people_with_accounts(session: Session, company_id: int) -> list[Any]:
    """The columns a check-in reminder needs of the company's active people with an account, as plain rows
    (every five minutes for the whole organization: no ORM objects)."""
    return list(session.exec(select(Employee.id, Employee.user_id, Employee.organization_id, Employee.company_id,
                                    Employee.date_of_joining).where(
        Employee.company_id == company_id, Employee.status == EmployeeStatus.active,
        Employee.user_id.is_not(None))).all())


def checkin_reminder_candidates(session: Session, *, now: dt.datetime) -> list[tuple[Any, dt.date, dt.datetime]]:
    """(employee row: id, user_id, organization_id, company_id, date_of_joining; work date, local shift start)
    of everyone who should get a check-in reminder now."""
    from hr_portal.attendance.models import AttendanceRecord

    after = dt.timedelta(minutes=notify_settings().checkin_reminder_minutes)
    calendars: dict = {}
    out = []
    for company in session.exec(select(Company).order_by(Company.id)).all():
        people = _people_with_accounts(session, company.id)
        if not people:
            continue
        cal = _calendar(calendars, session, company.organization_id)
        cal.preload([e.id for e in people])
        tz = cal.tz(company)
        today = now.astimezone(tz).date()
        yesterday = today - dt.timedelta(days=1)
        kinds = cal.kinds(company, yesterday, today)
        for day in (yesterday, today):  # yesterday: a night shift that is still running
            if kinds.get(day) != "working":
                continue
            due: list[tuple[Any, dt.datetime]] = []
            for emp in people:
                if emp.date_of_joining and emp.date_of_joining > day:
                    continue
                shift = cal.shift_for(emp)
                start, end = shift.start_at(day, tz), shift.end_at(day, tz)
                if start + after <= now < end:
                    due.append((emp, start.astimezone(tz)))
            if not due:
                continue
            ids = [e.id for e, _ in due]
            checked = set(session.exec(select(AttendanceRecord.employee_id).where(
                AttendanceRecord.employee_id.in_(ids), AttendanceRecord.work_date == day)).all())
            away = _on_leave(session, ids, day)
            out += [(e, day, start) for e, start in due if e.id not in checked and e.id not in away]
    return out


def _by_message(found: list[tuple[Any, dt.date, dt.datetime]]
                ) -> dict[tuple[int, dt.date, str, str], list[int]]:
    """Recipients who get the same text on the same day, so that each group is one `deliver` (a few
    statements, whatever its size: at 9:00 thousands of people can be due at once)."""
    groups: dict[tuple[int, dt.date, str, str], list[int]] = {}
    for emp, day, at in found:
        groups.setdefault((emp.organization_id, day, f"{at:%H:%M}", str(at.tzinfo)), []).append(emp.user_id)
    return groups


def send_checkin_reminders(*, session: Session, now: dt.datetime) -> int:
    reached = 0
    for (org_id, day, hhmm, zone), user_ids in _by_message(checkin_reminder_candidates(session, now=now)).items():
        reached += service.deliver(
            session, organization_id=org_id, user_ids=user_ids, kind="checkin_reminder",
            title="You have not checked in yet",
            body=f"Your shift began at {hhmm} ({zone}). Check in now, or ask for a correction later if you forgot.",
            link=ATTENDANCE_LINK, dedupe_key=f"checkin:{day.isoformat()}")
    return reached


def checkout_reminder_candidates(session: Session, *, now: dt.datetime
                                 ) -> list[tuple[Employee, dt.date, dt.datetime]]:
    """(employee, work date, local automatic close time) of everyone still checked in whose day closes soon.
    The close time is the one attendance's auto check-out uses: shift end (or the check-in, when later)
    plus the shift's tolerance."""
    from hr_portal.attendance.models import AttendanceRecord

    lead = dt.timedelta(minutes=notify_settings().checkout_reminder_lead_minutes)
    rows = session.exec(select(AttendanceRecord, Employee).join(Employee, Employee.id == AttendanceRecord.employee_id)
                        .where(AttendanceRecord.check_out.is_(None), Employee.status == EmployeeStatus.active,
                               Employee.user_id.is_not(None))
                        .order_by(AttendanceRecord.organization_id, AttendanceRecord.id)).all()
    calendars: dict = {}
    out = []
    for record, emp in rows:
        cal = _calendar(calendars, session, record.organization_id)
        company = cal.company(emp.company_id)
        tz, shift = cal.tz(company), cal.shift_for(emp)
        opened = aware(record.open_since or record.check_in)
        close_at = max(shift.end_at(record.work_date, tz), opened) + dt.timedelta(minutes=shift.auto_checkout_minutes)
        if close_at - lead <= now < close_at:
            out.append((emp, record.work_date, close_at.astimezone(tz)))
    return out


def send_checkout_reminders(*, session: Session, now: dt.datetime) -> int:
    reached = 0
    for (org_id, day, hhmm, zone), user_ids in _by_message(checkout_reminder_candidates(session, now=now)).items():
        reached += service.deliver(
            session, organization_id=org_id, user_ids=user_ids, kind="checkout_reminder",
            title="You are still checked in",
            body=f"Your day closes automatically at {hhmm} ({zone}). Check out now so your hours are right.",
            link=ATTENDANCE_LINK, dedupe_key=f"checkout:{day.isoformat()}")
    return reached


# ---------------------------------------------------------------- pending approvals


def _days_waiting(since: dt.datetime | None, now: dt.datetime) -> int:
    since = aware(since) or now
    return max(0, (now - since).days)


def _lines(items: list[str]) -> str:
    shown = items[:MAX_LINES]
    more = len(items) - len(shown)
    return "\n".join(shown + ([f"…and {more} more"] if more else []))


def pending_approval_digest(session: Session, *, now: dt.datetime
                            ) -> tuple[dict[tuple[int, int], list[tuple[str, str]]], dict[int, list[tuple[str, str]]]]:
    """({(org, approver user): [(line, link)]}, {org: [(line, link)] overdue at a manager, for HR})."""
    from hr_portal.attendance.models import AttendanceCorrection, CorrectionStatus
    from hr_portal.leave.models import LeaveApproval, LeaveRequest, LeaveStatus, LeaveType

    cfg = notify_settings()
    remind_before = now - dt.timedelta(days=cfg.approval_reminder_days)
    per_approver: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    escalations: dict[int, list[tuple[str, str]]] = defaultdict(list)

    leaves = session.exec(select(LeaveRequest).where(LeaveRequest.status == LeaveStatus.pending,
                                                     LeaveRequest.created_at <= remind_before)
                          .order_by(LeaveRequest.organization_id, LeaveRequest.created_at)).all()
    step_done = dict(session.exec(select(LeaveApproval.leave_request_id, func.max(LeaveApproval.created_at)).where(
        LeaveApproval.leave_request_id.in_([r.id for r in leaves] or [0])).group_by(LeaveApproval.leave_request_id)
    ).all())
    names = {e.id: e.full_name for e in session.exec(select(Employee).where(
        Employee.id.in_({r.employee_id for r in leaves} or {0}))).all()}
    types = {t.id: t.name for t in session.exec(select(LeaveType).where(
        LeaveType.id.in_({r.leave_type_id for r in leaves} or {0}))).all()}
    for r in leaves:
        waiting = _days_waiting(step_done.get(r.id) if r.step >= 2 else r.created_at, now)
        if waiting < cfg.approval_reminder_days:
            continue
        line = (f"{names.get(r.employee_id, 'Someone')}: {types.get(r.leave_type_id, 'Leave')} leave "
                f"{templates.fmt_range(r.start_date, r.end_date)}, waiting {waiting} days")
        for uid in service.leave_approver_user_ids(session, r, now.date()):
            per_approver[(r.organization_id, uid)].append((line, LEAVE_APPROVALS_LINK))
        if r.step < 2 and waiting >= cfg.approval_escalation_days:
            escalations[r.organization_id].append((line, LEAVE_APPROVALS_LINK))

    corrections = session.exec(select(AttendanceCorrection).where(
        AttendanceCorrection.status == CorrectionStatus.pending, AttendanceCorrection.created_at <= remind_before)
        .order_by(AttendanceCorrection.organization_id, AttendanceCorrection.created_at)).all()
    cnames = {e.id: e for e in session.exec(select(Employee).where(
        Employee.id.in_({c.employee_id for c in corrections} or {0}))).all()}
    for c in corrections:
        waiting = _days_waiting(c.created_at, now)
        emp = cnames.get(c.employee_id)
        line = (f"{emp.full_name if emp else 'Someone'}: attendance correction of {templates.fmt_date(c.work_date)}, "
                f"waiting {waiting} days")
        approvers = service.manager_approver_user_ids(session, c.employee_id, now.date(), with_delegates=False)
        for uid in approvers:
            if uid != c.requested_by_user_id:
                per_approver[(c.organization_id, uid)].append((line, CORRECTION_APPROVALS_LINK))
        at_manager = emp is not None and service._active_user_of(session, emp.manager_id) is not None
        if at_manager and waiting >= cfg.approval_escalation_days:
            escalations[c.organization_id].append((line, CORRECTION_APPROVALS_LINK))
    return per_approver, escalations


def send_approval_reminders(*, session: Session, now: dt.datetime) -> int:
    cfg = notify_settings()
    per_approver, escalations = pending_approval_digest(session, now=now)
    day = now.date().isoformat()
    reached = 0
    for (org_id, uid), items in sorted(per_approver.items()):
        n = len(items)
        reached += service.deliver(
            session, organization_id=org_id, user_ids=[uid], kind="approval_reminder",
            title=f"{n} request{'s' if n != 1 else ''} wait{'' if n != 1 else 's'} for your decision",
            body=_lines([line for line, _ in items]), link=items[0][1], dedupe_key=f"approval_reminder:{day}")
    for org_id, items in sorted(escalations.items()):
        n = len(items)
        reached += service.deliver(
            session, organization_id=org_id, user_ids=service.hr_user_ids(session, org_id), kind="approval_reminder",
            title=f"Escalation: {n} request{'s' if n != 1 else ''} waiting over {cfg.approval_escalation_days} days "
                  "at a manager",
            body=_lines([line for line, _ in items]), link=items[0][1], dedupe_key=f"approval_escalation:{day}")
    return reached


# ---------------------------------------------------------------- celebrations


def _anniversary_of(day: dt.date, on: dt.date) -> bool:
    """Whether `on` is the yearly return of `day` (29 February counts on 28 February in common years)."""
    if (day.month, day.day) == (on.month, on.day):
        return True
    if (day.month, day.day) == (2, 29) and (on.month, on.day) == (2, 28):
        try:
            dt.date(on.year, 2, 29)
        except ValueError:
            return True
    return False


def team_user_ids(session: Session, emp: Employee) -> list[int]:
    """The person's team: their manager, the peers who share that manager, and their direct reports."""
    conds = [Employee.manager_id == emp.id]
    if emp.manager_id is not None:
        conds += [Employee.manager_id == emp.manager_id, Employee.id == emp.manager_id]
    from sqlalchemy import or_

    rows = session.exec(select(Employee.user_id).where(
        Employee.organization_id == emp.organization_id, Employee.status == EmployeeStatus.active,
        Employee.id != emp.id, Employee.user_id.is_not(None), or_(*conds))).all()
    return sorted({u for u in rows if u})


def celebrations_on(session: Session, company: Company, day: dt.date) -> list[tuple[Employee, str, int]]:
    """(employee, 'birthday' | 'anniversary', years) for the company's people on `day`, opt-outs excluded."""
    opted_out = set(session.exec(select(CelebrationOptOut.user_id).where(
        CelebrationOptOut.organization_id == company.organization_id)).all())
    out = []
    for emp in _active_employees(session, company.id):
        if emp.user_id in opted_out:
            continue
        if emp.date_of_birth and _anniversary_of(emp.date_of_birth, day):
            out.append((emp, "birthday", day.year - emp.date_of_birth.year))
        joined = emp.date_of_joining
        if joined and joined.year < day.year and _anniversary_of(joined, day):
            out.append((emp, "anniversary", day.year - joined.year))
    return out


def send_celebrations(*, session: Session, now: dt.datetime) -> int:
    hour = notify_settings().celebration_hour
    reached = 0
    for company in session.exec(select(Company).order_by(Company.id)).all():
        local_now = now.astimezone(ZoneInfo(company.timezone))
        if local_now.hour < hour:
            continue
        today = local_now.date()
        org = service.org_name(session, company.organization_id)
        for emp, what, years in celebrations_on(session, company, today):
            if what == "birthday":
                title, body = f"It's {emp.full_name}'s birthday today", "Wish them a happy birthday!"
            else:
                title = f"{emp.full_name}: {years} year{'s' if years != 1 else ''} at {org} today"
                body = f"{emp.first_name} joined on {templates.fmt_date(emp.date_of_joining)}. Say congratulations!"
            reached += service.deliver(
                session, organization_id=company.organization_id, user_ids=team_user_ids(session, emp),
                kind="celebration", title=title, body=body, link="/notifications",
                dedupe_key=f"celebration:{emp.id}:{what}:{today.isoformat()}")
    return reached


# ---------------------------------------------------------------- the weekly HR digest


def digest_sections(session: Session, organization_id: int, *, now: dt.datetime, for_admin: bool = False
                    ) -> tuple[str, list[templates.DigestSection], str]:
    """(period label, sections, one-line summary) of the week before `now` for one organization."""
    from hr_portal.attendance.models import AttendanceCorrection, CorrectionStatus
    from hr_portal.leave.models import LeaveRequest, LeaveStatus, LeaveType

    end = now.date()
    start = end - dt.timedelta(days=7)
    since = now - dt.timedelta(days=7)
    period = f"{templates.fmt_date(start)} – {templates.fmt_date(end - dt.timedelta(days=1))}"
    emp_q = select(Employee).where(Employee.organization_id == organization_id)

    joiners = session.exec(emp_q.where(Employee.date_of_joining >= start, Employee.date_of_joining < end)
                           .order_by(Employee.date_of_joining)).all()
    leavers = session.exec(emp_q.where(Employee.status == EmployeeStatus.inactive, Employee.updated_at >= since)
                           .order_by(Employee.last_name)).all()
    lr = select(func.count()).select_from(LeaveRequest).where(LeaveRequest.organization_id == organization_id)
    applied = session.exec(lr.where(LeaveRequest.created_at >= since)).one()
    approved = session.exec(lr.where(LeaveRequest.status == LeaveStatus.approved,
                                     LeaveRequest.decided_at >= since)).one()
    rejected = session.exec(lr.where(LeaveRequest.status == LeaveStatus.rejected,
                                     LeaveRequest.decided_at >= since)).one()
    pending = session.exec(select(LeaveRequest.created_at).where(LeaveRequest.organization_id == organization_id,
                                                                 LeaveRequest.status == LeaveStatus.pending)).all()
    corrections = session.exec(select(func.count()).select_from(AttendanceCorrection).where(
        AttendanceCorrection.organization_id == organization_id,
        AttendanceCorrection.status == CorrectionStatus.pending)).one()
    next_start, next_end = end, end + dt.timedelta(days=6)
    away = session.exec(select(LeaveRequest, Employee, LeaveType)
                        .join(Employee, Employee.id == LeaveRequest.employee_id)
                        .join(LeaveType, LeaveType.id == LeaveRequest.leave_type_id)
                        .where(LeaveRequest.organization_id == organization_id,
                               LeaveRequest.status == LeaveStatus.approved,
                               LeaveRequest.start_date <= next_end, LeaveRequest.end_date >= next_start)
                        .order_by(LeaveRequest.start_date)).all()

    leave_lines = [f"{applied} applied, {approved} approved, {rejected} rejected this week",
                   f"{len(pending)} pending now" + (
                       f" (oldest waiting {max(_days_waiting(c, now) for c in pending)} days)" if pending else "")]
    if corrections:
        leave_lines.append(f"{corrections} attendance correction{'s' if corrections != 1 else ''} pending")
    sections = [
        templates.DigestSection(f"New joiners ({len(joiners)})", [
            f"{e.full_name}{', ' + e.designation if e.designation else ''} — joined "
            f"{templates.fmt_date(e.date_of_joining)}" for e in joiners[:MAX_LINES]]),
        templates.DigestSection(f"Leavers ({len(leavers)})", [e.full_name for e in leavers[:MAX_LINES]]),
        templates.DigestSection("Leave and approvals", leave_lines),
        templates.DigestSection(f"Away next week ({len(away)})", [
            f"{e.full_name}: {t.name}, {templates.fmt_range(r.start_date, r.end_date)}"
            for r, e, t in away[:15]], empty="Nobody has approved leave next week."),
    ]
    celebrations = []
    for company in session.exec(select(Company).where(Company.organization_id == organization_id)).all():
        for offset in range(7):
            day = next_start + dt.timedelta(days=offset)
            for emp, what, years in celebrations_on(session, company, day):
                label = "birthday" if what == "birthday" else f"{years}-year work anniversary"
                celebrations.append(f"{templates.fmt_date(day)}: {emp.full_name}, {label}")
    sections.append(templates.DigestSection("Birthdays and anniversaries next week", celebrations[:15]))
    if for_admin:
        from hr_portal.notifications.models import ListenerFailure

        failed = session.exec(select(func.count()).select_from(OutboxEmail).where(
            OutboxEmail.organization_id == organization_id, OutboxEmail.status == "failed")).one()
        stuck = session.exec(select(func.count()).select_from(ListenerFailure).where(
            ListenerFailure.organization_id == organization_id, ListenerFailure.status == "failed")).one()
        problems = ([f"{failed} mail{'s' if failed != 1 else ''} failed to send (Settings → Mail outbox)"]
                    if failed else [])
        problems += ([f"{stuck} event notification{'s' if stuck != 1 else ''} could not be delivered after retries "
                      "(see the server log)"] if stuck else [])
        sections.append(templates.DigestSection("Delivery problems", problems,
                                                empty="None: all mail and notifications were delivered."))
    summary = (f"{len(joiners)} joiner{'s' if len(joiners) != 1 else ''} · {len(pending)} pending leave "
               f"request{'s' if len(pending) != 1 else ''} · {len(away)} away next week")
    return period, sections, summary


def send_weekly_digest(*, session: Session, now: dt.datetime) -> int:
    iso = now.date().isocalendar()
    key = f"digest:{iso.year}-W{iso.week:02d}"
    reached = 0
    for org in session.exec(select(Organization).order_by(Organization.id)).all():
        recipients = session.exec(select(User.id, User.role).where(
            User.organization_id == org.id, User.is_active == True,  # noqa: E712
            User.role.in_([Role.admin, Role.hr_manager]))).all()
        for admin_view in (False, True):
            ids = [uid for uid, role in recipients if (Role(role) == Role.admin) == admin_view]
            if not ids:
                continue
            period, sections, summary = digest_sections(session, org.id, now=now, for_admin=admin_view)
            content = templates.digest(org_name=org.name, period=period, sections=sections, link="/")
            reached += service.deliver(session, organization_id=org.id, user_ids=ids, kind="weekly_digest",
                                       title=f"Weekly HR digest: {period}", body=summary, link="/",
                                       mail_content=content, dedupe_key=key)
    return reached
