"""Reports and organization-wide figures: headcount over time, attendance presence and lateness, the
monthly attendance sheet, leave taken and owed, and the aggregates the Home dashboards show.

Every figure comes from aggregate SQL over the other modules' tables (GROUP BY, SUM(CASE ...)), always
filtered by organization and by role scope (`employees.service.scope_condition`): admin and
hr_manager see the organization, a manager sees their team (everyone reporting to them, at any depth,
not themselves). Python only touches aggregated rows and the calendar (companies x days), never one
row per employee or per attendance record, so the reports stay fast on 20,000 people and millions of
attendance rows (bench/bench_reports.py, docs/performance.md).

Definitions (the same rules as the modules the numbers come from):
- In headcount on day D: joined on or before D (or no joining date) and not left by the end of D.
  The leaving moment of an inactive employee is their last `employee.deactivated` audit entry
  (the employees module keeps no leaving date), else the record's last update.
- Attendance, per working day of the person's company (weekly offs and holidays excluded) and only
  for complete days (up to yesterday): present = has an attendance record; on leave = approved leave
  that day and no record; absent = in headcount, no record, no leave. Late = a record whose status is
  late and no leave that day (attendance shows a late arrival on a leave day as present).
  Presence rate = present / (scheduled - on leave).
- Leave taken = the ledger's taken and cancelled lines (negated) dated in the range; days owed =
  each active person's positive balance of a paid type for the year (ledger sum; pending requests
  are not deducted).
"""

from __future__ import annotations

import calendar
import csv
import io
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, and_, case, cast, extract, false, func, literal, or_, text, true, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from hr_portal.attendance import service as attendance
from hr_portal.attendance.models import (
    AttendanceCorrection,
    AttendanceRecord,
    AttendanceStatus,
    CorrectionStatus,
    EmployeeShift,
    Shift,
)
from hr_portal.auth.models import Role
from hr_portal.core.audit import AuditLog
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import aware, utcnow
from hr_portal.core.errors import ValidationFailed
from hr_portal.employees.models import Department, Employee, EmployeeStatus
from hr_portal.employees.service import scope_condition
from hr_portal.leave.models import LeaveDelegation, LeaveLedger, LeaveRequest, LeaveStatus, LeaveType, LedgerKind
from hr_portal.notifications.models import CelebrationOptOut
from hr_portal.org.models import Company
from hr_portal.org.service import company_today, day_kinds
from hr_portal.reports.models import DAY_SUMMARY_REBUILD, AttendanceDaySummary

REPORT_ROLES = (Role.admin, Role.hr_manager, Role.manager)
HR = (Role.admin, Role.hr_manager)
MAX_RANGE_DAYS = 366
MAX_HEADCOUNT_DAYS = 5 * 365 + 1  # headcount over time: monthly points, up to five years
DEFAULT_RANGE_DAYS = 30
SHEET_PAGE_SIZE = 50
UPCOMING_DAYS = 30
UPCOMING_LIMIT = 50
CELEBRATION_DAYS = 14

TYPE_LABELS = {"full_time": "Full time", "part_time": "Part time", "contract": "Contract", "intern": "Intern"}
NO_DEPARTMENT = "No department"


# ================================================================ filters and scope


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    company_id: int | None = None
    department_id: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _parse_day(value: Any, field_name: str, label: str) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value or "").strip())
        except ValueError as exc:
            raise ValidationFailed.field(field_name, f"{label} must be a date (YYYY-MM-DD).") from exc
    if not 2000 <= parsed.year <= 2100:
        raise ValidationFailed.field(field_name, f"{label} must be between 2000 and 2100.")
    return parsed


def _parse_id(value: Any, field_name: str) -> int | None:
    if value in (None, "", "all", 0, "0"):
        return None
    try:
        parsed = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field(field_name, "Choose a value from the list.") from exc
    if not 1 <= parsed <= 2**31 - 1:
        raise ValidationFailed.field(field_name, "Choose a value from the list.")
    return parsed


def make_filters(*, start: Any = None, end: Any = None, company_id: Any = None, department_id: Any = None,
                 today: date | None = None, default_days: int = DEFAULT_RANGE_DAYS,
                 max_days: int = MAX_RANGE_DAYS) -> Filters:
    """Validated filters; a missing range means the `default_days` up to `today`."""
    today = today or utcnow().date()
    end_day = _parse_day(end, "endDate", "End date") if end not in (None, "") else today
    start_day = (_parse_day(start, "startDate", "Start date") if start not in (None, "")
                 else end_day - timedelta(days=default_days - 1))
    if start_day > end_day:
        raise ValidationFailed.field("endDate", "The end date must not be before the start date.")
    if (end_day - start_day).days + 1 > max_days:
        limit = f"{max_days // 365} years" if max_days >= 730 else f"{max_days} days"
        raise ValidationFailed.field("endDate", f"Choose a range of at most {limit}.")
    return Filters(start_day, end_day, _parse_id(company_id, "companyId"), _parse_id(department_id, "departmentId"))


def _check_filters(session: Session, actor: Actor, f: Filters) -> None:
    """Ids from the browser must belong to the actor's organization."""
    if f.company_id is not None:
        company = session.get(Company, f.company_id)
        if company is None or company.organization_id != actor.organization_id:
            raise ValidationFailed.field("companyId", "Unknown company.")
    if f.department_id is not None:
        dept = session.get(Department, f.department_id)
        if dept is None or dept.organization_id != actor.organization_id:
            raise ValidationFailed.field("departmentId", "Unknown department.")


def scope_conditions(actor: Actor) -> list:
    """Employees the actor's reports cover: the organization (HR), or the manager's team (not themselves)."""
    conds = [Employee.organization_id == actor.organization_id]
    if actor.role in HR:
        return conds
    if actor.role != Role.manager or actor.employee_id is None:
        return [*conds, false()]
    return [*conds, scope_condition(actor, Employee.id, transitive=True), Employee.id != actor.employee_id]


def _people(actor: Actor, f: Filters | None = None) -> list:
    conds = scope_conditions(actor)
    if f is not None and f.company_id is not None:
        conds.append(Employee.company_id == f.company_id)
    if f is not None and f.department_id is not None:
        conds.append(Employee.department_id == f.department_id)
    return conds


MAX_ID_LIST = 5000


def _record_scope(session: Session, actor: Actor, f: Filters | None = None) -> list:
    """Extra conditions for queries on attendance records: for a manager's team or a company/department
    filter, the people's ids (the per-person index then reads only their rows instead of the whole
    organization's range of days); nothing for the whole organization."""
    narrowed = actor.role not in HR or (f is not None and (f.company_id or f.department_id))
    if not narrowed:
        return []
    ids = list(session.exec(select(Employee.id).where(*_people(actor, f)).limit(MAX_ID_LIST + 1)).all())
    if len(ids) > MAX_ID_LIST:
        return []
    return [AttendanceRecord.employee_id.in_(ids or [-1])]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _left_subquery(organization_id: int):
    """employee_id -> the moment of their last deactivation (audit log)."""
    return (select(AuditLog.entity_id.label("employee_id"), func.max(AuditLog.created_at).label("left_at"))
            .where(AuditLog.organization_id == organization_id, AuditLog.entity_type == "employee",
                   AuditLog.action == "employee.deactivated")
            .group_by(AuditLog.entity_id).subquery("left_at"))


def _left_expr(left_sq):
    """When an inactive employee left (NULL for active people)."""
    return case((Employee.status == EmployeeStatus.inactive, func.coalesce(left_sq.c.left_at, Employee.updated_at)),
                else_=None)


def _joined_by(day: date):
    return or_(Employee.date_of_joining.is_(None), Employee.date_of_joining <= day)


def _in_headcount(day: date, left) -> Any:
    return and_(_joined_by(day), or_(left.is_(None), left >= _day_start(day + timedelta(days=1))))


