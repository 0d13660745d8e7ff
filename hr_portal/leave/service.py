"""Leave services: what a leave costs, balances as a ledger, requests, the approval chain, delegation,
allocations, the team calendar and the scheduled accrual / carry-forward / expiry jobs.

Rules in one place:
- A request costs the working days of its range in the employee's company calendar (weekly offs and
  holidays excluded); with the type's "sandwich" rule the non-working days between the first and the
  last working day count too. A half day at the start and/or end costs 0.5 instead of 1.
- The balance of a type in a leave year is the sum of its ledger lines. Pending requests reserve their
  days: available = balance - pending. The check and the insert of a request are serialized per
  employee (row lock on PostgreSQL, the single writer on SQLite), so concurrent requests never overbook.
- Approval is a conditional UPDATE on (status='pending', step) plus a unique (request, step) decision
  row: of any number of concurrent approvals exactly one wins.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import heapq
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core import audit, events, files, live
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import session_scope, utcnow
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hr_portal.core.models import to_iso
from hr_portal.employees.models import Department, Employee, EmployeeStatus
from hr_portal.employees.service import get_in_scope, scope_condition
from hr_portal.leave.models import (
    Accrual,
    BalancePublic,
    LeaveApproval,
    LeaveDelegation,
    LeaveLedger,
    LeavePublic,
    LeaveRequest,
    LeaveStatus,
    LeaveType,
    LeaveTypeDetail,
    LeaveTypeInput,
    LeaveTypePublic,
    LedgerKind,
    LedgerLinePublic,
)
from hr_portal.org.models import Company
from hr_portal.org.service import company_today, day_kinds

log = logging.getLogger(__name__)

MAX_RANGE_DAYS = 366
MAX_BACKDATE_DAYS = 60
HR = (Role.admin, Role.hr_manager)
APPROVERS = (Role.admin, Role.hr_manager, Role.manager)


def r2(value: float) -> float:
    """Round day amounts to hundredths (ledger sums of floats stay exact at that precision)."""
    return round(float(value) + 1e-9 if value >= 0 else float(value) - 1e-9, 2)


def fmt_days(value: float) -> str:
    value = r2(value)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} day" if abs(value) == 1 else f"{text} days"


def fmt_date(day: date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def _topics(session: Session, organization_id: int, *user_ids: int | None, queues: Iterable[str] = ()) -> None:
    """After the commit: the organization's leave topic (team calendar), the "leave" topics of `user_ids`
    (My leave) and `queues`, the topics of the approval queues the change touches (`queue_topics`)."""
    live.notify(session, live.org_topic(organization_id, "leave"),
                *[live.user_topic(u, "leave") for u in user_ids if u], *queues)


# Live topics of the approval queues: an approvals page follows its own user's queue topic, HR and admins
# also the organization's HR queue topic (they may decide every pending request). A change is published
# only to the queues that show (or showed) the request, so a decision does not reload every open approvals
# page of the organization.
QUEUE_TOPIC = "leave_queue"
HR_QUEUE_TOPIC = "leave_queue_hr"


def approvals_page_topics(actor: Actor) -> list[str]:
    """The topics an approvals page of `actor` follows."""
    topics = [live.user_topic(actor.user_id, QUEUE_TOPIC)]
    if actor.role in HR:
        topics.append(live.org_topic(actor.organization_id, HR_QUEUE_TOPIC))
    return topics


def queue_topics(session: Session, organization_id: int, manager_employee_id: int | None, today: date, *,
                 step: int = 1) -> list[str]:
    """The queues showing a pending request (before the change that is being published): HR's, and at
    step 1 those of the requester's manager and of the manager's delegates (active `today`). One statement
    at most."""
    topics = [live.org_topic(organization_id, HR_QUEUE_TOPIC)]
    if step >= 2 or manager_employee_id is None:
        return topics
    delegates = select(LeaveDelegation.delegate_employee_id).where(
        LeaveDelegation.approver_employee_id == manager_employee_id, LeaveDelegation.revoked_at.is_(None),
        LeaveDelegation.start_date <= today, LeaveDelegation.end_date >= today)
    users = session.exec(select(Employee.user_id).where(
        or_(Employee.id == manager_employee_id, Employee.id.in_(delegates)), Employee.user_id.is_not(None))).all()
    return topics + [live.user_topic(u, QUEUE_TOPIC) for u in sorted(set(users))]


# ================================================================ working days and cost


def day_fractions(kinds: dict[date, str], start: date, end: date, *, half_day_start: bool = False,
                  half_day_end: bool = False, count_non_working: bool = False) -> dict[date, float]:
    """The days of [start, end] that a leave costs, each 1.0 or 0.5.

    `kinds` is org.service.day_kinds over at least [start, end]. Without the sandwich rule only
    working days count; with it, every day between the first and the last working day counts.
    """
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    working = [d for d in days if kinds.get(d) == "working"]
    if not working:
        return {}
    counted = [d for d in days if working[0] <= d <= working[-1]] if count_non_working else working
    fractions = {d: 1.0 for d in counted}
    if start == end:
        if half_day_start or half_day_end:
            fractions[start] = 0.5 if start in fractions else 0.0
    else:
        if half_day_start and start in fractions:
            fractions[start] = 0.5
        if half_day_end and end in fractions:
            fractions[end] = 0.5
    return {d: f for d, f in fractions.items() if f > 0}


def leave_days(*, session: Session, organization_id: int, employee_ids: list[int] | None, start: date, end: date,
               statuses: tuple[str, ...] = ("approved",)) -> dict[tuple[int, date], float]:
    """Per (employee_id, date) within [start, end]: the fraction of that *working* day on leave (1.0 or 0.5),
    from requests in `statuses`. `employee_ids=None` means the whole organization.

    Used by attendance to mark days on_leave and count leave days; the calendar is the employee's
    company's (weekly offs and holidays are never on leave, whatever the type's sandwich rule)."""
    if end < start:
        return {}
    wanted = [LeaveStatus(s) for s in statuses]
    query = (select(LeaveRequest, Employee.company_id)
             .join(Employee, Employee.id == LeaveRequest.employee_id)
             .where(LeaveRequest.organization_id == organization_id, LeaveRequest.status.in_(wanted),
                    LeaveRequest.start_date <= end, LeaveRequest.end_date >= start))
    if employee_ids is not None:
        if not employee_ids:
            return {}
        query = query.where(LeaveRequest.employee_id.in_(list(employee_ids)))
    rows = session.exec(query).all()
    if not rows:
        return {}
    kinds_by_company: dict[int, dict[date, str]] = {}
    lo = min([start] + [r.start_date for r, _ in rows])
    hi = max([end] + [r.end_date for r, _ in rows])
    result: dict[tuple[int, date], float] = {}
    for request, company_id in rows:
        if company_id not in kinds_by_company:
            company = session.get(Company, company_id)
            kinds_by_company[company_id] = day_kinds(session, company, lo, hi)
        kinds = kinds_by_company[company_id]
        fractions = day_fractions(kinds, request.start_date, request.end_date, half_day_start=request.half_day_start,
                                  half_day_end=request.half_day_end, count_non_working=False)
        for day, fraction in fractions.items():
            if start <= day <= end:
                key = (request.employee_id, day)
                result[key] = min(1.0, result.get(key, 0.0) + fraction)
    return result


def _by_year(fractions: dict[date, float]) -> dict[int, float]:
    years: dict[int, float] = defaultdict(float)
    for day, fraction in fractions.items():
        years[day.year] += fraction
    return {y: r2(v) for y, v in sorted(years.items())}


def _company_of(session: Session, employee: Employee) -> Company:
    company = session.get(Company, employee.company_id)
    if company is None:  # pragma: no cover - foreign key
        raise NotFound("Company not found.")
    return company


def request_fractions(session: Session, request: LeaveRequest, leave_type: LeaveType, company: Company
                      ) -> dict[date, float]:
    kinds = day_kinds(session, company, request.start_date, request.end_date)
    return day_fractions(kinds, request.start_date, request.end_date, half_day_start=request.half_day_start,
                         half_day_end=request.half_day_end, count_non_working=leave_type.count_non_working_days)


# ================================================================ leave types


DEFAULT_TYPES: list[dict[str, Any]] = [
    dict(name="Annual", paid=True, yearly_entitlement=24.0, accrual=Accrual.upfront, prorate_on_joining=True,
         carry_forward_cap=5.0, carry_forward_expiry_months=3, max_consecutive_days=20.0, min_notice_days=3,
         reason_required_above_days=None, hr_approval_above_days=10.0, color="blue"),
    dict(name="Sick", paid=True, yearly_entitlement=10.0, accrual=Accrual.upfront, prorate_on_joining=True,
         carry_forward_cap=0.0, min_notice_days=0, reason_required_above_days=2.0, color="orange"),
    dict(name="Unpaid", paid=False, yearly_entitlement=0.0, accrual=Accrual.none, allow_negative=True,
         min_notice_days=7, reason_required_above_days=0.0, hr_approval_above_days=5.0, color="gray"),
    dict(name="Compensatory", paid=True, yearly_entitlement=0.0, accrual=Accrual.none, carry_forward_cap=0.0,
         min_notice_days=1, color="green"),
]


def _type_detail(t: LeaveType) -> LeaveTypeDetail:
    return LeaveTypeDetail(
        id=t.id, name=t.name, paid=t.paid, unit="half_day" if t.allow_half_day else "day",
        yearly_entitlement=r2(t.yearly_entitlement), allow_half_day=t.allow_half_day, accrual=t.accrual.value,
        prorate_on_joining=t.prorate_on_joining, carry_forward_cap=r2(t.carry_forward_cap),
        carry_forward_expiry_months=t.carry_forward_expiry_months, max_consecutive_days=t.max_consecutive_days,
        min_notice_days=t.min_notice_days, reason_required_above_days=t.reason_required_above_days,
        attachment_required_above_days=t.attachment_required_above_days,
        count_non_working_days=t.count_non_working_days, allow_negative=t.allow_negative,
        hr_approval_above_days=t.hr_approval_above_days, color=t.color, archived=t.archived)


def type_public(t: LeaveType) -> LeaveTypePublic:
    return LeaveTypePublic(id=t.id, name=t.name, paid=t.paid, unit="half_day" if t.allow_half_day else "day",
                           yearly_entitlement=r2(t.yearly_entitlement), allow_half_day=t.allow_half_day)


def ensure_default_types(session: Session, organization_id: int) -> list[LeaveType]:
    """Create the default types for an organization that has none (idempotent)."""
    existing = session.exec(select(LeaveType).where(LeaveType.organization_id == organization_id)).all()
    if existing:
        return list(existing)
    created = []
    for spec in DEFAULT_TYPES:
        t = LeaveType(organization_id=organization_id, **spec)
        session.add(t)
        created.append(t)
    session.flush()
    return created


def list_types(*, session: Session, actor: Actor, include_archived: bool = False) -> list[LeaveTypeDetail]:
    require(actor)
    query = select(LeaveType).where(LeaveType.organization_id == actor.organization_id)
    if not include_archived:
        query = query.where(LeaveType.archived == False)  # noqa: E712
    return [_type_detail(t) for t in session.exec(query.order_by(LeaveType.name)).all()]


def types_public(*, session: Session, actor: Actor) -> list[LeaveTypePublic]:
    """The organization's offered types, as the legacy API shows them."""
    require(actor)
    rows = session.exec(select(LeaveType).where(LeaveType.organization_id == actor.organization_id,
                                                LeaveType.archived == False)  # noqa: E712
                        .order_by(LeaveType.name)).all()
    return [type_public(t) for t in rows]


