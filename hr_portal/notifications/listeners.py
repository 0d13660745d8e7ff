"""Domain events -> notifications and mails.

Each listener reads the entity the event names (a leave request, a correction) from the database, so
it sends what is true after the commit, and takes the recipients from the payload (contract in
core/events.py), falling back to the same rule the approval chain uses when a key is missing. A payload
that names nothing usable is logged and skipped (retrying would not help); an error of the database or
the mail outbox is raised, so the durable wrapper (reliable.py) records it and the retry job runs the
listener again later. All work happens in one transaction, so a failed attempt leaves nothing behind.
"""

from __future__ import annotations

import logging
from typing import Any

from hr_portal.core import events
from hr_portal.core.db import session_scope, utcnow
from hr_portal.notifications import service, templates
from hr_portal.notifications.reliable import subscribe_durable

log = logging.getLogger(__name__)

APPROVALS_LINK = "/leave/approvals"
MY_LEAVE_LINK = "/leave"
CORRECTIONS_LINK = "/attendance/approvals"
MY_ATTENDANCE_LINK = "/attendance"


def _int(payload: dict[str, Any], key: str) -> int | None:
    value = payload.get(key)
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _user_ids(payload: dict[str, Any], key: str) -> list[int] | None:
    """A list of user ids from the payload; None when the key is missing or not a list (use the fallback)."""
    value = payload.get(key)
    if not isinstance(value, list | tuple | set):
        return None
    out = []
    for v in value:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def _skip(name: str, why: str, payload: dict[str, Any]) -> None:
    log.warning("notifications: skipped %s (%s); payload keys: %s", name, why, sorted(payload))


def _company_today(session, employee):
    from hr_portal.org.models import Company
    from hr_portal.org.service import company_today

    company = session.get(Company, employee.company_id) if employee is not None else None
    return company_today(company) if company is not None else utcnow().date()


def _load_leave(session, name: str, payload: dict[str, Any]):
    from hr_portal.employees.models import Employee
    from hr_portal.leave.models import LeaveRequest, LeaveType

    org_id, leave_id = _int(payload, "organization_id"), _int(payload, "leave_id")
    if org_id is None or leave_id is None:
        _skip(name, "no organization_id or leave_id", payload)
        return None
    req = session.get(LeaveRequest, leave_id)
    if req is None or req.organization_id != org_id:
        _skip(name, f"leave request {leave_id} not found in organization {org_id}", payload)
        return None
    emp = session.get(Employee, req.employee_id)
    leave_type = session.get(LeaveType, req.leave_type_id)
    return req, emp, (leave_type.name if leave_type else "Leave")


# ---------------------------------------------------------------- leave


def on_leave_applied(name: str, payload: dict[str, Any]) -> None:
    with session_scope() as session:
        loaded = _load_leave(session, name, payload)
        if loaded is None:
            return
        req, emp, type_name = loaded
        approvers = _user_ids(payload, "approver_user_ids")
        if approvers is None:
            log.info("notifications: %s payload has no approver_user_ids; using the approval chain", name)
            approvers = service.leave_approver_user_ids(session, req, _company_today(session, emp))
        requester = emp.full_name if emp else "Someone"
        org = service.org_name(session, req.organization_id)
        content = templates.leave_request(org_name=org, requester=requester, leave_type=type_name,
                                          start=req.start_date, end=req.end_date, days=req.days, reason=req.reason,
                                          link=APPROVALS_LINK)
        service.deliver(
            session, organization_id=req.organization_id, user_ids=approvers, kind="leave_request",
            title=f"{requester} asks for {type_name} leave",
            body=f"{templates.fmt_range(req.start_date, req.end_date)} · {templates.fmt_days(req.days)}",
            link=APPROVALS_LINK, mail_content=content, dedupe_key=f"leave_request:{req.id}:{req.step}",
            exclude_user_ids=[req.requester_user_id, payload.get("requester_user_id")])