def _tune(session: Session) -> None:
    """PostgreSQL, for this transaction only: room to hash and sort aggregates in memory, and no JIT
    compilation (it costs more than these sub-second queries gain)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


def _utc_date(session: Session, expr):
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", expr))
    return func.date(expr)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _n(value: Any) -> int:
    return int(value or 0)


def _f(value: Any) -> float:
    return float(value or 0.0)


def _names(session: Session, model, organization_id: int) -> dict[int, str]:
    return dict(session.exec(select(model.id, model.name).where(model.organization_id == organization_id)).all())


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def fmt_day(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def fmt_long(day: date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def fmt_days(value: float) -> str:
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return f"{text} day" if text == "1" else f"{text} days"


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows(rows)
    return buf.getvalue()


def _range_slug(f: Filters) -> str:
    return f"{f.start.isoformat()}_{f.end.isoformat()}"


# ================================================================ filter choices


def filter_options(*, session: Session, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """Companies and departments for the filter pickers (a manager: those of their team)."""
    require(actor, *REPORT_ROLES)
    companies = session.exec(select(Company.id, Company.name).where(Company.organization_id == actor.organization_id)
                             .order_by(Company.name)).all()
    depts = session.exec(select(Department.id, Department.name).where(
        Department.organization_id == actor.organization_id).order_by(Department.name)).all()
    if actor.role not in HR:
        used = set(session.exec(select(Employee.company_id, Employee.department_id).where(
            *_people(actor)).distinct()).all())
        used_companies = {c for c, _ in used}
        used_depts = {d for _, d in used if d is not None}
        companies = [c for c in companies if c[0] in used_companies]
        depts = [d for d in depts if d[0] in used_depts]
    return {"companies": [{"id": i, "name": n} for i, n in companies],
            "departments": [{"id": i, "name": n} for i, n in depts]}


# ================================================================ headcount


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar months touching [start, end], each clipped to the range."""
    out = []
    first = start.replace(day=1)
    while first <= end:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        out.append((max(first, start), min(last, end)))
        first = last + timedelta(days=1)
    return out


def headcount_report(*, session: Session, actor: Actor, filters: Filters) -> dict[str, Any]:
    """Headcount at each month's end, joiners and leavers per month, and the headcount at the end of the
    range by department, company and employment type."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    _check_filters(session, actor, filters)
    org = actor.organization_id
    conds = _people(actor, filters)
    left_sq = _left_subquery(org)
    left = _left_expr(left_sq)
    months = _months(filters.start, filters.end)
    cols = []
    for i, (a, b) in enumerate(months):
        cols += [
            func.sum(case((_in_headcount(b, left), 1), else_=0)).label(f"h{i}"),
            func.sum(case((and_(Employee.date_of_joining >= a, Employee.date_of_joining <= b), 1), else_=0)).label(
                f"j{i}"),
            func.sum(case((and_(left >= _day_start(a), left < _day_start(b + timedelta(days=1))), 1), else_=0)).label(
                f"l{i}"),
        ]
    base = select(*cols).select_from(Employee).outerjoin(left_sq, left_sq.c.employee_id == Employee.id).where(*conds)
    row = session.exec(base).one()._mapping
    series = []
    for i, (a, b) in enumerate(months):
        series.append({"month": a.strftime("%Y-%m"), "label": a.strftime("%b %Y"), "as_of": b.isoformat(),
                       "headcount": _n(row[f"h{i}"]), "joiners": _n(row[f"j{i}"]), "leavers": _n(row[f"l{i}"])})

    def breakdown(column_, names: dict | None, labels: dict | None = None) -> list[dict[str, Any]]:
        rows = session.exec(select(column_, func.count()).select_from(Employee)
                            .outerjoin(left_sq, left_sq.c.employee_id == Employee.id)
                            .where(*conds, _in_headcount(filters.end, left)).group_by(column_)).all()
        out = []
        for key, count in rows:
            if names is not None:
                name = names.get(key, "") if key is not None else NO_DEPARTMENT
            else:
                value = key.value if hasattr(key, "value") else str(key)
                name = (labels or {}).get(value, value)
            out.append({"name": name or NO_DEPARTMENT, "headcount": int(count)})
        out.sort(key=lambda r: (-r["headcount"], r["name"]))
        total = sum(r["headcount"] for r in out)
        for r in out:
            r["share"] = _pct(r["headcount"], total)
        return out

    by_department = breakdown(Employee.department_id, _names(session, Department, org))
    by_company = breakdown(Employee.company_id, _names(session, Company, org))
    by_type = breakdown(Employee.employment_type, None, TYPE_LABELS)
    joiners = sum(s["joiners"] for s in series)
    leavers = sum(s["leavers"] for s in series)
    start_count = _n(session.exec(select(func.sum(case((_in_headcount(filters.start - timedelta(days=1), left), 1),
                                                       else_=0)))
                                  .select_from(Employee).outerjoin(left_sq, left_sq.c.employee_id == Employee.id)
                                  .where(*conds)).one())
    end_count = series[-1]["headcount"] if series else 0
    return {
        "series": series, "by_department": by_department, "by_company": by_company, "by_type": by_type,
        "totals": {"headcount": end_count, "start_headcount": start_count, "joiners": joiners, "leavers": leavers,
                   "net": end_count - start_count,
                   "turnover": _pct(leavers, (start_count + end_count) / 2 if start_count + end_count else 0)},
        "range_label": f"{fmt_long(filters.start)} – {fmt_long(filters.end)}",
    }


def headcount_csv(*, session: Session, actor: Actor, filters: Filters) -> tuple[str, str]:
    data = headcount_report(session=session, actor=actor, filters=filters)
    rows: list[list[Any]] = [["Month", "Headcount at month end", "Joiners", "Leavers"]]
    rows += [[s["month"], s["headcount"], s["joiners"], s["leavers"]] for s in data["series"]]
    for title, key in (("Department", "by_department"), ("Company", "by_company"), ("Employment type", "by_type")):
        rows += [[], [title, f"Headcount on {filters.end.isoformat()}", "Share (%)"]]
        rows += [[r["name"], r["headcount"], r["share"]] for r in data[key]]
    return f"headcount-{_range_slug(filters)}.csv", _csv(rows)


# ================================================================ attendance


def _companies(session: Session, actor: Actor, f: Filters) -> list[Company]:
    query = select(Company).where(Company.organization_id == actor.organization_id)
    if f.company_id is not None:
        query = query.where(Company.id == f.company_id)
    return list(session.exec(query.order_by(Company.id)).all())


def attendance_report(*, session: Session, actor: Actor, filters: Filters, now: datetime | None = None
                      ) -> dict[str, Any]:
    """Per working day and per department: scheduled, present, late, on leave, absent and the presence
    rate, over the complete days of the range (today and later days are left out)."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    _check_filters(session, actor, filters)
    now = aware(now) or utcnow()
    org = actor.organization_id
    companies = _companies(session, actor, filters)
    dept_names = _names(session, Department, org)
    start = filters.start
    last_complete = min((company_today(c, now) for c in companies), default=now.date()) - timedelta(days=1)
    end = min(filters.end, last_complete)
    empty = {"daily": [], "by_department": [], "totals": _att_totals({}),
             "range_label": f"{fmt_long(filters.start)} – {fmt_long(filters.end)}",
             "note": "Today is not included: see Home for today's attendance." if filters.end > last_complete else ""}
    if end < start or not companies:
        return empty
    kinds = {c.id: day_kinds(session, c, start, end) for c in companies}
    if not any(kind == "working" for days_ in kinds.values() for kind in days_.values()):
        return empty
    conds = _people(actor, filters)

    # Present and late per (day, company, department); days off are dropped below (aggregated rows).
    if actor.role in HR:
        # The organization (optionally one company / department): the per-day rollup the database keeps in
        # step with every record (`attendance_day_summary`, at most days x departments rows).
        present_rows = _summary_rows(session, org, filters, start, end)
    else:
        # A manager's team: their people's records through the per-person ids (a team is small).
        record_scope = _record_scope(session, actor, filters)
        present_rows = session.exec(
            select(AttendanceRecord.work_date, Employee.company_id, Employee.department_id, func.count(),
                   func.sum(case((AttendanceRecord.status == AttendanceStatus.late, 1), else_=0)),
                   func.sum(case((AttendanceRecord.status == AttendanceStatus.half_day, 1), else_=0)),
                   func.sum(AttendanceRecord.work_seconds))
            .join(Employee, Employee.id == AttendanceRecord.employee_id)
            .where(AttendanceRecord.organization_id == org, AttendanceRecord.work_date >= start,
                   AttendanceRecord.work_date <= end, *record_scope, *conds)
            .group_by(AttendanceRecord.work_date, Employee.company_id, Employee.department_id)).all()

    # Approved leave on working days: without a record (on leave), and late records on a leave day.
    leave_rows = _leave_day_rows(session, org, conds, kinds, start, end)

    headcount = _daily_headcount(session, actor, conds, start, end)

    # Every contribution goes straight into its day's and its department's running sums
    # (scheduled, present, late, half days, on leave, seconds); days off are left out.
    fields = ("scheduled", "present", "late", "half_day", "on_leave", "seconds")
    per_day: dict[date, list[int]] = {}
    per_dept: dict[int | None, list[int]] = {}

    def sums(day: date, dept: int | None) -> tuple[list[int], list[int]]:
        d = per_day.get(day)
        if d is None:
            d = per_day[day] = [0, 0, 0, 0, 0, 0]
        p = per_dept.get(dept)
        if p is None:
            p = per_dept[dept] = [0, 0, 0, 0, 0, 0]
        return d, p

    for (cid, dept), series in headcount.items():
        company_kinds = kinds.get(cid, {})
        for day, count in series.items():
            if count and company_kinds.get(day) == "working":
                for bucket in sums(day, dept):
                    bucket[0] += count
    for day, cid, dept, n, late, half, seconds in present_rows:
        day = _as_date(day)
        if kinds.get(cid, {}).get(day) != "working":
            continue
        n, late, half, seconds = _n(n), _n(late), _n(half), _n(seconds)
        for bucket in sums(day, dept):
            bucket[1] += n
            bucket[2] += late
            bucket[3] += half
            bucket[5] += seconds
    for (day, _cid, dept), (on_leave, late_on_leave) in leave_rows.items():
        for bucket in sums(day, dept):
            bucket[4] += on_leave
            bucket[2] -= late_on_leave
    daily = {day: dict(zip(fields, v, strict=True)) for day, v in per_day.items()}
    by_dept = {dept: dict(zip(fields, v, strict=True)) for dept, v in per_dept.items()}
    daily_rows = []
    for day in sorted(daily):
        row = _att_totals(daily[day])
        row.update({"date": day.isoformat(), "label": fmt_day(day), "weekday": day.strftime("%a")})
        daily_rows.append(row)
    dept_rows = []
    for dept, bucket in by_dept.items():
        row = _att_totals(bucket)
        row.update({"department_id": dept or 0,
                    "department": dept_names.get(dept, NO_DEPARTMENT) if dept else NO_DEPARTMENT})
        dept_rows.append(row)
    dept_rows.sort(key=lambda r: (r["department"] == NO_DEPARTMENT, r["department"]))
    total: dict[str, int] = {}
    for bucket in daily.values():
        for k, v in bucket.items():
            total[k] = total.get(k, 0) + v
    return {"daily": daily_rows, "by_department": dept_rows, "totals": _att_totals(total),
            "range_label": f"{fmt_long(start)} – {fmt_long(end)}", "note": empty["note"]}


