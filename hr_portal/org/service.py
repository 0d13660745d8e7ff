"""Organization settings, companies and the working-day calendar (time zone, weekly offs, holidays).

`working_days`, `day_kinds` and `company_today` are the one place that says which days are worked:
leave counts its cost with them and attendance derives absences with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import and_, bindparam, exists, extract, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from hr_portal.auth.models import Role
from hr_portal.core import audit, live
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import session_scope, utcnow
from hr_portal.core.errors import NotFound, ValidationFailed
from hr_portal.employees.models import Employee, EmployeeStatus
from hr_portal.org.models import Company, CompanyPublic, CompanyUpdate, Holiday, Organization

WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.field("timezone", f"Unknown time zone '{name}'. Use an IANA name like Europe/Berlin.") from exc
    return name


def timezone_names() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def _company_public(c: Company, headcount: int = 0) -> CompanyPublic:
    return CompanyPublic(id=c.id, name=c.name, timezone=c.timezone, weekly_off_days=sorted(c.weekly_offs),
                         country=c.country, headcount=headcount)


def get_organization(*, session: Session, actor: Actor) -> Organization:
    require(actor)
    org = session.get(Organization, actor.organization_id)
    if org is None:
        raise NotFound("Organization not found.")
    return org


def rename_organization(*, session: Session, actor: Actor, name: str) -> Organization:
    require(actor, Role.admin)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "Organization name must be 1 to 200 characters.")
    org = get_organization(session=session, actor=actor)
    if org.name != name:
        audit.record(session, action="organization.renamed", actor=actor, entity_type="organization", entity_id=org.id,
                     changes={"name": [org.name, name]})
        org.name = name
        session.add(org)
        live.notify(session, live.org_topic(actor.organization_id, "settings"))
    return org


def list_companies(*, session: Session, actor: Actor) -> list[CompanyPublic]:
    require(actor)
    counts = dict(session.exec(
        select(Employee.company_id, func.count()).where(Employee.organization_id == actor.organization_id,
                                                        Employee.status == EmployeeStatus.active)
        .group_by(Employee.company_id)).all())
    companies = session.exec(select(Company).where(Company.organization_id == actor.organization_id)
                             .order_by(Company.name)).all()
    return [_company_public(c, counts.get(c.id, 0)) for c in companies]


def get_company(session: Session, actor: Actor, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None or company.organization_id != actor.organization_id:
        raise NotFound("Company not found.")
    return company


def _apply(company: Company, data: CompanyUpdate) -> dict:
    changes: dict = {}
    if data.name is not None:
        name = data.name.strip()
        if not name:
            raise ValidationFailed.field("name", "Company name is required.")
        changes["name"] = [company.name, name]
        company.name = name
    if data.timezone is not None:
        tz = validate_timezone(data.timezone)
        changes["timezone"] = [company.timezone, tz]
        company.timezone = tz
    if data.weekly_off_days is not None:
        days = sorted(set(data.weekly_off_days))
        if any(d < 1 or d > 7 for d in days) or len(days) > 6:
            raise ValidationFailed.field("weeklyOffDays", "Weekly off days are weekday numbers 1 (Monday) to 7 (Sunday), "
                                                          "and at least one day must be a working day.")
        value = ",".join(str(d) for d in days)
        changes["weekly_off_days"] = [company.weekly_off_days, value]
        company.weekly_off_days = value
    if data.country is not None:
        changes["country"] = [company.country, data.country.strip().upper()[:2]]
        company.country = data.country.strip().upper()[:2]
    return {k: v for k, v in changes.items() if v[0] != v[1]}


def create_company(*, session: Session, actor: Actor, data: CompanyUpdate) -> CompanyPublic:
    require(actor, Role.admin)
    if not data.name or not data.name.strip():
        raise ValidationFailed.field("name", "Company name is required.")
    company = Company(organization_id=actor.organization_id, name="", timezone="UTC")
    _apply(company, data)
    session.add(company)
    session.flush()
    audit.record(session, action="company.created", actor=actor, entity_type="company", entity_id=company.id,
                 changes={"name": company.name, "timezone": company.timezone})
    live.notify(session, live.org_topic(actor.organization_id, "settings"))
    return _company_public(company)


def update_company(*, session: Session, actor: Actor, company_id: int, data: CompanyUpdate) -> CompanyPublic:
    require(actor, Role.admin)
    company = get_company(session, actor, company_id)
    changes = _apply(company, data)
    if changes:
        session.add(company)
        audit.record(session, action="company.updated", actor=actor, entity_type="company", entity_id=company.id,
                     changes=changes)
        live.notify(session, live.org_topic(actor.organization_id, "settings"))
    return _company_public(company)


# ---------------------------------------------------------------- calendar


def company_today(company: Company, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the company's time zone."""
    return (now or utcnow()).astimezone(ZoneInfo(company.timezone)).date()