def on_leave_decided(name: str, payload: dict[str, Any]) -> None:
    with session_scope() as session:
        loaded = _load_leave(session, name, payload)
        if loaded is None:
            return
        req, emp, type_name = loaded
        status = str(payload.get("status") or ("approved" if name == events.LEAVE_APPROVED else "rejected"))
        requester_user = _int(payload, "requester_user_id") or req.requester_user_id or (emp.user_id if emp else None)
        decider = _int(payload, "actor_user_id") or req.approver_user_id
        decided_by = service.user_names(session, [decider]).get(decider, "") if decider else ""
        comment = payload.get("comment", req.approver_comment)
        comment = str(comment) if comment else None
        next_approvers = _user_ids(payload, "next_approver_user_ids") or []
        intermediate = status == "approved" and (bool(next_approvers) or getattr(req.status, "value", req.status)
                                                 == "pending")
        org = service.org_name(session, req.organization_id)
        when = templates.fmt_range(req.start_date, req.end_date)
        if intermediate:
            title = f"Your {type_name} leave was approved by {decided_by or 'your manager'}; it now waits for HR"
        else:
            title = f"Your {type_name} leave was {status}"
        content = templates.leave_decision(org_name=org, status=status if not intermediate else "approved (step 1)",
                                           leave_type=type_name, start=req.start_date, end=req.end_date,
                                           days=req.days, comment=comment, decided_by=decided_by, link=MY_LEAVE_LINK)
        body = when + (f" · by {decided_by}" if decided_by else "") + (f" · “{comment}”" if comment else "")
        service.deliver(session, organization_id=req.organization_id, user_ids=[requester_user], kind="leave_decision",
                        title=title, body=body, link=MY_LEAVE_LINK, mail_content=content,
                        dedupe_key=f"leave_decision:{req.id}:{req.step}:{status}")
        if intermediate:
            if not next_approvers:
                next_approvers = service.hr_user_ids(session, req.organization_id)
            requester = emp.full_name if emp else "Someone"
            service.deliver(
                session, organization_id=req.organization_id, user_ids=next_approvers, kind="leave_request",
                title=f"{requester} asks for {type_name} leave (approved by {decided_by or 'the manager'})",
                body=f"{when} · {templates.fmt_days(req.days)}", link=APPROVALS_LINK,
                mail_content=templates.leave_request(org_name=org, requester=requester, leave_type=type_name,
                                                     start=req.start_date, end=req.end_date, days=req.days,
                                                     reason=req.reason, link=APPROVALS_LINK),
                dedupe_key=f"leave_request:{req.id}:next", exclude_user_ids=[requester_user])


def on_leave_cancelled(name: str, payload: dict[str, Any]) -> None:
    with session_scope() as session:
        loaded = _load_leave(session, name, payload)
        if loaded is None:
            return
        req, emp, type_name = loaded
        recipients = _user_ids(payload, "approver_user_ids")
        if recipients is None:
            recipients = service.leave_approver_user_ids(session, req, _company_today(session, emp))
            if req.approver_user_id:
                recipients = sorted(set(recipients) | {req.approver_user_id})
        requester = emp.full_name if emp else "Someone"
        was = str(payload.get("was") or "")
        title = f"{requester} withdrew {'their approved' if was == 'approved' else 'a'} {type_name} leave request"
        service.deliver(session, organization_id=req.organization_id, user_ids=recipients, kind="leave_cancelled",
                        title=title, body=templates.fmt_range(req.start_date, req.end_date), link=APPROVALS_LINK,
                        dedupe_key=f"leave_cancelled:{req.id}",
                        exclude_user_ids=[req.requester_user_id, _int(payload, "actor_user_id")])


# ---------------------------------------------------------------- attendance corrections


def _load_correction(session, name: str, payload: dict[str, Any]):
    from hr_portal.attendance.models import AttendanceCorrection
    from hr_portal.employees.models import Employee

    org_id, correction_id = _int(payload, "organization_id"), _int(payload, "correction_id")
    if org_id is None or correction_id is None:
        _skip(name, "no organization_id or correction_id", payload)
        return None
    corr = session.get(AttendanceCorrection, correction_id)
    if corr is None or corr.organization_id != org_id:
        _skip(name, f"correction {correction_id} not found in organization {org_id}", payload)
        return None
    return corr, session.get(Employee, corr.employee_id)