def _leave_day_rows(session: Session, org: int, conds: list, kinds: dict[int, dict[date, str]], start: date,
                    end: date) -> dict[tuple[date, int, int | None], list[int]]:
    """(day, company, department) -> [people on approved leave that working day without a record, people
    with a late record on a leave day], for people in `conds` from their joining day on.

    Two index-driven queries: the approved requests overlapping the range (a year of a 20,000-person
    organization: ~40,000), and the records inside those requests (one bounded range probe per request
    on PostgreSQL, a LATERAL subquery, so the planner never hashes the range's millions of records;
    such records are rare). The requests are then laid over their company's working days here, as
    leave's own `leave_days` does (about three days per request)."""
    db = session.connection()  # plain Core rows: no ORM row processing for tens of thousands of rows
    requests = db.execute(
        select(LeaveRequest.employee_id, LeaveRequest.start_date, LeaveRequest.end_date, Employee.company_id,
               Employee.department_id, Employee.date_of_joining)
        .join(Employee, Employee.id == LeaveRequest.employee_id)
        .where(LeaveRequest.organization_id == org, LeaveRequest.status == LeaveStatus.approved,
               LeaveRequest.start_date <= end, LeaveRequest.end_date >= start, *conds)).all()
    if not requests:
        return {}
    inside = [AttendanceRecord.employee_id == LeaveRequest.employee_id,
              AttendanceRecord.work_date >= LeaveRequest.start_date, AttendanceRecord.work_date <= LeaveRequest.end_date,
              AttendanceRecord.work_date >= start, AttendanceRecord.work_date <= end]
    base = (select(LeaveRequest.employee_id).select_from(LeaveRequest)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .where(LeaveRequest.organization_id == org, LeaveRequest.status == LeaveStatus.approved,
                   LeaveRequest.start_date <= end, LeaveRequest.end_date >= start, *conds))
    if session.get_bind().dialect.name == "postgresql":
        probe = (select(AttendanceRecord.work_date, AttendanceRecord.status).where(*inside)
                 .limit(MAX_RANGE_DAYS).lateral("leave_records"))
        found = db.execute(base.add_columns(probe.c.work_date, probe.c.status).join(probe, true())).all()
    else:  # SQLite joins by nested loops over the (employee_id, work_date) index anyway
        found = db.execute(base.add_columns(AttendanceRecord.work_date, AttendanceRecord.status)
                             .join(AttendanceRecord, and_(*inside))).all()
    # Each request's working days in range (a slice of its company's sorted working days), as a set of
    # (person, day, company, department): built and counted at C speed (zip/map/Counter), not day by day.
    working = {cid: sorted(d for d, kind in ks.items() if kind == "working") for cid, ks in kinds.items()}
    pairs: set[tuple[int, date, int, int | None]] = set()
    for emp, first, last, cid, dept, joined in requests:
        days = working.get(cid)
        if not days:
            continue
        lo = max(first, start, joined) if joined else max(first, start)
        i, j = bisect_left(days, lo), bisect_right(days, min(last, end))
        if i < j:
            pairs.update(zip(repeat(emp), days[i:j], repeat(cid), repeat(dept)))
    counts = Counter(map(itemgetter(1, 2, 3), pairs))
    out = {key: [n, 0] for key, n in counts.items()}
    where = {emp: (cid, dept) for emp, _f, _l, cid, dept, _j in requests}
    for emp, day, st in {(emp, _as_date(day), st) for emp, day, st in found}:  # records inside leave: rare
        cid, dept = where[emp]
        if (emp, day, cid, dept) in pairs:
            out[(day, cid, dept)][0] -= 1
            if st == AttendanceStatus.late:
                out[(day, cid, dept)][1] += 1
    return out


def _summary_rows(session: Session, org: int, f: Filters, start: date, end: date) -> list[tuple]:
    """(day, company, department or None, records, late, half days, seconds) from the per-day rollup."""
    sm = AttendanceDaySummary
    conds = [sm.organization_id == org, sm.work_date >= start, sm.work_date <= end, sm.records != 0]
    if f.company_id is not None:
        conds.append(sm.company_id == f.company_id)
    if f.department_id is not None:
        conds.append(sm.department_id == f.department_id)
    key = (sm.work_date, sm.company_id, sm.department_id)
    records = func.sum(sm.records)
    rows = session.connection().execute(
        select(*key, records, func.sum(sm.late), func.sum(sm.half_day), func.sum(sm.work_seconds))
        .where(*conds).group_by(*key).having(records != 0)).all()  # the slots of each key, summed
    return [(day, cid, dept or None, int(n), int(late), int(half), int(seconds))
            for day, cid, dept, n, late, half, seconds in rows]