def get_type(session: Session, actor: Actor, leave_type_id: int) -> LeaveType:
    t = session.get(LeaveType, leave_type_id) if isinstance(leave_type_id, int) else None
    if t is None or t.organization_id != actor.organization_id:
        raise NotFound("Leave type not found.")
    return t


COLORS = ("blue", "green", "orange", "red", "purple", "gray", "teal", "pink", "amber", "cyan")


def _check_number(field_name: str, value: float | None, *, lo: float = 0, hi: float = 366, half: bool = False,
                  label: str = "") -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field(field_name, f"{label} must be a number.") from exc
    if value != value or value < lo or value > hi:
        raise ValidationFailed.field(field_name, f"{label} must be between {lo:g} and {hi:g}.")
    if half and abs(value * 2 - round(value * 2)) > 1e-9:
        raise ValidationFailed.field(field_name, f"{label} must be a whole or half number of days.")
    return value


def _apply_type(t: LeaveType, data: LeaveTypeInput, *, creating: bool) -> dict:
    changes: dict[str, list] = {}

    def put(attr: str, value: Any) -> None:
        old = getattr(t, attr)
        if old != value:
            changes[attr] = [old.value if hasattr(old, "value") else old, value.value if hasattr(value, "value")
                             else value]
            setattr(t, attr, value)

    fields = data.model_fields_set
    if "name" in fields or creating:
        name = (data.name or "").strip()
        if not name or len(name) > 60:
            raise ValidationFailed.field("name", "Name is required (at most 60 characters).")
        put("name", name)
    for attr in ("paid", "allow_half_day", "prorate_on_joining", "count_non_working_days", "allow_negative",
                 "archived"):
        if attr in fields and getattr(data, attr) is not None:
            put(attr, bool(getattr(data, attr)))
    if "yearly_entitlement" in fields and data.yearly_entitlement is not None:
        put("yearly_entitlement", _check_number("yearlyEntitlement", data.yearly_entitlement, hi=366, half=True,
                                                label="Yearly entitlement"))
    if "accrual" in fields and data.accrual is not None:
        put("accrual", Accrual(data.accrual))
    if "carry_forward_cap" in fields:
        put("carry_forward_cap", _check_number("carryForwardCap", data.carry_forward_cap or 0, hi=366, half=True,
                                               label="Carry-forward cap"))
    if "carry_forward_expiry_months" in fields:
        months = data.carry_forward_expiry_months
        if months is not None and not 1 <= int(months) <= 12:
            raise ValidationFailed.field("carryForwardExpiryMonths", "Carried days expire after 1 to 12 months "
                                                                     "(leave empty to keep them all year).")
        put("carry_forward_expiry_months", int(months) if months is not None else None)
    if "max_consecutive_days" in fields:
        put("max_consecutive_days", _check_number("maxConsecutiveDays", data.max_consecutive_days, lo=0.5, half=True,
                                                  label="Maximum consecutive days"))
    if "min_notice_days" in fields and data.min_notice_days is not None:
        put("min_notice_days", int(_check_number("minNoticeDays", data.min_notice_days, hi=365,
                                                 label="Minimum notice")))
    if "reason_required_above_days" in fields:
        put("reason_required_above_days", _check_number("reasonRequiredAboveDays", data.reason_required_above_days,
                                                        half=True, label="Reason required above"))
    if "attachment_required_above_days" in fields:
        put("attachment_required_above_days", _check_number(
            "attachmentRequiredAboveDays", data.attachment_required_above_days, half=True,
            label="Attachment required above"))
    if "hr_approval_above_days" in fields:
        put("hr_approval_above_days", _check_number("hrApprovalAboveDays", data.hr_approval_above_days, half=True,
                                                    label="HR approval above"))
    if "color" in fields and data.color is not None:
        if data.color not in COLORS:
            raise ValidationFailed.field("color", f"Color must be one of {', '.join(COLORS)}.")
        put("color", data.color)
    if t.accrual != Accrual.none and t.yearly_entitlement <= 0 and not t.allow_negative:
        raise ValidationFailed.field("yearlyEntitlement", "A type that accrues needs a yearly entitlement above 0 "
                                                          "(or choose 'allocations only').")
    return changes


def create_type(*, session: Session, actor: Actor, data: LeaveTypeInput) -> LeaveTypeDetail:
    require(actor, *HR)
    t = LeaveType(organization_id=actor.organization_id, name="")
    _apply_type(t, data, creating=True)
    _unique_type_name(session, actor, t)
    session.add(t)
    session.flush()
    # Everyone gets this year's entitlement of the new type now, not at the next nightly run.
    companies: dict[int, Company] = {}
    for emp in _active_employees(session, actor.organization_id):
        company = companies.setdefault(emp.company_id, _company_of(session, emp))
        grant_entitlements(session, emp, today=company_today(company), types=[t])
    audit.record(session, action="leave_type.created", actor=actor, entity_type="leave_type", entity_id=t.id,
                 changes=_type_detail(t).dump())
    _topics(session, actor.organization_id)
    live.notify(session, live.org_topic(actor.organization_id, "leave_types"))
    return _type_detail(t)


def _unique_type_name(session: Session, actor: Actor, t: LeaveType) -> None:
    clash = session.exec(select(LeaveType.id).where(LeaveType.organization_id == actor.organization_id,
                                                    func.lower(LeaveType.name) == t.name.lower(),
                                                    LeaveType.id != (t.id or 0))).first()
    if clash:
        raise Conflict(f"A leave type named '{t.name}' already exists.")


def update_type(*, session: Session, actor: Actor, leave_type_id: int, data: LeaveTypeInput) -> LeaveTypeDetail:
    require(actor, *HR)
    t = get_type(session, actor, leave_type_id)
    changes = _apply_type(t, data, creating=False)
    if changes:
        _unique_type_name(session, actor, t)
        t.updated_at = utcnow()
        session.add(t)
        audit.record(session, action="leave_type.updated", actor=actor, entity_type="leave_type", entity_id=t.id,
                     changes=changes)
        _topics(session, actor.organization_id)
        live.notify(session, live.org_topic(actor.organization_id, "leave_types"))
    return _type_detail(t)


# ================================================================ ledger and balances


def _insert_once(session: Session, entry: LeaveLedger) -> bool:
    """Insert a keyed (scheduled) ledger line unless that period's line exists: True when inserted."""
    if entry.period_key is not None:
        exists = session.exec(select(LeaveLedger.id).where(
            LeaveLedger.employee_id == entry.employee_id, LeaveLedger.leave_type_id == entry.leave_type_id,
            LeaveLedger.period_key == entry.period_key)).first()
        if exists:
            return False
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:  # another process wrote the same period's line first
        return False
    return True


def ledger_sum(session: Session, employee_id: int, leave_type_id: int, year: int, *,
               until: date | None = None) -> float:
    query = select(func.coalesce(func.sum(LeaveLedger.amount), 0.0)).where(
        LeaveLedger.employee_id == employee_id, LeaveLedger.leave_type_id == leave_type_id, LeaveLedger.year == year)
    if until is not None:
        query = query.where(LeaveLedger.entry_date <= until)
    return r2(session.exec(query).one() or 0.0)


def _pending_by_year(session: Session, employee_id: int, leave_type_id: int | None = None
                     ) -> dict[tuple[int, int], float]:
    """Days reserved by pending requests: {(leave_type_id, year): days}."""
    query = select(LeaveRequest).where(LeaveRequest.employee_id == employee_id,
                                       LeaveRequest.status == LeaveStatus.pending)
    if leave_type_id is not None:
        query = query.where(LeaveRequest.leave_type_id == leave_type_id)
    reserved: dict[tuple[int, int], float] = defaultdict(float)
    for req in session.exec(query).all():
        if req.start_date.year == req.end_date.year:
            reserved[(req.leave_type_id, req.start_date.year)] += req.days
        else:  # a request across New Year reserves in each year what it costs there
            leave_type = session.get(LeaveType, req.leave_type_id)
            emp = session.get(Employee, req.employee_id)
            for year, days in _by_year(request_fractions(session, req, leave_type, _company_of(session, emp))).items():
                reserved[(req.leave_type_id, year)] += days
    return reserved


def _balance_row(session: Session, employee_id: int, t: LeaveType, year: int,
                 pending: dict[tuple[int, int], float]) -> BalancePublic:
    rows = session.exec(select(LeaveLedger.kind, func.sum(LeaveLedger.amount)).where(
        LeaveLedger.employee_id == employee_id, LeaveLedger.leave_type_id == t.id, LeaveLedger.year == year)
        .group_by(LeaveLedger.kind)).all()
    sums = {LedgerKind(k): float(v or 0) for k, v in rows}
    taken = -(sums.get(LedgerKind.taken, 0.0) + sums.get(LedgerKind.cancelled, 0.0))
    balance = sum(sums.values())
    entitled = balance + taken
    reserved = pending.get((t.id, year), 0.0)
    return BalancePublic(leave_type_id=t.id, leave_type_name=t.name, year=year, entitled=r2(entitled),
                         taken=r2(taken), pending=r2(reserved), available=r2(balance - reserved), balance=r2(balance),
                         paid=t.paid, allow_negative=t.allow_negative)


def balances(*, session: Session, actor: Actor, employee_id: int | None = None, year: int | None = None
             ) -> list[BalancePublic]:
    """Each active type's balance for the employee (default: self) in `year` (default: this year)."""
    require(actor)
    emp = _target_employee(session, actor, employee_id)
    year = _check_year(year if year is not None else company_today(_company_of(session, emp)).year)
    pending = _pending_by_year(session, emp.id)
    types = session.exec(select(LeaveType).where(LeaveType.organization_id == actor.organization_id,
                                                 LeaveType.archived == False)  # noqa: E712
                         .order_by(LeaveType.name)).all()
    return [_balance_row(session, emp.id, t, year, pending) for t in types]


def _check_year(year: Any) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("year", "Year must be a number like 2026.") from exc
    if not 2000 <= year <= 2100:
        raise ValidationFailed.field("year", "Year must be between 2000 and 2100.")
    return year


def _target_employee(session: Session, actor: Actor, employee_id: int | None) -> Employee:
    if employee_id is None:
        if actor.employee_id is None:
            raise NotFound("You have no employee record in this organization.")
        employee_id = actor.employee_id
    return get_in_scope(session, actor, employee_id)