def _times(session, corr, emp) -> str:
    from zoneinfo import ZoneInfo

    from hr_portal.core.db import aware
    from hr_portal.org.models import Company

    company = session.get(Company, emp.company_id) if emp else None
    tz = ZoneInfo(company.timezone) if company else ZoneInfo("UTC")
    a, b = aware(corr.check_in), aware(corr.check_out)
    if a is None or b is None:
        return ""
    return f"{a.astimezone(tz):%H:%M}–{b.astimezone(tz):%H:%M}"


def on_correction_requested(name: str, payload: dict[str, Any]) -> None:
    with session_scope() as session:
        loaded = _load_correction(session, name, payload)
        if loaded is None:
            return
        corr, emp = loaded
        approvers = _user_ids(payload, "approver_user_ids")
        if approvers is None:
            log.info("notifications: %s payload has no approver_user_ids; using the reporting manager", name)
            approvers = service.manager_approver_user_ids(session, corr.employee_id, _company_today(session, emp),
                                                          with_delegates=False)
        requester = emp.full_name if emp else "Someone"
        times = _times(session, corr, emp)
        content = templates.correction_request(org_name=service.org_name(session, corr.organization_id),
                                               requester=requester, work_date=corr.work_date, times=times,
                                               reason=corr.reason, link=CORRECTIONS_LINK)
        service.deliver(session, organization_id=corr.organization_id, user_ids=approvers, kind="correction_request",
                        title=f"{requester} asks to correct {templates.fmt_date(corr.work_date)}",
                        body=(f"{times} · " if times else "") + (corr.reason or ""), link=CORRECTIONS_LINK,
                        mail_content=content, dedupe_key=f"correction_request:{corr.id}",
                        exclude_user_ids=[corr.requested_by_user_id, _int(payload, "requester_user_id")])


def on_correction_decided(name: str, payload: dict[str, Any]) -> None:
    with session_scope() as session:
        loaded = _load_correction(session, name, payload)
        if loaded is None:
            return
        corr, emp = loaded
        status = str(payload.get("status") or getattr(corr.status, "value", corr.status))
        if status not in ("approved", "rejected"):
            _skip(name, f"status {status!r} is not a decision", payload)
            return
        requester = _int(payload, "requester_user_id") or corr.requested_by_user_id or (emp.user_id if emp else None)
        decider = _int(payload, "actor_user_id") or corr.decided_by_user_id
        decided_by = service.user_names(session, [decider]).get(decider, "") if decider else ""
        comment = payload.get("comment", corr.decision_comment)
        comment = str(comment) if comment else None
        content = templates.correction_decision(org_name=service.org_name(session, corr.organization_id),
                                                status=status, work_date=corr.work_date, comment=comment,
                                                decided_by=decided_by, link=MY_ATTENDANCE_LINK)
        body = (f"By {decided_by}" if decided_by else "") + (f" · “{comment}”" if comment else "")
        service.deliver(session, organization_id=corr.organization_id, user_ids=[requester],
                        kind="correction_decision",
                        title=f"Your correction of {templates.fmt_date(corr.work_date)} was {status}",
                        body=body.strip(" ·"), link=MY_ATTENDANCE_LINK, mail_content=content,
                        dedupe_key=f"correction_decision:{corr.id}")


SUBSCRIPTIONS = [
    (events.LEAVE_APPLIED, on_leave_applied),
    (events.LEAVE_APPROVED, on_leave_decided),
    (events.LEAVE_REJECTED, on_leave_decided),
    (events.LEAVE_CANCELLED, on_leave_cancelled),
    (events.CORRECTION_REQUESTED, on_correction_requested),
    (events.CORRECTION_DECIDED, on_correction_decided),
]


def subscribe_all() -> None:
    for name, fn in SUBSCRIPTIONS:
        subscribe_durable(name, fn)