def rebuild_day_summary(session: Session) -> int:
    """Recompute the per-day attendance rollup from the records (repair; the triggers keep it exact)."""
    session.execute(text("DELETE FROM attendance_day_summary"))
    return session.execute(text(DAY_SUMMARY_REBUILD)).rowcount


def _att_totals(c: dict[str, int]) -> dict[str, Any]:
    scheduled, present, on_leave = c.get("scheduled", 0), c.get("present", 0), c.get("on_leave", 0)
    late = max(0, c.get("late", 0))
    expected = max(0, scheduled - on_leave)
    absent = max(0, expected - present)
    seconds = c.get("seconds", 0)
    return {"scheduled": scheduled, "present": present, "late": late, "half_day": c.get("half_day", 0),
            "on_leave": on_leave, "absent": absent, "rate": _pct(present, expected), "late_rate": _pct(late, present),
            "hours": round(seconds / 3600, 1), "avg_hours": round(seconds / 3600 / present, 2) if present else 0.0}


def _daily_headcount(session: Session, actor: Actor, conds: list, start: date, end: date
                     ) -> dict[tuple[int, int | None], dict[date, int]]:
    """(company, department) -> day -> people in headcount that day, from the headcount on the first day
    plus joiners and leavers per day (three grouped queries)."""
    left_sq = _left_subquery(actor.organization_id)
    left = _left_expr(left_sq)

    def q(*cols):
        return (select(*cols).select_from(Employee).outerjoin(left_sq, left_sq.c.employee_id == Employee.id)
                .where(*conds))

    base = session.exec(q(Employee.company_id, Employee.department_id, func.count())
                        .where(_in_headcount(start, left))
                        .group_by(Employee.company_id, Employee.department_id)).all()
    joins = session.exec(q(Employee.date_of_joining, Employee.company_id, Employee.department_id, func.count())
                         .where(Employee.date_of_joining > start, Employee.date_of_joining <= end)
                         .group_by(Employee.date_of_joining, Employee.company_id, Employee.department_id)).all()
    left_day = _utc_date(session, left)
    leaves = session.exec(q(left_day, Employee.company_id, Employee.department_id, func.count())
                          .where(left >= _day_start(start + timedelta(days=1)), left < _day_start(end + timedelta(days=1)),
                                 or_(Employee.date_of_joining.is_(None), Employee.date_of_joining <= left_day))
                          .group_by(left_day, Employee.company_id, Employee.department_id)).all()
    deltas: dict[tuple[int, int | None], dict[date, int]] = {}
    for day, cid, dept, n in joins:
        deltas.setdefault((cid, dept), {})
        deltas[(cid, dept)][_as_date(day)] = deltas[(cid, dept)].get(_as_date(day), 0) + int(n)
    for day, cid, dept, n in leaves:
        deltas.setdefault((cid, dept), {})
        deltas[(cid, dept)][_as_date(day)] = deltas[(cid, dept)].get(_as_date(day), 0) - int(n)
    out: dict[tuple[int, int | None], dict[date, int]] = {}
    starts = {(cid, dept): int(n) for cid, dept, n in base}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for key in set(starts) | set(deltas):
        running = starts.get(key, 0)
        changes = deltas.get(key, {})
        series = {}
        for day in days:
            if day != start:
                running += changes.get(day, 0)
            series[day] = running
        out[key] = series
    return out


def attendance_csv(*, session: Session, actor: Actor, filters: Filters, now: datetime | None = None
                   ) -> tuple[str, str]:
    data = attendance_report(session=session, actor=actor, filters=filters, now=now)
    head = ["Scheduled", "Present", "Late", "Half days", "On leave", "Absent", "Presence rate (%)", "Hours"]

    def nums(r: dict) -> list:
        return [r["scheduled"], r["present"], r["late"], r["half_day"], r["on_leave"], r["absent"], r["rate"],
                r["hours"]]

    rows: list[list[Any]] = [["Date", "Weekday", *head]]
    rows += [[r["date"], r["weekday"], *nums(r)] for r in data["daily"]]
    rows += [["Total", "", *nums(data["totals"])], [], ["Department", "", *head]]
    rows += [[r["department"], "", *nums(r)] for r in data["by_department"]]
    return f"attendance-{_range_slug(filters)}.csv", _csv(rows)


# ================================================================ monthly attendance sheet


def _sheet_query(actor: Actor, company_id: int | None, department_id: int | None):
    f = Filters(date.today(), date.today(), company_id, department_id)
    return select(Employee).where(*_people(actor, f), Employee.status == EmployeeStatus.active)