_HOLIDAYS_BETWEEN = select(Holiday.date, Holiday.name, Holiday.recurring).where(  # built once: asked every click
    Holiday.company_id == bindparam("company_id"),
    or_(Holiday.recurring == True, Holiday.date.between(bindparam("start"), bindparam("end"))))  # noqa: E712


def holiday_in_window(company_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: whether the company `company_id` has a holiday within a window bound at execution
    (`holiday_window_params`): a one-off one by its date, a recurring one by its month and day. False means
    `holidays_between` finds none in that window; a statement that reads more can ask this in passing."""
    month_day = extract("month", Holiday.date) * 100 + extract("day", Holiday.date)
    return exists().where(Holiday.company_id == company_id, or_(
        Holiday.date.between(bindparam("h_start"), bindparam("h_end")),
        and_(Holiday.recurring == True, month_day.in_(bindparam("h_month_days", expanding=True)))))  # noqa: E712


def holiday_window_params(start: dt.date, end: dt.date) -> dict[str, object]:
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return {"h_start": start, "h_end": end, "h_month_days": sorted({d.month * 100 + d.day for d in days})}


def holidays_between(session: Session, company: Company, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Holidays of a company within [start, end], recurring ones expanded into each year of the range."""
    # Plain columns, and only what can fall in the range (a check-in's card asks for one day, every click).
    rows = session.exec(_HOLIDAYS_BETWEEN, params={"company_id": company.id, "start": start, "end": end}).all()
    found: dict[dt.date, str] = {}
    for h in rows:
        if h.recurring:
            for year in range(start.year, end.year + 1):
                try:
                    day = h.date.replace(year=year)
                except ValueError:  # 29 February in a common year
                    continue
                if start <= day <= end:
                    found[day] = h.name
        elif start <= h.date <= end:
            found[h.date] = h.name
    return found


def day_kinds(session: Session, company: Company, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Each date of [start, end] as 'working', 'weekly_off' or 'holiday'."""
    return kinds_with(company, start, end, holidays_between(session, company, start, end))


def kinds_with(company: Company, start: dt.date, end: dt.date, holidays: Container[dt.date]) -> dict[dt.date, str]:
    """`day_kinds` for a range whose holidays are known (`holidays`: the dates of those in the range)."""
    offs = company.weekly_offs
    kinds: dict[dt.date, str] = {}
    day = start
    while day <= end:
        if day in holidays:
            kinds[day] = "holiday"
        elif day.isoweekday() in offs:
            kinds[day] = "weekly_off"
        else:
            kinds[day] = "working"
        day += dt.timedelta(days=1)
    return kinds


def working_days(session: Session, company: Company, start: dt.date, end: dt.date) -> list[dt.date]:
    return [d for d, kind in day_kinds(session, company, start, end).items() if kind == "working"]


# ---------------------------------------------------------------- scheduled jobs (admin)


def list_jobs(*, session: Session, actor: Actor) -> list[dict]:
    """Jobs with their schedule, next run and last run, for the admin Jobs page."""
    from hr_portal.core import scheduler
    from hr_portal.core.models import to_iso

    require(actor, Role.admin)
    runs = scheduler.last_runs(session, limit_per_job=1)
    rows = []
    for spec in sorted(scheduler.load_jobs().values(), key=lambda s: s.id):
        last = runs.get(spec.id, [None])[0] if runs.get(spec.id) else None
        nxt = scheduler.next_run_time(spec.id)
        rows.append({
            "id": spec.id, "description": spec.description, "schedule": spec.schedule_text,
            "next_run": to_iso(nxt) or "", "last_started": to_iso(last.started_at) if last else "",
            "last_status": last.status if last else "never", "last_items": last.items if last else 0,
            "last_error": (last.error or "").strip().splitlines()[-1][:300] if last and last.error else "",
        })
    return rows


def run_job_now(*, actor: Actor, job_id: str) -> dict:
    """Run a job immediately (admin). Uses its own transactions, like a scheduled run."""
    from hr_portal.core import scheduler

    require(actor, Role.admin)
    if job_id not in scheduler.load_jobs():
        raise NotFound("No such job.")
    with session_scope() as session:
        audit.record(session, action="job.run_requested", actor=actor, entity_type="job", changes={"job": job_id})
    run = scheduler.run_job(job_id, trigger="manual", user_id=actor.user_id)
    if run is None:
        raise ValidationFailed("The job is already running; try again in a moment.")
    return {"status": run.status, "items": run.items}


# ---------------------------------------------------------------- audit log (admin)

AUDIT_PAGE_SIZE = 50


def list_audit(*, session: Session, actor: Actor, action: str = "", entity_type: str = "", user_email: str = "",
               start: dt.date | None = None, end: dt.date | None = None, page: int = 1) -> tuple[list[dict], int]:
    """Audit entries of the actor's organization, newest first, filtered and paged (admin only)."""
    from hr_portal.auth.models import User
    from hr_portal.core.audit import AuditLog
    from hr_portal.core.models import to_iso

    require(actor, Role.admin)
    page = max(1, min(int(page), 10_000))
    conds = [AuditLog.organization_id == actor.organization_id]
    if action:  # an exact action name, or a prefix ending in "*" ("auth.*")
        action = action.strip()[:64]
        conds.append(AuditLog.action.startswith(action[:-1]) if action.endswith("*") else AuditLog.action == action)
    if entity_type:
        conds.append(AuditLog.entity_type == entity_type.strip()[:40])
    if user_email:
        conds.append(func.lower(User.email).contains(user_email.strip().lower()[:254]))
    if start:
        conds.append(AuditLog.created_at >= dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC))
    if end:
        conds.append(AuditLog.created_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))
    base = select(AuditLog, User.email).join(User, User.id == AuditLog.actor_user_id, isouter=True).where(*conds)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                        .offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE)).all()
    return [{
        "id": entry.id, "at": to_iso(entry.created_at), "action": entry.action, "user": email or "system",
        "entity": f"{entry.entity_type} #{entry.entity_id}" if entry.entity_id else entry.entity_type,
        "changes": _summarize(entry.changes), "ip": entry.ip or "",
    } for entry, email in rows], int(total)


def audit_actions(*, session: Session, actor: Actor) -> list[str]:
    from hr_portal.core.audit import AuditLog

    require(actor, Role.admin)
    return list(session.exec(select(AuditLog.action).where(AuditLog.organization_id == actor.organization_id)
                             .distinct().order_by(AuditLog.action)).all())


def _summarize(changes: dict | None) -> str:
    if not changes:
        return ""
    parts = []
    for key, value in list(changes.items())[:6]:
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{key}: {value[0]!s} → {value[1]!s}")
        else:
            parts.append(f"{key}: {value!s}")
    return "; ".join(parts)[:400]