def ledger(*, session: Session, actor: Actor, leave_type_id: int, employee_id: int | None = None,
           year: int | None = None) -> list[LedgerLinePublic]:
    """The lines behind a balance, oldest first, each with the running balance after it."""
    require(actor)
    emp = _target_employee(session, actor, employee_id)
    t = get_type(session, actor, leave_type_id)
    year = _check_year(year if year is not None else company_today(_company_of(session, emp)).year)
    rows = session.exec(select(LeaveLedger, User.email).join(User, User.id == LeaveLedger.actor_user_id, isouter=True)
                        .where(LeaveLedger.employee_id == emp.id, LeaveLedger.leave_type_id == t.id,
                               LeaveLedger.year == year)
                        .order_by(LeaveLedger.entry_date, LeaveLedger.id)).all()
    names = _names_by_user(session, {line.actor_user_id for line, _ in rows if line.actor_user_id})
    lines, running = [], 0.0
    for line, email in rows:
        running = r2(running + line.amount)
        lines.append(LedgerLinePublic(id=line.id, entry_date=line.entry_date, kind=line.kind.value,
                                      amount=r2(line.amount), reason=line.reason, leave_request_id=line.leave_request_id,
                                      actor_name=names.get(line.actor_user_id) or email, running_balance=running))
    return lines


def _names_by_user(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(Employee).where(Employee.user_id.in_(list(user_ids)))).all()
    return {e.user_id: e.full_name for e in rows}


# ================================================================ entitlements (on joining, yearly, monthly)


def _joined(emp: Employee) -> date | None:
    return emp.date_of_joining


def upfront_amount(t: LeaveType, joined: date | None, year: int) -> tuple[float, str]:
    """The up-front entitlement of `year` for someone who joined on `joined`, and why."""
    entitlement = r2(t.yearly_entitlement)
    if joined is None or joined.year < year or not t.prorate_on_joining:
        if joined is not None and joined.year > year:
            return 0.0, ""
        return entitlement, f"{year} entitlement"
    if joined.year > year:
        return 0.0, ""
    year_days = 366 if calendar.isleap(year) else 365
    remaining = (date(year, 12, 31) - joined).days + 1
    amount = round(entitlement * remaining / year_days * 2) / 2  # to the nearest half day
    return amount, (f"{year} entitlement, pro rata from joining on {fmt_date(joined)} "
                    f"({remaining}/{year_days} of {fmt_days(entitlement)})")


def month_fraction(joined: date | None, year: int, month: int) -> float:
    """Share of `month` employed: 1 before, days-left/days-in-month in the month of joining, 0 before joining."""
    first = date(year, month, 1)
    length = calendar.monthrange(year, month)[1]
    if joined is None or joined <= first:
        return 1.0
    if joined.year == year and joined.month == month:
        return (length - joined.day + 1) / length
    return 0.0


def monthly_amount(t: LeaveType, joined: date | None, year: int, month: int) -> float:
    """Accrual of one month: the cumulative target rounded to hundredths minus the months before,
    so twelve months add up to exactly the yearly entitlement."""
    def target(m: int) -> float:
        share = sum(month_fraction(joined, year, k) for k in range(1, m + 1))
        return r2(t.yearly_entitlement * share / 12)

    return r2(target(month) - (target(month - 1) if month > 1 else 0.0))


def _existing_keys(session: Session, employee_ids: list[int], year: int) -> dict[int, set[tuple[int, str]]]:
    """Period keys already written from `year` on: {employee_id: {(leave_type_id, period_key)}}."""
    found: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for i in range(0, len(employee_ids), 500):
        for emp_id, type_id, key in session.exec(select(
                LeaveLedger.employee_id, LeaveLedger.leave_type_id, LeaveLedger.period_key).where(
                LeaveLedger.employee_id.in_(employee_ids[i:i + 500]), LeaveLedger.year >= year,
                LeaveLedger.period_key.is_not(None))).all():
            found[emp_id].add((type_id, key))
    return found


def _entitlement_lines(session: Session, emp: Employee, *, today: date, types: Iterable[LeaveType],
                       existing: set[tuple[int, str]] | None = None) -> list[LeaveLedger]:
    """The up-front allocation of this year and the monthly accruals up to this month that are not
    written yet (each line carries its period key)."""
    if emp.status != EmployeeStatus.active:
        return []
    joined = _joined(emp)
    if joined is not None and joined > today:
        return []
    if existing is None:
        existing = _existing_keys(session, [emp.id], today.year).get(emp.id, set())
    # In December next year's up-front entitlement is written too (dated 1 January), so people can
    # plan January leave before New Year.
    years = [today.year, today.year + 1] if today.month == 12 else [today.year]
    lines: list[LeaveLedger] = []
    for t in types:
        if t.accrual == Accrual.upfront and t.yearly_entitlement > 0:
            for year in years:
                key = f"alloc:{year}"
                amount, reason = upfront_amount(t, joined, year)
                if amount > 0 and (t.id, key) not in existing:
                    entry_date = max(date(year, 1, 1), joined) if joined else date(year, 1, 1)
                    lines.append(LeaveLedger(
                        organization_id=emp.organization_id, employee_id=emp.id, leave_type_id=t.id, year=year,
                        entry_date=entry_date, kind=LedgerKind.allocation, amount=amount, reason=reason,
                        period_key=key))
        elif t.accrual == Accrual.monthly and t.yearly_entitlement > 0:
            for month in range(1, today.month + 1):
                key = f"accrual:{today.year}-{month:02d}"
                amount = monthly_amount(t, joined, today.year, month)
                if amount <= 0 or (t.id, key) in existing:
                    continue
                first = date(today.year, month, 1)
                entry_date = max(first, joined) if joined else first
                reason = f"Monthly accrual {first.strftime('%B %Y')}: {fmt_days(t.yearly_entitlement)} a year / 12"
                if month_fraction(joined, today.year, month) < 1:
                    reason += f", pro rata from joining on {fmt_date(joined)}"
                lines.append(LeaveLedger(
                    organization_id=emp.organization_id, employee_id=emp.id, leave_type_id=t.id, year=today.year,
                    entry_date=entry_date, kind=LedgerKind.accrual, amount=amount, reason=reason, period_key=key))
    return lines


def grant_entitlements(session: Session, emp: Employee, *, today: date, types: Iterable[LeaveType] | None = None,
                       existing: set[tuple[int, str]] | None = None) -> int:
    """Write the missing up-front allocation of this year and the monthly accruals up to this month.
    Idempotent (period keys, unique in the database). Returns the number of lines written."""
    if types is None:
        types = session.exec(select(LeaveType).where(LeaveType.organization_id == emp.organization_id,
                                                     LeaveType.archived == False)).all()  # noqa: E712
    lines = _entitlement_lines(session, emp, today=today, types=types, existing=existing)
    if not lines:
        return 0
    try:  # the usual case in one go; if another process wrote some of them meanwhile, line by line
        with session.begin_nested():
            session.add_all(lines)
        return len(lines)
    except IntegrityError:
        fresh = [LeaveLedger(**line.model_dump(exclude={"id"})) for line in lines]
        return sum(_insert_once(session, line) for line in fresh)


def on_organization_registered(payload: dict[str, Any]) -> None:
    """Listener of user.registered: default types and this year's entitlement for everyone."""
    organization_id = payload.get("organization_id")
    if not organization_id:
        return
    with session_scope() as session:
        types = ensure_default_types(session, organization_id)
        for emp in session.exec(select(Employee).where(Employee.organization_id == organization_id)).all():
            grant_entitlements(session, emp, today=company_today(_company_of(session, emp)), types=types)


def on_employee_created(payload: dict[str, Any]) -> None:
    """Listener of employee.created: the new person's entitlement of this year."""
    employee_id = payload.get("employee_id") or payload.get("id")
    if not employee_id:
        return
    with session_scope() as session:
        emp = session.get(Employee, employee_id)
        if emp is None:
            return
        types = ensure_default_types(session, emp.organization_id)
        grant_entitlements(session, emp, today=company_today(_company_of(session, emp)), types=types)


def on_employees_imported(payload: dict[str, Any]) -> None:
    """Listener of employees.imported (CSV import): for every new person the same lines on_employee_created
    writes for one, read and written set-based: 500 people per query, one executemany and commit per chunk
    (a retried delivery skips the lines already written)."""
    from sqlalchemy import insert

    organization_id = payload.get("organization_id")
    employee_ids = sorted({int(i) for i in payload.get("employee_ids") or []})
    if not organization_id or not employee_ids:
        return
    with session_scope() as session:
        types = ensure_default_types(session, organization_id)
        session.expunge_all()
    for i in range(0, len(employee_ids), 500):  # one short transaction per chunk: writers never wait long
        with session_scope() as session:
            today = {c.id: company_today(c) for c in session.exec(
                select(Company).where(Company.organization_id == organization_id)).all()}
            people = session.exec(select(Employee).where(Employee.organization_id == organization_id,
                                                         Employee.id.in_(employee_ids[i:i + 500]))).all()
            existing = _existing_keys(session, [e.id for e in people], min(today.values()).year) if people else {}
            lines = [line for emp in people for line in _entitlement_lines(
                session, emp, today=today[emp.company_id], types=types, existing=existing.get(emp.id, set()))]
            if not lines:
                continue
            rows = [line.model_dump(exclude={"id"}) for line in lines]
            try:  # as grant_entitlements: in one go, or line by line if another process wrote some meanwhile
                with session.begin_nested():
                    session.connection().execute(insert(LeaveLedger.__table__), rows)
            except IntegrityError:
                for row in rows:
                    _insert_once(session, LeaveLedger(**row))


@dataclass
class PlannedLine:
    employee_id: int
    employee_name: str
    leave_type: str
    kind: str
    amount: float
    reason: str
    entry_date: date
    line: LeaveLedger = field(repr=False, default=None)


def _active_employees(session: Session, organization_id: int | None = None) -> list[Employee]:
    query = select(Employee).where(Employee.status == EmployeeStatus.active)
    if organization_id is not None:
        query = query.where(Employee.organization_id == organization_id)
    return list(session.exec(query.order_by(Employee.organization_id, Employee.id)).all())


def _types_by_org(session: Session, organization_id: int | None = None) -> dict[int, list[LeaveType]]:
    query = select(LeaveType).where(LeaveType.archived == False)  # noqa: E712
    if organization_id is not None:
        query = query.where(LeaveType.organization_id == organization_id)
    grouped: dict[int, list[LeaveType]] = defaultdict(list)
    for t in session.exec(query.order_by(LeaveType.id)).all():
        grouped[t.organization_id].append(t)
    return grouped


def plan_entitlements(session: Session, *, now: dt.datetime, organization_id: int | None = None
                      ) -> list[PlannedLine]:
    """Preview of the yearly allocations and monthly accruals the job would write now (nothing written)."""
    plan: list[PlannedLine] = []
    types_by_org = _types_by_org(session, organization_id)
    companies: dict[int, Company] = {}
    for emp in _active_employees(session, organization_id):
        company = companies.setdefault(emp.company_id, _company_of(session, emp))
        types = types_by_org.get(emp.organization_id, [])
        names = {t.id: t.name for t in types}
        for line in _entitlement_lines(session, emp, today=company_today(company, now), types=types):
            plan.append(PlannedLine(emp.id, emp.full_name, names.get(line.leave_type_id, ""), line.kind.value,
                                    line.amount, line.reason, line.entry_date, line))
    return plan


