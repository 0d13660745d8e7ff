"""Holiday calendars per company: named dates, one-off or recurring every year, and a CSV import of a year.

The table (org.models.Holiday) and the calendar functions (org.service.holidays_between, day_kinds,
working_days) belong to the org module; this is where HR manages the dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlmodel import Session, select

from hr_portal.auth.models import Role
from hr_portal.core import audit, live
from hr_portal.core.authz import Actor, require
from hr_portal.core.errors import Conflict, NotFound, ValidationFailed
from hr_portal.org.models import Company, Holiday

HR = (Role.admin, Role.hr_manager)
MAX_CSV_BYTES = 100_000
MAX_CSV_ROWS = 200


def _company(session: Session, actor: Actor, company_id: Any) -> Company:
    try:
        company = session.get(Company, int(company_id))
    except (TypeError, ValueError):
        company = None
    if company is None or company.organization_id != actor.organization_id:
        raise NotFound("Company not found.")
    return company


def _holiday(session: Session, actor: Actor, holiday_id: Any) -> Holiday:
    try:
        h = session.get(Holiday, int(holiday_id))
    except (TypeError, ValueError):
        h = None
    if h is None or h.organization_id != actor.organization_id:
        raise NotFound("Holiday not found.")
    return h


def _public(h: Holiday, year: int | None = None) -> dict[str, Any]:
    shown = h.date
    if h.recurring and year is not None:
        try:
            shown = h.date.replace(year=year)
        except ValueError:
            shown = h.date
    return {"id": h.id, "companyId": h.company_id, "date": shown.isoformat(), "storedDate": h.date.isoformat(),
            "name": h.name, "recurring": h.recurring, "weekday": shown.strftime("%A"),
            "label": f"{shown.day} {shown.strftime('%b')} {shown.year}"}


def _notify(session: Session, actor: Actor) -> None:
    live.notify(session, live.org_topic(actor.organization_id, "leave"),
                live.org_topic(actor.organization_id, "holidays"))


def list_holidays(*, session: Session, actor: Actor, company_id: int, year: int) -> list[dict[str, Any]]:
    """The company's holidays falling in `year` (recurring ones shown on this year's date), by date."""
    require(actor)
    company = _company(session, actor, company_id)
    rows = session.exec(select(Holiday).where(Holiday.company_id == company.id)).all()
    out = [_public(h, year) for h in rows if h.recurring or h.date.year == year]
    return sorted(out, key=lambda h: (h["date"], h["name"]))


def _validate(name: Any, day: Any) -> tuple[str, dt.date]:
    name = str(name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Give the holiday a name.")
    if len(name) > 120:
        raise ValidationFailed.field("name", "Name must be at most 120 characters.")
    if isinstance(day, dt.date):
        return name, day
    try:
        parsed = dt.date.fromisoformat(str(day or "").strip())
    except ValueError as exc:
        raise ValidationFailed.field("date", "Date must be a date (YYYY-MM-DD).") from exc
    if not 2000 <= parsed.year <= 2100:
        raise ValidationFailed.field("date", "Date must be between 2000 and 2100.")
    return name, parsed


def _clash(session: Session, company_id: int, day: dt.date, recurring: bool, exclude_id: int | None = None
           ) -> Holiday | None:
    for h in session.exec(select(Holiday).where(Holiday.company_id == company_id)).all():
        if h.id == exclude_id:
            continue
        same = h.date == day or ((h.recurring or recurring) and (h.date.month, h.date.day) == (day.month, day.day))
        if same:
            return h
    return None


def create_holiday(*, session: Session, actor: Actor, company_id: int, date: Any, name: Any,
                   recurring: bool = False) -> dict[str, Any]:
    require(actor, *HR)
    company = _company(session, actor, company_id)
    name, day = _validate(name, date)
    clash = _clash(session, company.id, day, bool(recurring))
    if clash:
        raise Conflict(f"{company.name} already has a holiday on that date: {clash.name}.")
    h = Holiday(organization_id=actor.organization_id, company_id=company.id, date=day, name=name,
                recurring=bool(recurring))
    session.add(h)
    session.flush()
    audit.record(session, action="holiday.created", actor=actor, entity_type="holiday", entity_id=h.id,
                 changes={"company": company.id, "date": day.isoformat(), "name": name, "recurring": bool(recurring)})
    _notify(session, actor)
    return _public(h, day.year)


def update_holiday(*, session: Session, actor: Actor, holiday_id: int, date: Any, name: Any,
                   recurring: bool = False) -> dict[str, Any]:
    require(actor, *HR)
    h = _holiday(session, actor, holiday_id)
    name, day = _validate(name, date)
    clash = _clash(session, h.company_id, day, bool(recurring), exclude_id=h.id)
    if clash:
        raise Conflict(f"There is already a holiday on that date: {clash.name}.")
    changes = {k: [old, new] for k, old, new in (("date", h.date.isoformat(), day.isoformat()),
                                                 ("name", h.name, name), ("recurring", h.recurring, bool(recurring)))
               if old != new}
    h.date, h.name, h.recurring = day, name, bool(recurring)
    session.add(h)
    if changes:
        audit.record(session, action="holiday.updated", actor=actor, entity_type="holiday", entity_id=h.id,
                     changes=changes)
        _notify(session, actor)
    return _public(h, day.year)


def delete_holiday(*, session: Session, actor: Actor, holiday_id: int) -> None:
    require(actor, *HR)
    h = _holiday(session, actor, holiday_id)
    audit.record(session, action="holiday.deleted", actor=actor, entity_type="holiday", entity_id=h.id,
                 changes={"date": h.date.isoformat(), "name": h.name})
    session.delete(h)
    _notify(session, actor)


def parse_csv(text: str, year: int) -> tuple[list[tuple[dt.date, str, bool]], list[dict[str, str]]]:
    """Rows `date,name[,recurring]` (a header line is optional). Returns (rows, problems)."""
    rows: list[tuple[dt.date, str, bool]] = []
    problems: list[dict[str, str]] = []
    seen: dict[dt.date, int] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for number, record in enumerate(reader, start=1):
        cells = [c.strip() for c in record]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("date", "day"):
            continue
        if len(rows) + len(problems) >= MAX_CSV_ROWS:
            problems.append({"field": f"line {number}", "message": f"At most {MAX_CSV_ROWS} holidays per import."})
            break
        if len(cells) < 2 or not cells[1]:
            problems.append({"field": f"line {number}", "message": "Expected: date,name[,recurring]."})
            continue
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            problems.append({"field": f"line {number}", "message": f"'{cells[0][:20]}' is not a date (YYYY-MM-DD)."})
            continue
        if day.year != year:
            problems.append({"field": f"line {number}", "message": f"{day.isoformat()} is not in {year}."})
            continue
        if len(cells[1]) > 120:
            problems.append({"field": f"line {number}", "message": "Name must be at most 120 characters."})
            continue
        flag = (cells[2].lower() if len(cells) > 2 else "")
        if flag not in ("", "yes", "no", "true", "false", "1", "0", "recurring", "once", "y", "n"):
            problems.append({"field": f"line {number}", "message": "Recurring must be yes or no."})
            continue
        if day in seen:
            problems.append({"field": f"line {number}", "message": f"{day.isoformat()} is also on line {seen[day]}."})
            continue
        seen[day] = number
        rows.append((day, cells[1], flag in ("yes", "true", "1", "recurring", "y")))
    return rows, problems


def import_csv(*, session: Session, actor: Actor, company_id: int, year: int, text: str) -> dict[str, Any]:
    """Import a year of holidays. All or nothing: any bad line and nothing is written. Dates the
    company already has are skipped (reported), so the same file can be imported twice."""
    require(actor, *HR)
    company = _company(session, actor, company_id)
    try:
        year = int(year)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("year", "Year must be a number like 2026.") from exc
    if not 2000 <= year <= 2100:
        raise ValidationFailed.field("year", "Year must be between 2000 and 2100.")
    if not text or not text.strip():
        raise ValidationFailed.field("file", "The file is empty. Expected lines of: date,name[,recurring].")
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise ValidationFailed.field("file", "The file is too large (at most 100 KB).")
    rows, problems = parse_csv(text, year)
    if problems:
        raise ValidationFailed(f"Nothing was imported: {len(problems)} line(s) need fixing. "
                               f"First: {problems[0]['field']}: {problems[0]['message']}", details=problems)
    if not rows:
        raise ValidationFailed.field("file", "No holidays found. Expected lines of: date,name[,recurring].")
    created, skipped = 0, []
    for day, name, recurring in rows:
        if _clash(session, company.id, day, recurring):
            skipped.append(f"{day.isoformat()} {name}")
            continue
        session.add(Holiday(organization_id=actor.organization_id, company_id=company.id, date=day, name=name,
                            recurring=recurring))
        session.flush()
        created += 1
    audit.record(session, action="holiday.imported", actor=actor, entity_type="company", entity_id=company.id,
                 changes={"year": year, "created": created, "skipped": len(skipped)})
    if created:
        _notify(session, actor)
    return {"created": created, "skipped": skipped}