def monthly_sheet(*, session: Session, actor: Actor, month: date, company_id: Any = None, department_id: Any = None,
                  page: Any = 1, limit: int = SHEET_PAGE_SIZE, now: datetime | None = None) -> dict[str, Any]:
    """People x days of a month with attendance status codes and each person's totals, one page at a time
    (the day statuses are attendance's own `derive_days`, so the sheet always matches My attendance)."""
    require(actor, *REPORT_ROLES)
    now = aware(now) or utcnow()
    f = Filters(month, month, _parse_id(company_id, "companyId"), _parse_id(department_id, "departmentId"))
    _check_filters(session, actor, f)
    try:
        page = max(1, min(int(page), 100_000))
    except (TypeError, ValueError):
        page = 1
    limit = max(1, min(int(limit), 200))
    first, last = attendance.month_bounds(month)
    query = _sheet_query(actor, f.company_id, f.department_id)
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    pages = max(1, math.ceil(total / limit))
    page = min(page, pages)
    members = list(session.exec(query.order_by(Employee.first_name, Employee.last_name, Employee.id)
                                .offset((page - 1) * limit).limit(limit)).all())
    cal = attendance.Calendar(session, actor.organization_id)
    people = attendance.derive_days(session, cal, members, first, last, now=now)
    dept_names = _names(session, Department, actor.organization_id)
    days = [{"day": d.day, "weekday": d.strftime("%a")[:2], "date": d.isoformat()}
            for d in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    rows = []
    for p in people:
        t = p.totals.as_dict()
        rows.append({
            "employee_id": p.employee.id, "name": p.employee.full_name, "code": p.employee.employee_code,
            "department": dept_names.get(p.employee.department_id, "") if p.employee.department_id else "",
            "cells": [{"code": attendance.STATUS_CODES.get(x.status, ""), "status": x.status,
                       "title": f"{attendance.fmt_day(x.day)}: {attendance.STATUS_LABELS.get(x.status) or 'No record'}"}
                      for x in p.days],
            "present": t["present_days"], "late": t["late_days"], "half_days": t["half_days"],
            "absent": t["absent_days"], "leave": t["leave_label"], "working": t["working_days"],
            "hours": t["total_label"],
        })
    return {"rows": rows, "days": days, "total": total, "page": page, "pages": pages,
            "month": first.strftime("%Y-%m"), "month_label": first.strftime("%B %Y")}


SHEET_CSV_CHUNK = 1000  # people per chunk of CSV text


def monthly_sheet_csv(*, session: Session, actor: Actor, month: date, company_id: Any = None,
                      department_id: Any = None, now: datetime | None = None) -> tuple[str, str]:
    """The whole sheet (every person in scope and filter) as CSV: one row per person, one column per day."""
    name, chunks = monthly_sheet_csv_stream(session=session, actor=actor, month=month, company_id=company_id,
                                            department_id=department_id, now=now)
    return name, "".join(chunks)


def monthly_sheet_csv_stream(*, session: Session, actor: Actor, month: date, company_id: Any = None,
                             department_id: Any = None, now: datetime | None = None):
    """(file name, an iterator of CSV text chunks) for the whole sheet, for a streaming response.

    The same day statuses and totals as attendance's `derive_days` (the on-screen sheet and My attendance),
    computed set-wise: the month's records come from one index-only range scan read through a server-side
    cursor into a compact per-person list, approved leave from leave's `leave_days` (one query), and each
    company's calendar once; every person's row then starts from their company's row of day kinds.
    tests/reports/test_service.py compares every cell and total with `derive_days`."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    now = aware(now) or utcnow()
    f = Filters(month, month, _parse_id(company_id, "companyId"), _parse_id(department_id, "departmentId"))
    _check_filters(session, actor, f)
    first, last = attendance.month_bounds(month)
    return f"attendance-sheet-{first:%Y-%m}.csv", _sheet_chunks(session, actor, f, first, last, now)


def _sheet_chunks(session: Session, actor: Actor, f: Filters, first: date, last: date, now: datetime):
    org = actor.organization_id
    n_days = (last - first).days + 1
    days = [first + timedelta(days=i) for i in range(n_days)]
    members = session.exec(
        select(Employee.id, Employee.employee_code, Employee.first_name, Employee.last_name, Employee.department_id,
               Employee.company_id, Employee.date_of_joining)
        .where(*_people(actor, f), Employee.status == EmployeeStatus.active)
        .order_by(Employee.first_name, Employee.last_name, Employee.id)).all()
    dept_names = _names(session, Department, org)
    head = ["Employee code", "Employee", "Department", *[d.isoformat() for d in days],
            "Working days", "Present", "Late", "Half days", "Absent", "Leave days", "Holidays", "Hours"]
    footer = [[], ["Codes: P present, L late, H half day, A absent, LV on leave, HO holiday, WO weekly off"]]
    if not members:
        yield _csv([head, *footer])
        return
    ids = {m[0] for m in members}
    whole_org = actor.role in HR and f.company_id is None and f.department_id is None

    # Each company: its day kinds, "today" in its zone, and the status of a day without a record or leave.
    cal = attendance.Calendar(session, org)
    companies: dict[int, dict[str, Any]] = {}
    for cid in {m[5] for m in members}:
        company = cal.company(cid)
        tz = cal.tz(company)
        kinds = cal.kinds(company, first, last)
        today = now.astimezone(tz).date()
        base = []
        for d in days:
            kind = kinds[d]
            if kind in ("holiday", "weekly_off"):
                base.append(attendance.STATUS_CODES[kind])
            elif d < today:
                base.append(attendance.STATUS_CODES["absent"])
            else:
                base.append("")  # today: decided per person (their shift's end); later: nothing yet
        ti = (today - first).days if first <= today <= last and kinds[today] == "working" else None
        companies[cid] = {"tz": tz, "base": base, "today": ti,
                          "working": sum(1 for d in days if kinds[d] == "working"),
                          "holidays": sum(1 for d in days if kinds[d] == "holiday")}

    # Records of the month: one range scan (index-only on PostgreSQL) grouped per person in the database into
    # their count, worked seconds and a compact day string (two characters a record: chr(64 + day of month)
    # and the status's first letter), read through a server-side cursor: one short row per person instead
    # of one per record.
    postgres = session.get_bind().dialect.name == "postgresql"
    status_letter = func.substr(AttendanceRecord.status, 1, 1, type_=String)
    if postgres:
        day_char = func.chr(literal(64) + cast(extract("day", AttendanceRecord.work_date), Integer), type_=String)
        days_text = func.string_agg(day_char + status_letter, literal("", String))
    else:
        day_char = func.char(literal(64) + cast(func.strftime("%d", AttendanceRecord.work_date), Integer),
                             type_=String)
        days_text = func.group_concat(day_char + status_letter, literal("", String))
    conds = [AttendanceRecord.organization_id == org, AttendanceRecord.work_date >= first,
             AttendanceRecord.work_date <= last]
    if not whole_org and len(ids) <= MAX_ID_LIST:
        conds.append(AttendanceRecord.employee_id.in_(sorted(ids)))
    records: dict[int, tuple[int, int, str]] = {}
    result = session.execute(
        select(AttendanceRecord.employee_id, func.count(), func.sum(AttendanceRecord.work_seconds), days_text)
        .where(*conds).group_by(AttendanceRecord.employee_id).execution_options(yield_per=5_000))
    for emp_id, count, seconds, text_ in result:
        if emp_id in ids:
            records[emp_id] = (int(count), int(seconds or 0), text_ or "")
    result.close()
    running: dict[int, int] = {}
    for emp_id, open_since in session.exec(
            select(AttendanceRecord.employee_id, AttendanceRecord.open_since)
            .where(AttendanceRecord.organization_id == org, AttendanceRecord.check_out.is_(None),
                   AttendanceRecord.open_since.is_not(None), AttendanceRecord.work_date >= first,
                   AttendanceRecord.work_date <= last)).all():
        running[emp_id] = max(0, int((now - aware(open_since)).total_seconds()))

    leave: dict[int, dict[int, float]] = {}
    for (emp_id, day), fraction in leave_days_map(session, org, None if whole_org or len(ids) > MAX_ID_LIST
                                                   else sorted(ids), first, last).items():
        if emp_id in ids:
            leave.setdefault(emp_id, {})[(day - first).days] = fraction

    # Shifts matter only for today's cell (absent once the person's shift has ended).
    overrides: dict[int, attendance.ShiftSpec] = {}
    if any(c["today"] is not None for c in companies.values()):
        overrides = {emp_id: attendance._spec(shift) for emp_id, shift in session.exec(
            select(EmployeeShift.employee_id, Shift).join(Shift, Shift.id == EmployeeShift.shift_id)
            .where(EmployeeShift.organization_id == org)).all()}
    # Each person's row is their company's row of codes, then joining day, today, leave and records on top.
    codes = attendance.STATUS_CODES
    absent, leave_code, present_code, late_code = codes["absent"], codes["on_leave"], codes["present"], codes["late"]
    letters = {"p": present_code, "l": late_code, "h": codes["half_day"], "a": absent, "o": leave_code}
    position = {chr(64 + d): 2 + d for d in range(1, 32)}  # the day's column in the row
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(head)
    for n, (emp_id, code, first_name, last_name, dept_id, cid, joined) in enumerate(members, start=1):
        c = companies[cid]
        row = [code, f"{first_name} {last_name}".strip(), dept_names.get(dept_id, "") if dept_id else "", *c["base"]]
        before = (joined - first).days if joined and joined > first else 0
        ti = c["today"]
        if ti is not None and ti >= before:
            shift = overrides.get(emp_id) or cal.default_shift(cid)
            if now >= shift.end_at(days[ti], c["tz"]):
                row[3 + ti] = absent
        if before:
            row[3:3 + min(before, n_days)] = [""] * min(before, n_days)
        lv = leave.get(emp_id)
        if lv:
            for i in lv:
                if i >= before:
                    row[3 + i] = leave_code
        present, seconds, text_ = records.get(emp_id, (0, 0, ""))
        for day_char, letter in zip(text_[0::2], text_[1::2], strict=True):
            row[position[day_char]] = letters[letter]
        if lv:  # a late arrival on a (half) leave day shows as present, as in attendance
            for i in lv:
                if row[3 + i] == late_code:
                    row[3 + i] = present_code
        cells = row[3:]
        row += [c["working"], present, cells.count(late_code), cells.count(codes["half_day"]), cells.count(absent),
                round(sum(lv.values(), 0.0) if lv else 0.0, 2), c["holidays"],
                attendance.hours(seconds + running.get(emp_id, 0))]
        writer.writerow(row)
        if n % SHEET_CSV_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    writer.writerows(footer)
    yield buf.getvalue()


def leave_days_map(session: Session, organization_id: int, employee_ids: list[int] | None, start: date, end: date
                   ) -> dict[tuple[int, date], float]:
    from hr_portal.leave.service import leave_days

    return leave_days(session=session, organization_id=organization_id, employee_ids=employee_ids, start=start,
                      end=end)


# ================================================================ leave


def leave_report(*, session: Session, actor: Actor, filters: Filters, today: date | None = None) -> dict[str, Any]:
    """Days taken by type and department in the range, days owed (positive balances of paid types this
    year) and upcoming absences (approved and pending, the next 30 days)."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    _check_filters(session, actor, filters)
    org = actor.organization_id
    today = today or utcnow().date()
    conds = _people(actor, filters)
    type_rows = session.exec(select(LeaveType).where(LeaveType.organization_id == org)
                             .order_by(LeaveType.archived, LeaveType.name)).all()
    dept_names = _names(session, Department, org)

    taken_rows = session.exec(
        select(LeaveLedger.leave_type_id, Employee.department_id, -func.sum(LeaveLedger.amount))
        .join(Employee, Employee.id == LeaveLedger.employee_id)
        .where(LeaveLedger.organization_id == org, LeaveLedger.kind.in_([LedgerKind.taken, LedgerKind.cancelled]),
               LeaveLedger.entry_date >= filters.start, LeaveLedger.entry_date <= filters.end, *conds)
        .group_by(LeaveLedger.leave_type_id, Employee.department_id)).all()
    by_type: dict[int, float] = {}
    by_dept: dict[int | None, dict[int, float]] = {}
    for type_id, dept, days in taken_rows:
        by_type[type_id] = by_type.get(type_id, 0.0) + _f(days)
        by_dept.setdefault(dept, {})[type_id] = by_dept.get(dept, {}).get(type_id, 0.0) + _f(days)
    shown_types = [t for t in type_rows if not t.archived or by_type.get(t.id)]
    taken_by_type = [{"type_id": t.id, "type": t.name, "days": round(by_type.get(t.id, 0.0), 2),
                      "label": fmt_days(by_type.get(t.id, 0.0)), "paid": t.paid} for t in shown_types]
    taken_by_department = []
    for dept, per_type in by_dept.items():
        taken_by_department.append({
            "department": dept_names.get(dept, NO_DEPARTMENT) if dept else NO_DEPARTMENT,
            "days": round(sum(per_type.values()), 2),
            "by_type": [{"type": t.name, "days": round(per_type.get(t.id, 0.0), 2)} for t in shown_types],
        })
    taken_by_department.sort(key=lambda r: (-r["days"], r["department"]))

    year = today.year
    balances = (select(LeaveLedger.employee_id.label("employee_id"), LeaveLedger.leave_type_id.label("type_id"),
                       func.sum(LeaveLedger.amount).label("balance"))
                .where(LeaveLedger.organization_id == org, LeaveLedger.year == year)
                .group_by(LeaveLedger.employee_id, LeaveLedger.leave_type_id).subquery("balances"))
    owed_rows = session.exec(
        select(balances.c.type_id, Employee.department_id, func.sum(balances.c.balance), func.count())
        .join(Employee, Employee.id == balances.c.employee_id)
        .join(LeaveType, LeaveType.id == balances.c.type_id)
        .where(balances.c.balance > 0, LeaveType.paid == True, Employee.status == EmployeeStatus.active,  # noqa: E712
               *conds)
        .group_by(balances.c.type_id, Employee.department_id)).all()
    owed_type: dict[int, list[float]] = {}
    owed_dept: dict[int | None, float] = {}
    for type_id, dept, days, people in owed_rows:
        entry = owed_type.setdefault(type_id, [0.0, 0])
        entry[0] += _f(days)
        entry[1] += int(people)
        owed_dept[dept] = owed_dept.get(dept, 0.0) + _f(days)
    liability = [{"type_id": t.id, "type": t.name, "days": round(owed_type.get(t.id, [0.0, 0])[0], 2),
                  "label": fmt_days(owed_type.get(t.id, [0.0, 0])[0]), "people": owed_type.get(t.id, [0.0, 0])[1]}
                 for t in type_rows if t.paid and (not t.archived or t.id in owed_type)]
    liability_by_department = sorted(
        [{"department": dept_names.get(d, NO_DEPARTMENT) if d else NO_DEPARTMENT, "days": round(v, 2),
          "label": fmt_days(v)} for d, v in owed_dept.items()], key=lambda r: (-r["days"], r["department"]))

    upcoming = upcoming_absences(session=session, actor=actor, start=today, end=today + timedelta(days=UPCOMING_DAYS),
                                 filters=filters, limit=UPCOMING_LIMIT)
    return {
        "taken_by_type": taken_by_type, "taken_by_department": taken_by_department,
        "taken_total": round(sum(by_type.values()), 2), "taken_total_label": fmt_days(sum(by_type.values())),
        "type_names": [t.name for t in shown_types],
        "liability": liability, "liability_by_department": liability_by_department,
        "liability_total": round(sum(v[0] for v in owed_type.values()), 2),
        "liability_total_label": fmt_days(sum(v[0] for v in owed_type.values())), "year": year,
        "upcoming": upcoming["rows"], "upcoming_total": upcoming["total"],
        "upcoming_label": f"{fmt_long(today)} – {fmt_long(today + timedelta(days=UPCOMING_DAYS))}",
        "range_label": f"{fmt_long(filters.start)} – {fmt_long(filters.end)}",
    }


def upcoming_absences(*, session: Session, actor: Actor, start: date, end: date, filters: Filters | None = None,
                      limit: int = UPCOMING_LIMIT, statuses: tuple[LeaveStatus, ...] = (LeaveStatus.approved,
                                                                                         LeaveStatus.pending)
                      ) -> dict[str, Any]:
    """Approved and pending leave overlapping [start, end] in the actor's scope, earliest first."""
    require(actor, *REPORT_ROLES)
    conds = [LeaveRequest.organization_id == actor.organization_id, LeaveRequest.status.in_(list(statuses)),
             LeaveRequest.start_date <= end, LeaveRequest.end_date >= start, *_people(actor, filters)]
    base = (select(LeaveRequest, Employee.first_name, Employee.last_name, Employee.department_id, LeaveType.name)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .join(LeaveType, LeaveType.id == LeaveRequest.leave_type_id).where(*conds))
    total = int(session.exec(select(func.count()).select_from(LeaveRequest)
                             .join(Employee, Employee.id == LeaveRequest.employee_id).where(*conds)).one())
    rows = session.exec(base.order_by(LeaveRequest.start_date, Employee.first_name, LeaveRequest.id)
                        .limit(max(1, min(int(limit), 10_000)))).all()
    dept_names = _names(session, Department, actor.organization_id)
    out = []
    for req, first, last, dept, type_name in rows:
        out.append({
            "id": req.id, "employee_id": req.employee_id, "name": f"{first} {last}".strip(),
            "department": dept_names.get(dept, "") if dept else "", "type": type_name,
            "start": req.start_date.isoformat(), "end": req.end_date.isoformat(),
            "dates": (fmt_day(req.start_date) if req.start_date == req.end_date
                      else f"{fmt_day(req.start_date)} – {fmt_day(req.end_date)}"),
            "days": req.days, "days_label": fmt_days(req.days), "status": req.status.value,
            "status_label": "Approved" if req.status == LeaveStatus.approved else "Pending",
        })
    return {"rows": out, "total": total}


def leave_csv(*, session: Session, actor: Actor, filters: Filters, today: date | None = None) -> tuple[str, str]:
    data = leave_report(session=session, actor=actor, filters=filters, today=today)
    rows: list[list[Any]] = [["Leave type", f"Days taken {filters.start.isoformat()} to {filters.end.isoformat()}"]]
    rows += [[r["type"], r["days"]] for r in data["taken_by_type"]]
    rows += [[], ["Department", *data["type_names"], "Total"]]
    rows += [[r["department"], *[t["days"] for t in r["by_type"]], r["days"]] for r in data["taken_by_department"]]
    rows += [[], ["Leave type", f"Days owed ({data['year']})", "People with a balance"]]
    rows += [[r["type"], r["days"], r["people"]] for r in data["liability"]]
    rows += [[], ["Department", f"Days owed ({data['year']})"]]
    rows += [[r["department"], r["days"]] for r in data["liability_by_department"]]
    today = today or utcnow().date()
    upcoming = upcoming_absences(session=session, actor=actor, start=today, end=today + timedelta(days=UPCOMING_DAYS),
                                 filters=filters, limit=10_000)
    rows += [[], [f"Upcoming absences {today.isoformat()} to {(today + timedelta(days=UPCOMING_DAYS)).isoformat()}",
                  "Department", "Type", "Start", "End", "Days", "Status"]]
    rows += [[r["name"], r["department"], r["type"], r["start"], r["end"], r["days"], r["status_label"]]
             for r in upcoming["rows"]]
    return f"leave-{_range_slug(filters)}.csv", _csv(rows)


# ================================================================ figures for the Home dashboards


def _spec(s: Shift) -> attendance.ShiftSpec:
    return attendance.ShiftSpec(id=s.id, name=s.name, start=s.start_time, end=s.end_time,
                                grace_minutes=s.grace_minutes, half_day_hours=s.half_day_hours,
                                auto_checkout_minutes=s.auto_checkout_minutes)


def _shift_table(session: Session, organization_id: int, companies: list[Company], now: datetime
                 ) -> list[tuple[int, int | None, date, int, int]]:
    """(company_id, override shift id or None, work date now, 1 if a working day, 1 if the shift is over)
    for each company's default shift and every shift an employee may be given, by attendance's rules."""
    shifts = session.exec(select(Shift).where(Shift.organization_id == organization_id)).all()
    defaults = {s.company_id: _spec(s) for s in shifts if s.is_default}
    overrides = [(s.id, _spec(s)) for s in shifts]
    out = []
    for c in companies:
        tz = ZoneInfo(c.timezone or "UTC")
        local = now.astimezone(tz).date()
        kinds = day_kinds(session, c, local - timedelta(days=2), local + timedelta(days=1))
        for shift_id, spec in [(None, defaults.get(c.id, attendance.DEFAULT_SHIFT)), *overrides]:
            day = attendance.work_date_for(now, tz, spec)
            out.append((c.id, shift_id, day, int(kinds[day] == "working"), int(now >= spec.end_at(day, tz))))
    return out


def today_counts(*, session: Session, actor: Actor, now: datetime | None = None,
                 department_id: int | None = None) -> dict[str, int]:
    """Today across the actor's scope, as attendance's Team today counts it, for everyone at once:
    in (checked in now), out (checked in and out), present (in + out), late, on leave, absent (shift
    over, no check-in), not in yet, off (weekly off or holiday)."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    now = aware(now) or utcnow()
    org = actor.organization_id
    companies = list(session.exec(select(Company).where(Company.organization_id == org)).all())
    table = _shift_table(session, org, companies, now)
    if not table:
        return {k: 0 for k in ("active", "in", "out", "present", "late", "on_leave", "absent", "not_in", "off")}
    es = aliased(EmployeeShift)

    def per_employee(index: int):
        """A CASE giving each employee the value of their (company, shift) row of the table."""
        whens = [(and_(Employee.company_id == row[0], es.shift_id == row[1]), literal(row[index]))
                 for row in table if row[1] is not None]
        whens += [(Employee.company_id == row[0], literal(row[index])) for row in table if row[1] is None]
        return case(*whens, else_=None)

    day_expr = per_employee(2)
    working_expr = per_employee(3)
    ended_expr = per_employee(4)
    days = sorted({row[2] for row in table})
    # Today's closed records (an index-only scan) and every open record (the partial index of open ones).
    cols = (AttendanceRecord.employee_id, AttendanceRecord.work_date, AttendanceRecord.check_out,
            AttendanceRecord.is_late)
    rec = union_all(
        select(*cols).where(AttendanceRecord.organization_id == org, AttendanceRecord.work_date.in_(days),
                            AttendanceRecord.check_out.is_not(None)),
        select(*cols).where(AttendanceRecord.organization_id == org, AttendanceRecord.check_out.is_(None)),
    ).subquery("today_records")
    lv = (select(LeaveRequest.employee_id, LeaveRequest.start_date, LeaveRequest.end_date)
          .where(LeaveRequest.organization_id == org, LeaveRequest.status == LeaveStatus.approved,
                 LeaveRequest.start_date <= days[-1], LeaveRequest.end_date >= days[0])
          .subquery("today_leave"))
    conds = [*scope_conditions(actor), Employee.status == EmployeeStatus.active]
    if department_id is not None:
        conds.append(Employee.department_id == department_id)
    has_open = func.max(case((and_(rec.c.employee_id.is_not(None), rec.c.check_out.is_(None)), 1), else_=0))
    has_rec = func.max(case((rec.c.employee_id.is_not(None), 1), else_=0))
    late = func.max(case((rec.c.is_late == True, 1), else_=0))  # noqa: E712
    on_leave = func.max(case((and_(lv.c.employee_id.is_not(None), lv.c.start_date <= day_expr,
                                   lv.c.end_date >= day_expr, working_expr == 1), 1), else_=0))
    per = (select(Employee.id.label("id"), has_open.label("open"), has_rec.label("rec"), late.label("late"),
                  on_leave.label("leave"), func.max(working_expr).label("working"),
                  func.max(ended_expr).label("ended"))
           .select_from(Employee)
           .outerjoin(es, es.employee_id == Employee.id)
           .outerjoin(rec, and_(rec.c.employee_id == Employee.id,
                                or_(rec.c.work_date == day_expr, rec.c.check_out.is_(None))))
           .outerjoin(lv, lv.c.employee_id == Employee.id)
           .where(*conds).group_by(Employee.id).subquery("per_employee"))
    p = per.c
    no_rec = p.rec == 0

    def count(cond) -> Any:
        return func.sum(case((cond, 1), else_=0))

    row = session.exec(select(
        func.count(), count(p.open == 1), count(and_(p.rec == 1, p.open == 0)), count(p.rec == 1),
        count(and_(p.rec == 1, p.late == 1, p.leave == 0)),
        count(and_(no_rec, p.leave == 1)),
        count(and_(no_rec, p.leave == 0, p.working == 1, p.ended == 1)),
        count(and_(no_rec, p.leave == 0, p.working == 1, p.ended == 0)),
        count(and_(no_rec, p.leave == 0, p.working == 0)),
    ).select_from(per)).one()
    keys = ("active", "in", "out", "present", "late", "on_leave", "absent", "not_in", "off")
    return {k: _n(v) for k, v in zip(keys, row, strict=True)}


def month_movement(*, session: Session, actor: Actor, today: date) -> dict[str, int]:
    """Headcount now, joiners and leavers in `today`'s month (scope of the actor)."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    first, last = attendance.month_bounds(today)
    left_sq = _left_subquery(actor.organization_id)
    left = _left_expr(left_sq)
    row = session.exec(select(
        func.sum(case((Employee.status == EmployeeStatus.active, 1), else_=0)),
        func.sum(case((and_(Employee.date_of_joining >= first, Employee.date_of_joining <= last), 1), else_=0)),
        func.sum(case((and_(left >= _day_start(first), left < _day_start(last + timedelta(days=1))), 1), else_=0)),
    ).select_from(Employee).outerjoin(left_sq, left_sq.c.employee_id == Employee.id)
        .where(*scope_conditions(actor))).one()
    return {"headcount": _n(row[0]), "joiners": _n(row[1]), "leavers": _n(row[2])}


def pending_approvals(*, session: Session, actor: Actor, today: date | None = None) -> dict[str, int]:
    """Requests waiting for a decision: leave (at a manager, at HR) and attendance corrections.
    HR: the organization's; a manager: those they may decide now (their direct reports, and the
    reports of approvers who delegated to them), as the approval queues count them."""
    require(actor, *REPORT_ROLES)
    today = today or utcnow().date()
    org = actor.organization_id
    leave_conds = [LeaveRequest.organization_id == org, LeaveRequest.status == LeaveStatus.pending]
    corr_conds = [AttendanceCorrection.organization_id == org, AttendanceCorrection.status == CorrectionStatus.pending]
    if actor.employee_id is not None:
        leave_conds.append(LeaveRequest.employee_id != actor.employee_id)
        corr_conds.append(AttendanceCorrection.employee_id != actor.employee_id)
    if actor.role not in HR:
        delegators = select(LeaveDelegation.approver_employee_id).where(
            LeaveDelegation.organization_id == org, LeaveDelegation.delegate_employee_id == (actor.employee_id or -1),
            LeaveDelegation.revoked_at.is_(None), LeaveDelegation.start_date <= today,
            LeaveDelegation.end_date >= today)
        approvers = or_(Employee.manager_id == (actor.employee_id or -1), Employee.manager_id.in_(delegators))
        leave_conds += [LeaveRequest.step == 1,
                        LeaveRequest.employee_id.in_(select(Employee.id).where(approvers))]
        corr_conds.append(AttendanceCorrection.employee_id.in_(
            select(Employee.id).where(Employee.manager_id == (actor.employee_id or -1))))
    leave_rows = session.exec(select(LeaveRequest.step, func.count()).where(*leave_conds)
                              .group_by(LeaveRequest.step)).all()
    at_manager = sum(int(n) for step, n in leave_rows if step < 2)
    at_hr = sum(int(n) for step, n in leave_rows if step >= 2)
    corrections = int(session.exec(select(func.count()).select_from(AttendanceCorrection).where(*corr_conds)).one())
    return {"leave": at_manager + at_hr, "leave_at_manager": at_manager, "leave_at_hr": at_hr,
            "corrections": corrections, "total": at_manager + at_hr + corrections}


def data_hygiene(*, session: Session, actor: Actor, limit: int = 5) -> dict[str, Any]:
    """Active people without a manager or without a department (HR), with the first few names."""
    require(actor, *HR)
    base = [Employee.organization_id == actor.organization_id, Employee.status == EmployeeStatus.active]
    counts = session.exec(select(
        func.sum(case((Employee.manager_id.is_(None), 1), else_=0)),
        func.sum(case((Employee.department_id.is_(None), 1), else_=0)),
    ).where(*base)).one()

    def first(cond) -> list[dict[str, Any]]:
        rows = session.exec(select(Employee.id, Employee.first_name, Employee.last_name, Employee.designation)
                            .where(*base, cond).order_by(Employee.first_name, Employee.last_name, Employee.id)
                            .limit(limit)).all()
        return [{"id": i, "name": f"{a} {b}".strip(), "designation": d or "", "href": f"/employees/{i}"}
                for i, a, b, d in rows]

    return {"no_manager": _n(counts[0]), "no_department": _n(counts[1]),
            "no_manager_people": first(Employee.manager_id.is_(None)),
            "no_department_people": first(Employee.department_id.is_(None))}


def _same_day(born: date, on: date) -> bool:
    """Whether `on` is the yearly return of `born` (29 February counts on 28 February in common years)."""
    if (born.month, born.day) == (on.month, on.day):
        return True
    return (born.month, born.day) == (2, 29) and (on.month, on.day) == (2, 28) and not calendar.isleap(on.year)


def celebrations(*, session: Session, actor: Actor, today: date, days: int = CELEBRATION_DAYS,
                 limit: int = 12) -> list[dict[str, Any]]:
    """Birthdays and work anniversaries in the next `days` days (people who opted out are left out)."""
    require(actor, *REPORT_ROLES)
    window = [today + timedelta(days=i) for i in range(days)]
    keys = {d.month * 100 + d.day for d in window}
    if any((d.month, d.day) == (2, 28) and not calendar.isleap(d.year) for d in window):
        keys.add(229)
    bday_key = func.extract("month", Employee.date_of_birth) * 100 + func.extract("day", Employee.date_of_birth)
    join_key = func.extract("month", Employee.date_of_joining) * 100 + func.extract("day", Employee.date_of_joining)
    opted_out = select(CelebrationOptOut.user_id).where(CelebrationOptOut.organization_id == actor.organization_id)
    rows = session.exec(select(Employee.id, Employee.first_name, Employee.last_name, Employee.date_of_birth,
                               Employee.date_of_joining)
                        .where(*scope_conditions(actor), Employee.status == EmployeeStatus.active,
                               or_(Employee.user_id.is_(None), Employee.user_id.not_in(opted_out)),
                               or_(bday_key.in_(sorted(keys)), join_key.in_(sorted(keys))))
                        .limit(2000)).all()
    out = []
    for emp_id, first, last, born, joined in rows:
        name = f"{first} {last}".strip()
        for on in window:
            if born and _same_day(born, on):
                out.append({"employee_id": emp_id, "name": name, "date": on.isoformat(), "when": _when(on, today),
                            "what": "Birthday", "icon": "cake", "href": f"/employees/{emp_id}"})
            if joined and joined.year < on.year and _same_day(joined, on):
                years = on.year - joined.year
                out.append({"employee_id": emp_id, "name": name, "date": on.isoformat(), "when": _when(on, today),
                            "what": f"{years} year{'s' if years != 1 else ''} at the company", "icon": "award",
                            "href": f"/employees/{emp_id}"})
    out.sort(key=lambda r: (r["date"], r["name"]))
    return out[:limit]


def _when(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def team_hours(*, session: Session, actor: Actor, start: date, end: date, now: datetime | None = None,
               limit: int = 15) -> dict[str, Any]:
    """Hours worked per team member in [start, end] (closed intervals plus the running one), most first."""
    require(actor, *REPORT_ROLES)
    _tune(session)
    now = aware(now) or utcnow()
    conds = [*scope_conditions(actor), Employee.status == EmployeeStatus.active]
    rows = session.exec(
        select(Employee.id, Employee.first_name, Employee.last_name, func.sum(AttendanceRecord.work_seconds),
               func.count(AttendanceRecord.id))
        .join(AttendanceRecord, AttendanceRecord.employee_id == Employee.id)
        .where(AttendanceRecord.organization_id == actor.organization_id, AttendanceRecord.work_date >= start,
               AttendanceRecord.work_date <= end, *_record_scope(session, actor), *conds)
        .group_by(Employee.id, Employee.first_name, Employee.last_name)).all()
    running = dict(session.exec(
        select(AttendanceRecord.employee_id, AttendanceRecord.open_since)
        .join(Employee, Employee.id == AttendanceRecord.employee_id)
        .where(AttendanceRecord.organization_id == actor.organization_id, AttendanceRecord.check_out.is_(None),
               AttendanceRecord.open_since.is_not(None), AttendanceRecord.work_date >= start,
               AttendanceRecord.work_date <= end, *conds)).all())
    people = []
    for emp_id, first, last, seconds, days in rows:
        total = _n(seconds) + (max(0, int((now - aware(running[emp_id])).total_seconds())) if emp_id in running else 0)
        people.append({"employee_id": emp_id, "name": f"{first} {last}".strip(), "short": first,
                       "hours": round(total / 3600, 1), "label": attendance.fmt_duration(total), "days": int(days)})
    people.sort(key=lambda r: (-r["hours"], r["name"]))
    total_hours = round(sum(p["hours"] for p in people), 1)
    team_size = int(session.exec(select(func.count()).select_from(Employee).where(*conds)).one())
    return {"people": people[:limit], "total_hours": total_hours, "team_size": team_size,
            "others": max(0, len(people) - limit)}