def run_entitlements(*, session: Session, now: dt.datetime) -> int:
    """Scheduled: the yearly up-front allocations (1 January, or on joining) and monthly accruals."""
    written = 0
    types_by_org = _types_by_org(session)
    companies: dict[int, Company] = {}
    people = _active_employees(session)
    existing = _existing_keys(session, [e.id for e in people], (now - dt.timedelta(days=2)).year)
    for emp in people:
        company = companies.setdefault(emp.company_id, _company_of(session, emp))
        written += grant_entitlements(session, emp, today=company_today(company, now),
                                      types=types_by_org.get(emp.organization_id, []),
                                      existing=existing.get(emp.id, set()))
    return written


# ---------------------------------------------------------------- carry-forward and expiry


def carry_expiry_date(t: LeaveType, year: int) -> date | None:
    """Last day on which days carried into `year` may be used (None: they last the whole year)."""
    if not t.carry_forward_expiry_months:
        return None
    month = t.carry_forward_expiry_months
    return date(year, month, calendar.monthrange(year, month)[1])


def _carry_lines(session: Session, *, now: dt.datetime, organization_id: int | None = None) -> list[PlannedLine]:
    lines: list[PlannedLine] = []
    types_by_org = _types_by_org(session, organization_id)
    companies: dict[int, Company] = {}
    for emp in _active_employees(session, organization_id):
        company = companies.setdefault(emp.company_id, _company_of(session, emp))
        year = company_today(company, now).year
        for t in types_by_org.get(emp.organization_id, []):
            key = f"carry:{year}"
            if session.exec(select(LeaveLedger.id).where(LeaveLedger.employee_id == emp.id,
                                                         LeaveLedger.leave_type_id == t.id,
                                                         LeaveLedger.period_key == key)).first():
                continue
            closing = ledger_sum(session, emp.id, t.id, year - 1)
            if closing > 0 and t.carry_forward_cap > 0:
                amount = r2(min(closing, t.carry_forward_cap))
                reason = f"Carried forward from {year - 1}"
                if closing > amount:
                    reason += (f": {fmt_days(closing)} left, cap {fmt_days(t.carry_forward_cap)}, "
                               f"{fmt_days(closing - amount)} lapsed")
                expiry = carry_expiry_date(t, year)
                if expiry:
                    reason += f"; use by {fmt_date(expiry)}"
            elif closing < 0 and t.allow_negative and t.paid:
                amount, reason = closing, f"Overdrawn balance of {year - 1} carried forward"
            else:
                continue
            line = LeaveLedger(organization_id=emp.organization_id, employee_id=emp.id, leave_type_id=t.id,
                               year=year, entry_date=date(year, 1, 1), kind=LedgerKind.carry_forward, amount=amount,
                               reason=reason, period_key=key)
            lines.append(PlannedLine(emp.id, emp.full_name, t.name, line.kind.value, amount, reason,
                                     line.entry_date, line))
    return lines


def preview_carry_forward(*, session: Session, now: dt.datetime, organization_id: int | None = None
                          ) -> list[PlannedLine]:
    return _carry_lines(session, now=now, organization_id=organization_id)


def run_carry_forward(*, session: Session, now: dt.datetime) -> int:
    """Scheduled (early January): last year's balance into this year, up to each type's cap."""
    return sum(_insert_once(session, p.line) for p in _carry_lines(session, now=now))


def _expiry_lines(session: Session, *, now: dt.datetime, organization_id: int | None = None) -> list[PlannedLine]:
    lines: list[PlannedLine] = []
    types_by_org = _types_by_org(session, organization_id)
    companies: dict[int, Company] = {}
    for emp in _active_employees(session, organization_id):
        company = companies.setdefault(emp.company_id, _company_of(session, emp))
        today = company_today(company, now)
        for t in types_by_org.get(emp.organization_id, []):
            expiry = carry_expiry_date(t, today.year)
            if expiry is None or today <= expiry:
                continue
            key = f"expire:{today.year}"
            carried = session.exec(select(func.coalesce(func.sum(LeaveLedger.amount), 0.0)).where(
                LeaveLedger.employee_id == emp.id, LeaveLedger.leave_type_id == t.id,
                LeaveLedger.year == today.year, LeaveLedger.kind == LedgerKind.carry_forward)).one() or 0.0
            if carried <= 0:
                continue
            if session.exec(select(LeaveLedger.id).where(LeaveLedger.employee_id == emp.id,
                                                         LeaveLedger.leave_type_id == t.id,
                                                         LeaveLedger.period_key == key)).first():
                continue
            # Days taken up to the expiry date use the carried days first.
            used = -(session.exec(select(func.coalesce(func.sum(LeaveLedger.amount), 0.0)).where(
                LeaveLedger.employee_id == emp.id, LeaveLedger.leave_type_id == t.id,
                LeaveLedger.year == today.year, LeaveLedger.entry_date <= expiry,
                LeaveLedger.kind.in_([LedgerKind.taken, LedgerKind.cancelled]))).one() or 0.0)
            unused = r2(carried - max(0.0, used))
            if unused <= 0:
                continue
            reason = (f"Carried days not used by {fmt_date(expiry)}: {fmt_days(carried)} carried, "
                      f"{fmt_days(max(0.0, used))} taken by then")
            line = LeaveLedger(organization_id=emp.organization_id, employee_id=emp.id, leave_type_id=t.id,
                               year=today.year, entry_date=expiry + dt.timedelta(days=1), kind=LedgerKind.expired,
                               amount=-unused, reason=reason, period_key=key)
            lines.append(PlannedLine(emp.id, emp.full_name, t.name, line.kind.value, -unused, reason,
                                     line.entry_date, line))
    return lines


def preview_expiry(*, session: Session, now: dt.datetime, organization_id: int | None = None) -> list[PlannedLine]:
    return _expiry_lines(session, now=now, organization_id=organization_id)


def run_expiry(*, session: Session, now: dt.datetime) -> int:
    """Scheduled (daily): carried days not used by their expiry date lapse."""
    return sum(_insert_once(session, p.line) for p in _expiry_lines(session, now=now))


def preview_jobs(*, session: Session, actor: Actor, job: str, now: dt.datetime | None = None
                 ) -> list[dict[str, Any]]:
    """What a job would write now, for HR (nothing is written)."""
    require(actor, *HR)
    now = now or utcnow()
    if job == "entitlements":
        planned = plan_entitlements(session, now=now, organization_id=actor.organization_id)
    elif job == "carry_forward":
        planned = preview_carry_forward(session=session, now=now, organization_id=actor.organization_id)
    elif job == "expiry":
        planned = preview_expiry(session=session, now=now, organization_id=actor.organization_id)
    else:
        raise ValidationFailed.field("job", "Unknown job.")
    return [{"employeeId": p.employee_id, "employeeName": p.employee_name, "leaveType": p.leave_type,
             "kind": p.kind, "amount": r2(p.amount), "reason": p.reason, "date": p.entry_date.isoformat()}
            for p in planned]


# ================================================================ allocations


def allocate(*, session: Session, actor: Actor, leave_type_id: int, amount: float, reason: str,
             employee_ids: list[int] | None = None, department_id: int | None = None,
             company_id: int | None = None, everyone: bool = False, year: int | None = None,
             kind: str = "allocation") -> int:
    """Grant (or, with a negative amount, take back) days for one person or many, with a reason."""
    require(actor, *HR)
    t = get_type(session, actor, leave_type_id)
    amount = _check_number("amount", amount, lo=-366, hi=366, half=True, label="Days")
    if not amount:
        raise ValidationFailed.field("amount", "Days must not be 0.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Give a reason: it is shown in the person's ledger.")
    if len(reason) > 300:
        raise ValidationFailed.field("reason", "Reason must be at most 300 characters.")
    ledger_kind = LedgerKind.allocation if kind == "allocation" else LedgerKind.adjustment
    if kind not in ("allocation", "adjustment"):
        raise ValidationFailed.field("kind", "Kind must be allocation or adjustment.")
    query = select(Employee).where(Employee.organization_id == actor.organization_id,
                                   Employee.status == EmployeeStatus.active)
    if employee_ids:
        query = query.where(Employee.id.in_([int(i) for i in employee_ids]))
    elif department_id:
        query = query.where(Employee.department_id == int(department_id))
    elif company_id:
        query = query.where(Employee.company_id == int(company_id))
    elif not everyone:
        raise ValidationFailed.field("employeeIds", "Choose a person, a department, a company or everyone.")
    targets = session.exec(query).all()
    if not targets:
        raise ValidationFailed.field("employeeIds", "Nobody matches: no active people in that selection.")
    for emp in targets:
        y = _check_year(year) if year is not None else company_today(_company_of(session, emp)).year
        session.add(LeaveLedger(organization_id=actor.organization_id, employee_id=emp.id, leave_type_id=t.id,
                                year=y, entry_date=company_today(_company_of(session, emp)) if y ==
                                company_today(_company_of(session, emp)).year else date(y, 1, 1),
                                kind=ledger_kind, amount=amount, reason=reason, actor_user_id=actor.user_id))
    session.flush()
    audit.record(session, action=f"leave.{ledger_kind.value}", actor=actor, entity_type="leave_type", entity_id=t.id,
                 changes={"amount": amount, "reason": reason, "employees": [e.id for e in targets]})
    _topics(session, actor.organization_id, *[e.user_id for e in targets])
    return len(targets)


# ================================================================ requests


def _employee_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {e.id: e.full_name for e in session.exec(select(Employee).where(Employee.id.in_(list(ids)))).all()}


def to_public(session: Session, requests: list[LeaveRequest], *, names: dict[int, str] | None = None,
              type_names: dict[int, str] | None = None) -> list[LeavePublic]:
    """Requests as the API shows them. `names` (employee id -> name) and `type_names` (leave type id ->
    name) may be given by a caller that has them already; whatever they lack is read."""
    names = dict(names or {})
    missing = ({r.employee_id for r in requests} |
               {r.approver_employee_id for r in requests if r.approver_employee_id}) - set(names)
    names.update(_employee_names(session, missing))
    type_names = dict(type_names or {})
    if missing_types := {r.leave_type_id for r in requests} - set(type_names):
        type_names.update({t.id: t.name for t in session.exec(select(LeaveType).where(
            LeaveType.id.in_(list(missing_types)))).all()})
    file_ids = [r.attachment_file_id for r in requests if r.attachment_file_id]
    attachment_names = dict(session.exec(select(files.StoredFile.id, files.StoredFile.original_name).where(
        files.StoredFile.id.in_(file_ids))).all()) if file_ids else {}
    return [LeavePublic(
        id=r.id, employee_id=r.employee_id, employee_name=names.get(r.employee_id, ""), leave_type_id=r.leave_type_id,
        leave_type_name=type_names.get(r.leave_type_id, ""), start_date=r.start_date, end_date=r.end_date,
        days=r2(r.days), half_day=r.half_day_start or r.half_day_end, half_day_start=r.half_day_start,
        half_day_end=r.half_day_end, reason=r.reason, status=r.status.value, step=r.step,
        steps_required=r.steps_required, approver_id=r.approver_employee_id,
        approver_name=names.get(r.approver_employee_id) if r.approver_employee_id else None,
        approver_comment=r.approver_comment, decided_at=to_iso(r.decided_at), created_at=to_iso(r.created_at),
        attachment_url=files.url(r.attachment_file_id), attachment_name=attachment_names.get(r.attachment_file_id))
        for r in requests]


def _parse_date(value: Any, field_name: str, label: str) -> date:
    if isinstance(value, date) and not isinstance(value, dt.datetime):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise ValidationFailed.field(field_name, f"{label} must be a date (YYYY-MM-DD).") from exc


@dataclass
class Quote:
    days: float
    by_year: dict[int, float]
    fractions: dict[date, float]
    balance: float
    pending: float
    available: float
    available_after: float
    excluded: list[str]
    steps_required: int
    problems: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "balance": self.balance, "pending": self.pending, "available": self.available,
                "availableAfter": self.available_after, "excluded": self.excluded,
                "stepsRequired": self.steps_required, "problems": self.problems}


def _quote(session: Session, emp: Employee, t: LeaveType, start: date, end: date, half_start: bool, half_end: bool,
           *, today: date, reason: str = "", ignore_request_id: int | None = None, has_attachment: bool = False
           ) -> Quote:
    company = _company_of(session, emp)
    problems: list[dict[str, str]] = []

    def problem(field_name: str, message: str) -> None:
        problems.append({"field": field_name, "message": message})

    if end < start:
        problem("endDate", "The end date is before the start date.")
        return Quote(0, {}, {}, 0, 0, 0, 0, [], 1, problems)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        problem("endDate", f"A request may cover at most {MAX_RANGE_DAYS} days; split it.")
        return Quote(0, {}, {}, 0, 0, 0, 0, [], 1, problems)
    if (half_start or half_end) and not t.allow_half_day:
        problem("halfDay", f"{t.name} leave is taken in whole days only.")
    kinds = day_kinds(session, company, start, end)
    fractions = day_fractions(kinds, start, end, half_day_start=half_start, half_day_end=half_end,
                              count_non_working=t.count_non_working_days)
    excluded_counts: dict[str, int] = defaultdict(int)
    for day, kind in kinds.items():
        if kind != "working" and day not in fractions:
            excluded_counts[kind] += 1
    excluded = []
    if excluded_counts.get("weekly_off"):
        excluded.append(f"{excluded_counts['weekly_off']} weekly off day(s)")
    if excluded_counts.get("holiday"):
        excluded.append(f"{excluded_counts['holiday']} holiday(s)")
    days = r2(sum(fractions.values()))
    by_year = _by_year(fractions)
    if not fractions:
        problem("startDate", "These dates are all weekly off days or holidays: there is nothing to take.")
    if half_start and kinds.get(start) != "working" and start != end:
        problem("halfDay", "The first day is not a working day, so it cannot be a half day.")
    if half_end and kinds.get(end) != "working" and start != end:
        problem("halfDay", "The last day is not a working day, so it cannot be a half day.")
    if t.min_notice_days and (start - today).days < t.min_notice_days:
        earliest = today + dt.timedelta(days=t.min_notice_days)
        problem("startDate", f"{t.name} leave needs {t.min_notice_days} days' notice: the earliest start is "
                             f"{fmt_date(earliest)}.")
    elif (today - start).days > MAX_BACKDATE_DAYS:
        problem("startDate", f"Leave can be recorded at most {MAX_BACKDATE_DAYS} days after the fact.")
    if t.max_consecutive_days is not None and days > t.max_consecutive_days:
        problem("endDate", f"{t.name} leave may be at most {fmt_days(t.max_consecutive_days)} in one request; "
                           f"this one is {fmt_days(days)}.")
    if t.reason_required_above_days is not None and days > t.reason_required_above_days and not reason.strip():
        problem("reason", f"Give a reason for {t.name} leave of more than {fmt_days(t.reason_required_above_days)}.")
    if t.attachment_required_above_days is not None and days > t.attachment_required_above_days \
            and not has_attachment:
        problem("attachment", f"Attach a supporting document (PDF, PNG or JPEG) for {t.name} leave of more than "
                              f"{fmt_days(t.attachment_required_above_days)}; this request is {fmt_days(days)}.")
    pending = _pending_by_year(session, emp.id, t.id)
    year = start.year
    balance = ledger_sum(session, emp.id, t.id, year)
    reserved = r2(pending.get((t.id, year), 0.0))
    if ignore_request_id is not None:
        reserved = 0.0
    available = r2(balance - reserved)
    after = r2(available - by_year.get(year, days if not by_year else 0.0))
    if not t.allow_negative and fractions:
        for y, cost in by_year.items():
            bal_y = ledger_sum(session, emp.id, t.id, y)
            avail_y = r2(bal_y - pending.get((t.id, y), 0.0))
            if cost > avail_y + 1e-9:
                problem("leaveTypeId", f"Not enough {t.name} balance for {y}: {fmt_days(max(avail_y, 0))} available "
                                       f"(after pending requests), this request needs {fmt_days(cost)}.")
    steps = 2 if (t.hr_approval_above_days is not None and days > t.hr_approval_above_days) else 1
    return Quote(days, by_year, fractions, balance, reserved, available, after, excluded, steps, problems)


def quote(*, session: Session, actor: Actor, leave_type_id: int, start_date: Any, end_date: Any,
          half_day_start: bool = False, half_day_end: bool = False, reason: str = "",
          has_attachment: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a request would cost and leave, with every rule it breaks (nothing is written)."""
    require(actor)
    emp = _target_employee(session, actor, None)
    t = get_type(session, actor, leave_type_id)
    start = _parse_date(start_date, "startDate", "Start date")
    end = _parse_date(end_date, "endDate", "End date")
    today = company_today(_company_of(session, emp), now)
    q = _quote(session, emp, t, start, end, bool(half_day_start), bool(half_day_end), today=today, reason=reason,
               has_attachment=bool(has_attachment))
    result = q.as_dict()
    result["overlaps"] = [f"{fmt_date(r.start_date)} – {fmt_date(r.end_date)} ({r.status.value})"
                          for r in _overlapping(session, emp.id, start, end)] if end >= start else []
    return result


def _overlapping(session: Session, employee_id: int, start: date, end: date) -> list[LeaveRequest]:
    return list(session.exec(select(LeaveRequest).where(
        LeaveRequest.employee_id == employee_id,
        LeaveRequest.status.in_([LeaveStatus.pending, LeaveStatus.approved]),
        LeaveRequest.start_date <= end, LeaveRequest.end_date >= start)).all())


def _lock_employee(session: Session, employee_id: int) -> Employee:
    """Serialize balance-changing work per employee (SELECT ... FOR UPDATE; SQLite has one writer anyway)."""
    emp = session.exec(select(Employee).where(Employee.id == employee_id).with_for_update()).first()
    if emp is None:
        raise NotFound("Employee not found.")
    return emp


def apply_leave(*, session: Session, actor: Actor, leave_type_id: Any, start_date: Any, end_date: Any,
                half_day_start: bool = False, half_day_end: bool = False, reason: str = "",
                attachment_id: str | None = None, now: dt.datetime | None = None) -> LeavePublic:
    """An employee applies for leave for themselves, optionally with a supporting document uploaded before
    (`upload_attachment`); the type may require one above N days."""
    require(actor)
    if actor.employee_id is None:
        raise Forbidden("Only people with an employee record can apply for leave.")
    try:
        leave_type_id = int(leave_type_id)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("leaveTypeId", "Choose a leave type.") from exc
    t = get_type(session, actor, leave_type_id)
    if t.archived:
        raise ValidationFailed.field("leaveTypeId", f"{t.name} leave is no longer offered.")
    start = _parse_date(start_date, "startDate", "Start date")
    end = _parse_date(end_date, "endDate", "End date")
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed.field("reason", "Reason must be at most 2000 characters.")
    emp = _lock_employee(session, actor.employee_id)
    if emp.organization_id != actor.organization_id or emp.status != EmployeeStatus.active:
        raise Forbidden("Only active employees can apply for leave.")
    attachment = _own_unlinked_attachment(session, actor, attachment_id) if attachment_id else None
    today = company_today(_company_of(session, emp), now)
    q = _quote(session, emp, t, start, end, bool(half_day_start), bool(half_day_end), today=today, reason=reason,
               has_attachment=attachment is not None)
    if q.problems and q.problems[0]["field"] == "endDate" and end < start:
        raise ValidationFailed(q.problems[0]["message"], details=q.problems)
    overlaps = _overlapping(session, emp.id, start, end)
    if overlaps:
        o = overlaps[0]
        message = (f"These dates overlap your {o.status.value} leave of {fmt_date(o.start_date)} – "
                   f"{fmt_date(o.end_date)}.")
        q.problems.insert(0, {"field": "startDate", "message": message})
    if q.problems:
        raise ValidationFailed(q.problems[0]["message"], details=q.problems)
    request = LeaveRequest(
        organization_id=actor.organization_id, employee_id=emp.id, leave_type_id=t.id, start_date=start,
        end_date=end, half_day_start=bool(half_day_start) or (start == end and bool(half_day_end)),
        half_day_end=bool(half_day_end) and start != end, days=q.days, reason=reason,
        steps_required=q.steps_required, requester_user_id=actor.user_id,
        attachment_file_id=attachment.id if attachment else None)
    session.add(request)
    if attachment is not None:
        attachment.linked = True
        session.add(attachment)
    session.flush()
    audit.record(session, action="leave.applied", actor=actor, entity_type="leave_request", entity_id=request.id,
                 changes={"type": t.name, "start": start.isoformat(), "end": end.isoformat(), "days": q.days})
    events.publish(session, events.LEAVE_APPLIED, leave_id=request.id, organization_id=actor.organization_id,
                   employee_id=emp.id, requester_user_id=actor.user_id, start_date=start.isoformat(),
                   end_date=end.isoformat(), days=q.days)
    _topics(session, actor.organization_id, actor.user_id,
            queues=queue_topics(session, actor.organization_id, emp.manager_id, today))
    return to_public(session, [request], names={emp.id: emp.full_name}, type_names={t.id: t.name})[0]


# ---------------------------------------------------------------- attachments


def upload_attachment(*, session: Session, actor: Actor, filename: str | None, data: bytes) -> dict[str, Any]:
    """Store a supporting document for a leave request the actor is about to send (type and size checked by
    content). It stays private to the uploader until `apply_leave` links it to their request."""
    require(actor)
    if actor.employee_id is None:
        raise Forbidden("Only people with an employee record can apply for leave.")
    meta = files.store(session, organization_id=actor.organization_id, purpose=files.FilePurpose.leave_attachment,
                       data=data, filename=filename, uploaded_by_user_id=actor.user_id)
    return {"id": meta.id, "name": meta.original_name, "contentType": meta.content_type, "size": meta.size,
            "url": files.url(meta.id)}


def _own_unlinked_attachment(session: Session, actor: Actor, attachment_id: Any) -> files.StoredFile:
    meta = files.get_meta(session, str(attachment_id), actor.organization_id)
    if meta is None or meta.purpose != files.FilePurpose.leave_attachment or meta.uploaded_by_user_id != actor.user_id:
        raise ValidationFailed.field("attachmentId", "The attachment was not found: upload it again.")
    if meta.linked:
        raise ValidationFailed.field("attachmentId", "This attachment already belongs to another request: "
                                                     "upload it again.")
    return meta


def attachment_readable(session: Session, actor: Actor, meta: files.StoredFile) -> bool:
    """May the actor open this leave attachment? The requester, whoever may see the request (their manager
    chain, a delegate of their manager while the delegation runs, HR and admins), nobody of another
    organization. An attachment not yet sent with a request: only its uploader."""
    require(actor)
    if meta.organization_id != actor.organization_id or meta.purpose != files.FilePurpose.leave_attachment:
        return False
    req_id = session.exec(select(LeaveRequest.id).where(LeaveRequest.organization_id == actor.organization_id,
                                                        LeaveRequest.attachment_file_id == meta.id)).first()
    if req_id is None:
        return not meta.linked and meta.uploaded_by_user_id == actor.user_id
    try:
        _get_scoped(session, actor, req_id)
    except NotFound:
        return False
    return True


def get_request(*, session: Session, actor: Actor, leave_id: int) -> LeavePublic:
    require(actor)
    return to_public(session, [_get_scoped(session, actor, leave_id)])[0]


def _get_scoped(session: Session, actor: Actor, leave_id: Any, *, today: date | None = None) -> LeaveRequest:
    try:
        leave_id = int(leave_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Leave request not found.") from exc
    req = session.exec(select(LeaveRequest).where(
        LeaveRequest.id == leave_id, LeaveRequest.organization_id == actor.organization_id,
        or_(scope_condition(actor, LeaveRequest.employee_id), _delegated_condition(actor, today)))).first()
    if req is None:
        raise NotFound("Leave request not found.")
    return req


def _delegated_condition(actor: Actor, today: date | None = None):
    """Requests of the reports of approvers who delegated to the actor (active today)."""
    if actor.employee_id is None:
        return LeaveRequest.id == -1
    today = today or utcnow().date()
    delegators = select(LeaveDelegation.approver_employee_id).where(
        LeaveDelegation.delegate_employee_id == actor.employee_id, LeaveDelegation.revoked_at.is_(None),
        LeaveDelegation.start_date <= today, LeaveDelegation.end_date >= today)
    reports = select(Employee.id).where(Employee.manager_id.in_(delegators))
    return LeaveRequest.employee_id.in_(reports)


def list_requests(*, session: Session, actor: Actor, status: str | None = None, employee_id: int | None = None,
                  leave_type_id: int | None = None, start_date: date | None = None, end_date: date | None = None,
                  offset: int = 0, limit: int = 20) -> tuple[list[LeavePublic], int]:
    require(actor)
    conds = [LeaveRequest.organization_id == actor.organization_id,
             scope_condition(actor, LeaveRequest.employee_id)]
    if status:
        try:
            conds.append(LeaveRequest.status == LeaveStatus(status))
        except ValueError as exc:
            raise ValidationFailed.field("status", "Status must be pending, approved, rejected or cancelled.") from exc
    if employee_id is not None:
        conds.append(LeaveRequest.employee_id == employee_id)
    if leave_type_id is not None:
        conds.append(LeaveRequest.leave_type_id == leave_type_id)
    if start_date is not None:
        conds.append(LeaveRequest.end_date >= start_date)
    if end_date is not None:
        conds.append(LeaveRequest.start_date <= end_date)
    total = session.exec(select(func.count()).select_from(LeaveRequest).where(*conds)).one()
    rows = session.exec(select(LeaveRequest).where(*conds).order_by(LeaveRequest.start_date.desc(),
                                                                    LeaveRequest.id.desc())
                        .offset(offset).limit(limit)).all()
    return to_public(session, list(rows)), int(total)


def cancel_leave(*, session: Session, actor: Actor, leave_id: Any, now: dt.datetime | None = None) -> LeavePublic:
    """The requester cancels while pending, or before an approved leave starts (the days return)."""
    require(actor)
    req = _get_scoped(session, actor, leave_id)
    if req.employee_id != actor.employee_id:
        raise Forbidden("Only the person who asked for the leave can cancel it.")
    emp = _lock_employee(session, req.employee_id)
    session.refresh(req)
    today = company_today(_company_of(session, emp), now)
    if req.status == LeaveStatus.approved and req.start_date <= today:
        raise Conflict("This leave has already started; ask HR to correct it.")
    if req.status not in (LeaveStatus.pending, LeaveStatus.approved):
        raise Conflict(f"This leave is already {req.status.value}.")
    was = req.status
    stamp = utcnow()
    done = session.exec(update(LeaveRequest).where(LeaveRequest.id == req.id, LeaveRequest.status == was)
                        .values(status=LeaveStatus.cancelled, cancelled_at=stamp, updated_at=stamp)).rowcount
    if done != 1:
        raise Conflict("This leave was changed meanwhile; reload and try again.")
    session.refresh(req)
    t = session.get(LeaveType, req.leave_type_id)
    if was == LeaveStatus.approved:
        for year, days in _by_year(request_fractions(session, req, t, _company_of(session, emp))).items():
            session.add(LeaveLedger(
                organization_id=req.organization_id, employee_id=req.employee_id, leave_type_id=req.leave_type_id,
                year=year, entry_date=max(req.start_date, date(year, 1, 1)), kind=LedgerKind.cancelled, amount=days,
                reason=f"Cancelled leave {fmt_date(req.start_date)} – {fmt_date(req.end_date)} (days returned)",
                leave_request_id=req.id, actor_user_id=actor.user_id))
    audit.record(session, action="leave.cancelled", actor=actor, entity_type="leave_request", entity_id=req.id,
                 changes={"status": [was.value, "cancelled"]})
    events.publish(session, events.LEAVE_CANCELLED, leave_id=req.id, organization_id=req.organization_id,
                   employee_id=req.employee_id, requester_user_id=req.requester_user_id, was=was.value)
    _topics(session, req.organization_id, req.requester_user_id,
            queues=queue_topics(session, req.organization_id, emp.manager_id, today, step=req.step))
    return to_public(session, [req])[0]


# ---------------------------------------------------------------- approval chain


def _active_delegators(session: Session, delegate_employee_id: int | None, today: date) -> set[int]:
    if delegate_employee_id is None:
        return set()
    return set(session.exec(select(LeaveDelegation.approver_employee_id).where(
        LeaveDelegation.delegate_employee_id == delegate_employee_id, LeaveDelegation.revoked_at.is_(None),
        LeaveDelegation.start_date <= today, LeaveDelegation.end_date >= today)).all())


def decision_right(session: Session, actor: Actor, req: LeaveRequest, requester: Employee, today: date
                   ) -> tuple[bool, int | None, str]:
    """(may decide, on behalf of whom, why not). Nobody decides their own request."""
    if req.employee_id == actor.employee_id or req.requester_user_id == actor.user_id:
        return False, None, "Nobody can approve their own leave."
    if actor.role in HR:
        return True, None, ""
    if req.step >= 2:
        return False, None, "This request now waits for HR."
    if actor.role != Role.manager:
        return False, None, "Your role does not allow approving leave."
    if requester.manager_id is not None and requester.manager_id == actor.employee_id:
        return True, None, ""
    if requester.manager_id is not None and requester.manager_id in _active_delegators(
            session, actor.employee_id, today):
        return True, requester.manager_id, ""
    return False, None, "You can decide only the leave of your own team (or of a manager who delegated to you)."


def _load_for_decision(session: Session, actor: Actor, leave_id: Any, today: date
                       ) -> tuple[LeaveRequest, Employee, Company, LeaveType, str | None]:
    """The request (scoped as `_get_scoped`), its employee, the employee's company, its type and the
    actor's own name, in one statement."""
    try:
        leave_id = int(leave_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Leave request not found.") from exc
    me = aliased(Employee)
    row = session.exec(
        select(LeaveRequest, Employee, Company, LeaveType, me.first_name, me.last_name)
        .join(Employee, Employee.id == LeaveRequest.employee_id)
        .join(Company, Company.id == Employee.company_id)
        .join(LeaveType, LeaveType.id == LeaveRequest.leave_type_id)
        .outerjoin(me, me.id == (actor.employee_id or -1))
        .where(LeaveRequest.id == leave_id, LeaveRequest.organization_id == actor.organization_id,
               or_(scope_condition(actor, LeaveRequest.employee_id), _delegated_condition(actor, today)))).first()
    if row is None:
        raise NotFound("Leave request not found.")
    req, requester, company, leave_type, first, last = row
    my_name = f"{first or ''} {last or ''}".strip() if actor.employee_id is not None and first is not None else None
    return req, requester, company, leave_type, my_name


def decide(*, session: Session, actor: Actor, leave_id: Any, status: str, comment: str | None = None,
           now: dt.datetime | None = None) -> LeavePublic:
    """Approve or reject the current step of a pending request.

    Statements (a manager's final approval): the request with its employee, company, type and the actor's
    name (one SELECT), the conditional UPDATE, the decision row, the company's holidays (the days taken),
    the ledger line, the audit entry and the queues to tell (one SELECT); notifications and mails follow
    after the commit, off the request (core/events.py, background listeners)."""
    require(actor, *APPROVERS)
    try:
        decision = LeaveStatus(status)
    except ValueError as exc:
        raise ValidationFailed.field("status", "Status must be approved or rejected.") from exc
    if decision not in (LeaveStatus.approved, LeaveStatus.rejected):
        raise ValidationFailed.field("status", "Status must be approved or rejected.")
    comment = (comment or "").strip() or None
    if comment and len(comment) > 1000:
        raise ValidationFailed.field("comment", "Comment must be at most 1000 characters.")
    req, requester, company, t, my_name = _load_for_decision(session, actor, leave_id, (now or utcnow()).date())
    if req.status != LeaveStatus.pending:
        raise Conflict(f"This leave is not pending: it is {req.status.value}.")
    today = company_today(company, now)
    allowed, on_behalf, why = decision_right(session, actor, req, requester, today)
    if not allowed:
        raise Forbidden(why)
    step = req.step
    final = decision == LeaveStatus.rejected or step >= req.steps_required or actor.role in HR
    stamp = utcnow()
    values: dict[str, Any] = {"updated_at": stamp}
    if final:
        values.update(status=decision, decided_at=stamp, approver_user_id=actor.user_id,
                      approver_employee_id=actor.employee_id, approver_comment=comment)
    else:
        values.update(step=step + 1, approver_user_id=actor.user_id, approver_employee_id=actor.employee_id,
                      approver_comment=comment)
    won = session.exec(update(LeaveRequest).where(LeaveRequest.id == req.id, LeaveRequest.status ==
                                                  LeaveStatus.pending, LeaveRequest.step == step)
                       .values(**values).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise Conflict("This leave was decided meanwhile by someone else.")
    for key, value in values.items():  # what the UPDATE wrote, without reading the row back
        set_committed_value(req, key, value)
    # No savepoint here: core/events and core/live hook after_commit, which SQLAlchemy also fires when a
    # savepoint is released. A clash rolls back the whole unit of work (the caller's transaction).
    session.add(LeaveApproval(organization_id=req.organization_id, leave_request_id=req.id, step=step,
                              decision=decision, actor_user_id=actor.user_id, on_behalf_of_employee_id=on_behalf,
                              comment=comment))
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("This leave was decided meanwhile by someone else.") from exc
    names = {requester.id: requester.full_name}
    if actor.employee_id is not None and my_name is not None:
        names[actor.employee_id] = my_name
    if final and decision == LeaveStatus.approved:
        who = names.get(actor.employee_id, actor.email) if actor.employee_id else actor.email
        for year, days in _by_year(request_fractions(session, req, t, company)).items():
            session.add(LeaveLedger(
                organization_id=req.organization_id, employee_id=req.employee_id, leave_type_id=req.leave_type_id,
                year=year, entry_date=max(req.start_date, date(year, 1, 1)), kind=LedgerKind.taken, amount=-days,
                reason=f"Leave {fmt_date(req.start_date)} – {fmt_date(req.end_date)}, approved by {who}",
                leave_request_id=req.id, actor_user_id=actor.user_id))
    action = ("leave.approved" if decision == LeaveStatus.approved else "leave.rejected") if final \
        else "leave.step_approved"
    audit.record(session, action=action, actor=actor, entity_type="leave_request", entity_id=req.id,
                 changes={"step": step, "decision": decision.value, "comment": comment,
                          "on_behalf_of": on_behalf})
    # leave.approved also for an intermediate step (final=False, the request stays pending for HR), so the
    # notifications can tell the requester and the next approvers.
    events.publish(session, events.LEAVE_APPROVED if decision == LeaveStatus.approved else events.LEAVE_REJECTED,
                   leave_id=req.id, organization_id=req.organization_id, employee_id=req.employee_id,
                   requester_user_id=req.requester_user_id, actor_user_id=actor.user_id, status=decision.value,
                   step=step, final=final, comment=comment, start_date=req.start_date.isoformat(),
                   end_date=req.end_date.isoformat(), days=req.days)
    _topics(session, req.organization_id, req.requester_user_id,
            queues=queue_topics(session, req.organization_id, requester.manager_id, today, step=step))
    return to_public(session, [req], names=names, type_names={t.id: t.name})[0]


def decide_many(*, session: Session, actor: Actor, leave_ids: list[int], status: str, comment: str | None = None
                ) -> dict[str, Any]:
    """Decide several requests, each in its own transaction (committed here), so one failure does not undo
    the others and each decision's events and live updates go out as it is made."""
    require(actor, *APPROVERS)
    session.commit()
    done, failed = [], []
    for leave_id in leave_ids[:200]:
        try:
            decide(session=session, actor=actor, leave_id=leave_id, status=status, comment=comment)
            session.commit()
            done.append(leave_id)
        except (Conflict, Forbidden, NotFound, ValidationFailed) as exc:
            session.rollback()
            failed.append({"id": leave_id, "message": exc.message})
    return {"done": done, "failed": failed}


QUEUE_PAGE = 25  # requests per page of the approvals page


def _queue_conditions(session: Session, actor: Actor, today: date) -> list[Any]:
    """What makes a request part of the actor's approval queue (pending, theirs to decide now)."""
    conds = [LeaveRequest.organization_id == actor.organization_id, LeaveRequest.status == LeaveStatus.pending]
    if actor.employee_id is not None:
        conds.append(LeaveRequest.employee_id != actor.employee_id)
    if actor.role == Role.manager:
        delegators = _active_delegators(session, actor.employee_id, today)
        managers = {actor.employee_id} | delegators
        conds += [LeaveRequest.step == 1,
                  LeaveRequest.employee_id.in_(select(Employee.id).where(Employee.manager_id.in_(list(managers))))]
    return conds


def _queue_rows(session: Session, conds: list[Any], offset: int, limit: int) -> list[LeaveRequest]:
    return list(session.exec(select(LeaveRequest).where(*conds).order_by(LeaveRequest.start_date, LeaveRequest.id)
                             .offset(offset).limit(limit)).all())


def approval_queue(*, session: Session, actor: Actor, now: dt.datetime | None = None, limit: int = 100
                   ) -> list[dict[str, Any]]:
    """Pending requests the actor may decide now (the earliest first), with the requester's balance,
    overlapping team absences and what each costs."""
    require(actor, *APPROVERS)
    conds = _queue_conditions(session, actor, (now or utcnow()).date())
    return _queue_items(session, actor, _queue_rows(session, conds, 0, limit))


def approval_queue_page(*, session: Session, actor: Actor, page: int = 1, page_size: int = QUEUE_PAGE,
                        now: dt.datetime | None = None) -> dict[str, Any]:
    """One page of `approval_queue` and how many requests wait in all. A page past the end (its last
    requests were decided meanwhile) comes back as the last page."""
    require(actor, *APPROVERS)
    conds = _queue_conditions(session, actor, (now or utcnow()).date())
    total = session.exec(select(func.count()).select_from(LeaveRequest).where(*conds)).one()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    rows = _queue_rows(session, conds, (page - 1) * page_size, page_size) if total else []
    return {"items": _queue_items(session, actor, rows), "total": total, "page": page, "pages": pages}


def _queue_items(session: Session, actor: Actor, rows: list[LeaveRequest]) -> list[dict[str, Any]]:
    if not rows:
        return []
    emp_ids = sorted({r.employee_id for r in rows})
    employees = {e.id: e for e in session.exec(select(Employee).where(Employee.id.in_(emp_ids))).all()}
    public = to_public(session, rows, names={e.id: e.full_name for e in employees.values()})
    # Batched: balances, other pending reservations and team absences for the whole page at once.
    years = sorted({r.start_date.year for r in rows})
    balance_of: dict[tuple[int, int, int], float] = defaultdict(float)
    for emp_id, type_id, year, amount in session.exec(
            select(LeaveLedger.employee_id, LeaveLedger.leave_type_id, LeaveLedger.year, func.sum(LeaveLedger.amount))
            .where(LeaveLedger.employee_id.in_(emp_ids), LeaveLedger.year.in_(years))
            .group_by(LeaveLedger.employee_id, LeaveLedger.leave_type_id, LeaveLedger.year)).all():
        balance_of[(emp_id, type_id, year)] = float(amount or 0)
    reserved: dict[tuple[int, int, int], float] = defaultdict(float)
    for emp_id, type_id, start, days in session.exec(  # plain columns: only what the sums need
            select(LeaveRequest.employee_id, LeaveRequest.leave_type_id, LeaveRequest.start_date, LeaveRequest.days)
            .where(LeaveRequest.employee_id.in_(emp_ids), LeaveRequest.status == LeaveStatus.pending)).all():
        reserved[(emp_id, type_id, start.year)] += days
    team_of = _team_absences_batch(session, rows, employees)
    manager_names = _employee_names(session, {e.manager_id for e in employees.values() if e.manager_id})
    out = []
    for r, p in zip(rows, public, strict=True):
        emp = employees[r.employee_id]
        key = (emp.id, r.leave_type_id, r.start_date.year)
        balance = r2(balance_of.get(key, 0.0))
        others_pending = r2(reserved.get(key, 0.0) - r.days)
        team = team_of.get(r.id, [])
        item = p.dump()
        item.update({
            "balance": balance, "availableAfter": r2(balance - others_pending - r.days),
            "otherPending": others_pending,
            "teamAbsences": team, "teamAbsenceText": ", ".join(team) if team else "Nobody else from the team is off",
            "awaiting": "HR" if r.step >= 2 else "Manager",
            "onBehalfOf": (manager_names.get(emp.manager_id, "")
                           if actor.role == Role.manager and emp.manager_id != actor.employee_id else ""),
        })
        out.append(item)
    return out


SHORT_ABSENCE = dt.timedelta(days=31)


def _team_absences_batch(session: Session, rows: list[LeaveRequest], employees: dict[int, Employee]
                         ) -> dict[int, list[str]]:
    """For each request: teammates (same manager or same department) off (approved or pending) meanwhile."""
    managers = {e.manager_id for e in employees.values() if e.manager_id}
    departments = {e.department_id for e in employees.values() if e.department_id}
    if not managers and not departments:
        return {}
    team = []
    if managers:
        team.append(Employee.manager_id.in_(list(managers)))
    if departments:
        team.append(Employee.department_id.in_(list(departments)))
    # The requests' periods merged: only absences overlapping one of them are read (HR's 100 oldest pending
    # requests can spread over more than a year, most of it covered by no request).
    periods: list[list[date]] = []
    for r in sorted(rows, key=lambda r: r.start_date):
        if periods and r.start_date <= periods[-1][1] + dt.timedelta(days=1):
            periods[-1][1] = max(periods[-1][1], r.end_date)
        else:
            periods.append([r.start_date, r.end_date])
    # Plain columns, not ORM objects: for HR the window covers most of the organization (thousands of rows).
    # (No enum column: converting ~14,000 statuses to LeaveStatus cost HR's queue 90 ms; no names either, they
    # are read below for the entries shown.)
    others = session.exec(
        select(LeaveRequest.start_date, LeaveRequest.end_date, LeaveRequest.id, LeaveRequest.employee_id,
               (LeaveRequest.status == LeaveStatus.pending).label("pending"), Employee.manager_id,
               Employee.department_id)
        .join(Employee, Employee.id == LeaveRequest.employee_id).where(
            LeaveRequest.organization_id == rows[0].organization_id, or_(*team),
            LeaveRequest.status.in_([LeaveStatus.pending, LeaveStatus.approved]),
            # The whole window first (an index range: ix_report_leave_org_status_dates), then its periods.
            LeaveRequest.end_date >= periods[0][0], LeaveRequest.start_date <= max(hi for _lo, hi in periods),
            or_(*(and_(LeaveRequest.start_date <= hi, LeaveRequest.end_date >= lo) for lo, hi in periods)))
        .order_by(LeaveRequest.start_date, LeaveRequest.end_date, LeaveRequest.id)).all()
    # Indexed by manager and by department, each list in (start, end, id) order; labels are made only for
    # the (at most 10 per request) entries shown.
    by_manager: dict[int, list[tuple]] = defaultdict(list)
    by_department: dict[int, list[tuple]] = defaultdict(list)
    for start, end, other_id, other_emp, pending, manager_id, department_id in others:
        entry = (start, end, other_id, other_emp, pending)
        if manager_id:
            by_manager[manager_id].append(entry)
        if department_id:
            by_department[department_id].append(entry)
    # Each list split into short absences (at most SHORT_ABSENCE) with their start dates, and the few longer
    # ones: a short entry starting more than SHORT_ABSENCE before a request's first day cannot overlap it, so
    # a walk starts there (bisect) instead of at the window's beginning (HR's queue: 100 requests over months
    # against thousands of absences).
    split: dict[int, tuple[list[date], list[tuple], list[tuple]]] = {}
    for entries in (*by_manager.values(), *by_department.values()):
        short = [e for e in entries if e[1] - e[0] <= SHORT_ABSENCE]
        split[id(entries)] = ([e[0] for e in short], short, [e for e in entries if e[1] - e[0] > SHORT_ABSENCE])

    def may_overlap(entries: list[tuple], first_day: date) -> list[list[tuple]]:
        if not entries:
            return []
        starts, short, long = split[id(entries)]
        return [short[bisect.bisect_left(starts, first_day - SHORT_ABSENCE):], long]

    shown: dict[int, list[tuple]] = {}
    for r in rows:
        emp = employees[r.employee_id]
        request_id, emp_id, first_day, last_day = r.id, emp.id, r.start_date, r.end_date
        lists = [*may_overlap(by_manager.get(emp.manager_id, []) if emp.manager_id else [], first_day),
                 *may_overlap(by_department.get(emp.department_id, []) if emp.department_id else [], first_day)]
        picked: list[tuple] = []
        seen: set[int] = set()
        for entry in heapq.merge(*lists):
            start, end, other_id, other_emp, _pending = entry
            if start > last_day:  # in start order: nothing later overlaps
                break
            if end < first_day or other_id == request_id or other_emp == emp_id or other_id in seen:
                continue
            seen.add(other_id)
            picked.append(entry)
            if len(picked) == 10:
                break
        shown[r.id] = picked
    names = {emp_id: f"{first} {last}".strip() for emp_id, first, last in session.exec(
        select(Employee.id, Employee.first_name, Employee.last_name)
        .where(Employee.id.in_({e[3] for picked in shown.values() for e in picked}))).all()} \
        if any(shown.values()) else {}
    return {request_id: [f"{names.get(other_emp, '')} {fmt_date(start)[:-5]}–{fmt_date(end)[:-5]}"
                         f"{' (pending)' if pending else ''}" for start, end, _id, other_emp, pending in picked]
            for request_id, picked in shown.items()}


# ---------------------------------------------------------------- delegation


def create_delegation(*, session: Session, actor: Actor, delegate_employee_id: Any, start_date: Any, end_date: Any,
                      approver_employee_id: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """An approver who will be away names a delegate for a date range (HR may do it for any approver)."""
    require(actor, *APPROVERS)
    approver_id = actor.employee_id if approver_employee_id is None or not actor.is_hr else int(approver_employee_id)
    if approver_id is None:
        raise ValidationFailed.field("approverEmployeeId", "You have no employee record to delegate from.")
    approver = session.get(Employee, approver_id)
    if approver is None or approver.organization_id != actor.organization_id:
        raise NotFound("Approver not found.")
    try:
        delegate_id = int(delegate_employee_id)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("delegateEmployeeId", "Choose who decides while you are away.") from exc
    delegate = session.get(Employee, delegate_id)
    if delegate is None or delegate.organization_id != actor.organization_id:
        raise NotFound("Delegate not found.")
    if delegate.id == approver.id:
        raise ValidationFailed.field("delegateEmployeeId", "Choose someone other than the approver.")
    if delegate.status != EmployeeStatus.active or delegate.user_id is None:
        raise ValidationFailed.field("delegateEmployeeId", "The delegate must be an active person who can sign in.")
    delegate_user = session.get(User, delegate.user_id)
    if delegate_user is None or delegate_user.role not in APPROVERS or not delegate_user.is_active:
        raise ValidationFailed.field("delegateEmployeeId", "The delegate must be a manager, HR manager or admin.")
    start = _parse_date(start_date, "startDate", "Start date")
    end = _parse_date(end_date, "endDate", "End date")
    if end < start:
        raise ValidationFailed.field("endDate", "The end date is before the start date.")
    today = company_today(_company_of(session, approver), now)
    if end < today:
        raise ValidationFailed.field("endDate", "The delegation would already be over.")
    if (end - start).days > 366:
        raise ValidationFailed.field("endDate", "Delegate for at most a year at a time.")
    d = LeaveDelegation(organization_id=actor.organization_id, approver_employee_id=approver.id,
                        delegate_employee_id=delegate.id, start_date=start, end_date=end)
    session.add(d)
    session.flush()
    audit.record(session, action="leave.delegated", actor=actor, entity_type="leave_delegation", entity_id=d.id,
                 changes={"approver": approver.id, "delegate": delegate.id, "start": start.isoformat(),
                          "end": end.isoformat()})
    _topics(session, actor.organization_id, delegate.user_id, queues=[
        live.org_topic(actor.organization_id, HR_QUEUE_TOPIC),
        *[live.user_topic(u, QUEUE_TOPIC) for u in (approver.user_id, delegate.user_id) if u]])
    return _delegation_dict(session, d)


def _delegation_dict(session: Session, d: LeaveDelegation, names: dict[int, str] | None = None) -> dict[str, Any]:
    if names is None:
        names = _employee_names(session, {d.approver_employee_id, d.delegate_employee_id})
    return {"id": d.id, "approverEmployeeId": d.approver_employee_id,
            "approverName": names.get(d.approver_employee_id, ""), "delegateEmployeeId": d.delegate_employee_id,
            "delegateName": names.get(d.delegate_employee_id, ""), "startDate": d.start_date.isoformat(),
            "endDate": d.end_date.isoformat(), "period": f"{fmt_date(d.start_date)} – {fmt_date(d.end_date)}"}


def list_delegations(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Current and future delegations from or to the actor (HR: all of the organization)."""
    require(actor, *APPROVERS)
    conds = [LeaveDelegation.organization_id == actor.organization_id, LeaveDelegation.revoked_at.is_(None),
             LeaveDelegation.end_date >= utcnow().date() - dt.timedelta(days=1)]
    if not actor.is_hr:
        conds.append(or_(LeaveDelegation.approver_employee_id == actor.employee_id,
                         LeaveDelegation.delegate_employee_id == actor.employee_id))
    rows = session.exec(select(LeaveDelegation).where(*conds).order_by(LeaveDelegation.start_date).limit(100)).all()
    names = _employee_names(session, {d.approver_employee_id for d in rows} | {d.delegate_employee_id for d in rows})
    return [_delegation_dict(session, d, names) for d in rows]


def revoke_delegation(*, session: Session, actor: Actor, delegation_id: Any) -> None:
    require(actor, *APPROVERS)
    d = session.get(LeaveDelegation, int(delegation_id)) if str(delegation_id).isdigit() else None
    if d is None or d.organization_id != actor.organization_id or d.revoked_at is not None:
        raise NotFound("Delegation not found.")
    if not actor.is_hr and d.approver_employee_id != actor.employee_id:
        raise Forbidden("Only the approver who delegated (or HR) can end a delegation.")
    d.revoked_at = utcnow()
    session.add(d)
    audit.record(session, action="leave.delegation_revoked", actor=actor, entity_type="leave_delegation",
                 entity_id=d.id)
    users = session.exec(select(Employee.user_id).where(
        Employee.id.in_([d.approver_employee_id, d.delegate_employee_id]))).all()
    _topics(session, actor.organization_id, queues=[
        live.org_topic(actor.organization_id, HR_QUEUE_TOPIC), *[live.user_topic(u, QUEUE_TOPIC) for u in users if u]])


def delegate_candidates(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, *APPROVERS)
    # Plain columns: the approvals page reads this list each time it opens (HR's: 240 people on the bench).
    rows = session.exec(select(Employee.id, Employee.first_name, Employee.last_name).join(
        User, User.id == Employee.user_id).where(
        Employee.organization_id == actor.organization_id, Employee.status == EmployeeStatus.active,
        User.role.in_(list(APPROVERS)), User.is_active == True,  # noqa: E712
        Employee.id != (actor.employee_id or 0)).order_by(Employee.first_name, Employee.last_name).limit(300)).all()
    return [{"id": r.id, "name": f"{r.first_name} {r.last_name}".strip()} for r in rows]


# ================================================================ team calendar


def team_calendar(*, session: Session, actor: Actor, year: int, month: int, department_id: int | None = None,
                  company_id: int | None = None, limit: int = 100) -> dict[str, Any]:
    """A month of who is off (approved and pending), per team or department, with holidays."""
    require(actor, *APPROVERS)
    year = _check_year(year)
    if not 1 <= int(month) <= 12:
        raise ValidationFailed.field("month", "Month must be 1 to 12.")
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    conds = [Employee.organization_id == actor.organization_id, Employee.status == EmployeeStatus.active,
             scope_condition(actor, Employee.id, transitive=True)]
    if department_id:
        conds.append(Employee.department_id == department_id)
    if company_id:
        conds.append(Employee.company_id == company_id)
    people = list(session.exec(select(Employee).where(*conds).order_by(Employee.first_name, Employee.last_name)
                               .limit(limit)).all())
    ids = [e.id for e in people]
    approved = leave_days(session=session, organization_id=actor.organization_id, employee_ids=ids, start=first,
                          end=last, statuses=("approved",))
    pending = leave_days(session=session, organization_id=actor.organization_id, employee_ids=ids, start=first,
                         end=last, statuses=("pending",))
    kinds_by_company: dict[int, dict[date, str]] = {}
    holidays: dict[str, str] = {}
    for e in people:
        if e.company_id not in kinds_by_company:
            company = _company_of(session, e)
            kinds_by_company[e.company_id] = day_kinds(session, company, first, last)
            from hr_portal.org.service import holidays_between

            for d, name in holidays_between(session, company, first, last).items():
                holidays.setdefault(d.isoformat(), name if len(kinds_by_company) == 1 else f"{name} ({company.name})")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    rows = []
    for e in people:
        kinds = kinds_by_company[e.company_id]
        cells, off = [], 0.0
        for d in days:
            a, p = approved.get((e.id, d), 0.0), pending.get((e.id, d), 0.0)
            if a:
                state = "approved_half" if a < 1 else "approved"
            elif p:
                state = "pending_half" if p < 1 else "pending"
            else:
                state = kinds.get(d, "working")
            off += a
            cells.append({"day": d.day, "state": state})
        rows.append({"employeeId": e.id, "name": e.full_name, "cells": cells, "daysOff": r2(off),
                     "onLeave": any(c["state"].startswith(("approved", "pending")) for c in cells)})
    header = [{"day": d.day, "weekday": d.strftime("%a")[:2], "holiday": holidays.get(d.isoformat(), ""),
               "off": all(kinds_by_company[c].get(d) != "working" for c in kinds_by_company)
               if kinds_by_company else d.isoweekday() >= 6} for d in days]
    return {"year": year, "month": month, "title": first.strftime("%B %Y"), "header": header, "rows": rows,
            "holidays": [{"date": k, "name": v} for k, v in sorted(holidays.items())]}


def departments(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor)
    rows = session.exec(select(Department).where(Department.organization_id == actor.organization_id,
                                                 Department.archived == False)  # noqa: E712
                        .order_by(Department.name)).all()
    return [{"id": d.id, "name": d.name} for d in rows]


def people_choices(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    require(actor, *HR)
    rows = session.exec(select(Employee).where(Employee.organization_id == actor.organization_id,
                                               Employee.status == EmployeeStatus.active)
                        .order_by(Employee.first_name, Employee.last_name).limit(1000)).all()
    return [{"id": e.id, "name": f"{e.full_name} ({e.employee_code})"} for e in rows]
