"""Attendance services: check in and out, shifts and location rules, the derived day status, the
month view and summary, team today and team month, correction requests and their approval, the
auto check-out job, and the attendance settings.

Rules in one place:
- A work date is the company-local date of the check-in; with a shift that crosses midnight a
  check-in before the shift's end time belongs to the previous date (the night it started).
- Late: the first check-in of a working day after shift start + grace. Half day: a closed day with
  fewer worked hours than the shift's half-day threshold. Absent: a working day, in the past (or
  today after the shift ended), with no check-in and no approved leave. A day with leave and no
  check-in is on_leave; a late arrival on a day with (half-day) leave is not counted late.
- One open record per employee is enforced by the database (partial unique index); check-out and
  auto check-out are conditional UPDATEs, so a record is closed exactly once.
- Times are stored in UTC; every day boundary and label uses the company's time zone.
"""

from __future__ import annotations

import calendar
import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from hr_portal.attendance.models import (
    AttendanceCorrection,
    AttendancePolicy,
    AttendancePublic,
    AttendancePunch,
    AttendanceRecord,
    AttendanceSite,
    AttendanceStatus,
    CorrectionStatus,
    EmployeeShift,
    PunchKind,
    PunchSource,
    RegularizationPublic,
    Shift,
    ShiftIn,
    SiteIn,
    SummaryPublic,
)
from hr_portal.auth.models import Role
from hr_portal.core import audit, events, live
from hr_portal.core.authz import Actor, require
from hr_portal.core.db import aware, utcnow
from hr_portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hr_portal.core.models import to_iso
from hr_portal.employees.models import Department, Employee, EmployeeStatus
from hr_portal.employees.service import get_in_scope, is_manager_of, scope_condition
from hr_portal.org.models import Company
from hr_portal.org.service import day_kinds, holiday_in_window, holiday_window_params, kinds_with

HR = (Role.admin, Role.hr_manager)
APPROVERS = (Role.admin, Role.hr_manager, Role.manager)

# Domain events (payloads as core/events.py documents them; every one has organization_id, actor_user_id).
CHECKED_IN, CHECKED_OUT = events.CHECKED_IN, events.CHECKED_OUT
CORRECTION_REQUESTED, CORRECTION_DECIDED = events.CORRECTION_REQUESTED, events.CORRECTION_DECIDED
RECORD_AUTO_CLOSED = "attendance.auto_closed"  # + record_id, employee_id, user_id (actor_user_id None)

MAX_NOTES = 1000
MAX_REASON = 500
MAX_CORRECTION_HOURS = 24
CORRECTION_MAX_AGE_DAYS = 366
SITE_ACCURACY_ALLOWANCE_M = 100  # a fix reported with this much uncertainty may still count as inside a site

STATUS_LABELS = {
    "present": "Present", "late": "Late", "half_day": "Half day", "absent": "Absent", "on_leave": "On leave",
    "holiday": "Holiday", "weekly_off": "Weekly off", "": "",
}
STATUS_CODES = {"present": "P", "late": "L", "half_day": "H", "absent": "A", "on_leave": "LV", "holiday": "HO",
                "weekly_off": "WO", "": ""}
CORRECTION_LABELS = {"pending": "Pending", "approved": "Approved", "rejected": "Rejected", "cancelled": "Cancelled"}


# ================================================================ small helpers


def fmt_duration(seconds: float | int | None) -> str:
    """Durations as people read them: '7 h 45 min', '45 min', '0 min'."""
    minutes = max(0, int(seconds or 0)) // 60
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


def hours(seconds: float | int) -> float:
    return round((seconds or 0) / 3600, 2)


def fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    value = aware(value)
    return value.astimezone(tz).strftime("%H:%M") if value else ""


def fmt_day(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def fmt_long_day(day: date) -> str:
    return f"{day.strftime('%A')}, {day.day} {day.strftime('%B')} {day.year}"


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(value: Any, *, field_name: str = "month") -> date:
    """'YYYY-MM' → the first day of that month (400 with a clear message otherwise)."""
    text_value = str(value or "").strip()
    try:
        year, month = text_value.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        parsed = date(int(year), int(month), 1)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.field(field_name, "Month must be given as YYYY-MM, for example 2026-11.") from exc
    if not 2000 <= parsed.year <= 2100:
        raise ValidationFailed.field(field_name, "Month must be between 2000-01 and 2100-12.")
    return parsed


def shift_month(month: date, delta: int) -> date:
    index = month.year * 12 + month.month - 1 + delta
    return date(index // 12, index % 12 + 1, 1)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in meters."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def fmt_distance(meters: float) -> str:
    return f"{meters / 1000:.1f} km" if meters >= 1000 else f"{int(round(meters))} m"


def _topics(session: Session, organization_id: int, *user_ids: int | None, corrections: bool = False) -> None:
    topics = [live.org_topic(organization_id, "attendance")]
    if corrections:
        topics.append(live.org_topic(organization_id, "attendance_corrections"))
    topics += [live.user_topic(u, "attendance") for u in user_ids if u]
    live.notify(session, *topics)


# ================================================================ shifts and calendar


@dataclass(frozen=True)
class ShiftSpec:
    id: int | None
    name: str
    start: time
    end: time
    grace_minutes: int
    half_day_hours: float
    auto_checkout_minutes: int

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def start_at(self, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, self.start, tzinfo=tz).astimezone(UTC)

    def end_at(self, day: date, tz: ZoneInfo) -> datetime:
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return datetime.combine(end_day, self.end, tzinfo=tz).astimezone(UTC)

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}" + (" (+1 day)" if self.crosses_midnight else "")


DEFAULT_SHIFT = ShiftSpec(id=None, name="Standard", start=time(9, 0), end=time(17, 30), grace_minutes=10,
                          half_day_hours=4.0, auto_checkout_minutes=60)


def _spec(s: Shift) -> ShiftSpec:
    return ShiftSpec(id=s.id, name=s.name, start=s.start_time, end=s.end_time, grace_minutes=s.grace_minutes,
                     half_day_hours=s.half_day_hours, auto_checkout_minutes=s.auto_checkout_minutes)


def work_date_for(instant: datetime, tz: ZoneInfo, shift: ShiftSpec) -> date:
    """The work date a check-in at `instant` counts toward (night shifts: the day they start)."""
    local = aware(instant).astimezone(tz)
    if shift.crosses_midnight and local.time() < shift.end:
        return local.date() - timedelta(days=1)
    return local.date()


class Calendar:
    """Per-call cache of companies, time zones, shifts and day kinds for one organization."""

    def __init__(self, session: Session, organization_id: int | None):
        self.session = session
        self.organization_id = organization_id
        self._companies: dict[int, Company] = {}
        self._defaults: dict[int, ShiftSpec] = {}
        self._overrides: dict[int, ShiftSpec | None] = {}
        self._kinds: dict[tuple[int, date, date], dict[date, str]] = {}

    def company(self, company_id: int) -> Company:
        if company_id not in self._companies:
            company = self.session.get(Company, company_id)
            if company is None:
                raise NotFound("Company not found.")
            self._companies[company_id] = company
        return self._companies[company_id]

    def tz(self, company: Company) -> ZoneInfo:
        return ZoneInfo(company.timezone or "UTC")

    def default_shift(self, company_id: int) -> ShiftSpec:
        if company_id not in self._defaults:
            row = self.session.exec(select(Shift).where(Shift.company_id == company_id, Shift.is_default)).first()
            self._defaults[company_id] = _spec(row) if row else DEFAULT_SHIFT
        return self._defaults[company_id]

    def preload(self, employee_ids: Iterable[int]) -> None:
        missing = [i for i in employee_ids if i not in self._overrides]
        if not missing:
            return
        rows = self.session.exec(select(EmployeeShift.employee_id, Shift).join(Shift, Shift.id == EmployeeShift.shift_id)
                                 .where(EmployeeShift.employee_id.in_(missing))).all()
        found = {emp_id: _spec(s) for emp_id, s in rows}
        for emp_id in missing:
            self._overrides[emp_id] = found.get(emp_id)

    def shift_for(self, employee: Employee) -> ShiftSpec:
        if employee.id not in self._overrides and employee.company_id not in self._defaults:
            # One query for both the person's own shift and the company default.
            rows = self.session.exec(_SHIFT_FOR, params={"emp_id": employee.id,
                                                         "company_id": employee.company_id}).all()
            own = next((_spec(s) for s, emp_id in rows if emp_id is not None), None)
            default = next((_spec(s) for s, _e in rows if s.is_default and s.company_id == employee.company_id), None)
            self._overrides[employee.id] = own
            self._defaults[employee.company_id] = default or DEFAULT_SHIFT
        self.preload([employee.id])
        return self._overrides.get(employee.id) or self.default_shift(employee.company_id)

    def kinds(self, company: Company, start: date, end: date) -> dict[date, str]:
        key = (company.id, start, end)
        if key not in self._kinds:
            self._kinds[key] = day_kinds(self.session, company, start, end)
        return self._kinds[key]

    def kind(self, company: Company, day: date) -> str:
        for (cid, start, end), kinds in self._kinds.items():
            if cid == company.id and start <= day <= end:
                return kinds[day]
        return self.kinds(company, day, day)[day]


def _leave_map(session: Session, organization_id: int, employee_ids: list[int], start: date, end: date
               ) -> dict[tuple[int, date], float]:
    from hr_portal.leave.service import leave_days

    if not employee_ids:
        return {}
    return leave_days(session=session, organization_id=organization_id, employee_ids=employee_ids, start=start,
                      end=end)


def derive_record_status(*, first_in: datetime, work_seconds: int, closed: bool, shift: ShiftSpec, kind: str,
                         work_date: date, tz: ZoneInfo) -> tuple[AttendanceStatus, bool]:
    """(status, is_late) of a day with punches. Off days worked are simply present."""
    if kind != "working":
        return AttendanceStatus.present, False
    is_late = aware(first_in) > shift.start_at(work_date, tz) + timedelta(minutes=shift.grace_minutes)
    if closed and shift.half_day_hours > 0 and work_seconds < shift.half_day_hours * 3600:
        return AttendanceStatus.half_day, is_late
    return (AttendanceStatus.late if is_late else AttendanceStatus.present), is_late


# ================================================================ public shapes


def record_public(rec: AttendanceRecord, *, now: datetime | None = None) -> AttendancePublic:
    return AttendancePublic(
        id=rec.id, employee_id=rec.employee_id, date=rec.work_date, check_in=to_iso(rec.check_in),
        check_out=to_iso(rec.check_out), work_hours=hours(rec.work_seconds),
        status=rec.status, notes=rec.notes, late=rec.is_late, system_closed=rec.system_closed, corrected=rec.corrected,
    )


def _names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {e.id: e.full_name for e in session.exec(select(Employee).where(Employee.id.in_(ids))).all()}


def correction_public(c: AttendanceCorrection, name: str = "") -> RegularizationPublic:
    return RegularizationPublic(
        id=c.id, employee_id=c.employee_id, date=c.work_date, check_in=to_iso(c.check_in), check_out=to_iso(c.check_out),
        reason=c.reason, status=c.status, employee_name=name, comment=c.decision_comment,
        decided_at=to_iso(c.decided_at), created_at=to_iso(c.created_at),
    )


# ================================================================ check in / check out


def _own_employee(session: Session, actor: Actor) -> Employee:
    _has_employee_record(actor)
    return _may_punch(actor, session.get(Employee, actor.employee_id))


def _has_employee_record(actor: Actor) -> None:
    if actor.employee_id is None:
        raise ValidationFailed.field("employee", "Your account has no employee record, so it cannot record attendance.")


def _may_punch(actor: Actor, emp: Employee | None) -> Employee:
    if emp is None or emp.organization_id != actor.organization_id:
        raise NotFound("Employee not found.")
    if emp.status != EmployeeStatus.active:
        raise Forbidden("Inactive employees cannot record attendance.")
    return emp


def _clean_notes(notes: Any) -> str | None:
    if notes is None:
        return None
    if not isinstance(notes, str):
        raise ValidationFailed.field("notes", "Notes must be text.")
    notes = notes.strip()
    if len(notes) > MAX_NOTES:
        raise ValidationFailed.field("notes", f"Notes must be at most {MAX_NOTES} characters.")
    return notes or None


def _merge_notes(existing: str | None, new: str | None) -> str | None:
    if not new:
        return existing
    merged = f"{existing}\n{new}" if existing else new
    return merged[-MAX_NOTES:]


def _coords(latitude: Any, longitude: Any, accuracy: Any) -> tuple[float | None, float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None, None
    if latitude is None or longitude is None:
        raise ValidationFailed.field("latitude" if latitude is None else "longitude",
                                     "Send both latitude and longitude, or neither.")
    try:
        lat, lon = float(latitude), float(longitude)
        acc = float(accuracy) if accuracy is not None else None
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.field("latitude", "Latitude and longitude must be numbers.") from exc
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise ValidationFailed.field("latitude", "Latitude must be between -90 and 90.")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise ValidationFailed.field("longitude", "Longitude must be between -180 and 180.")
    if acc is not None and (not math.isfinite(acc) or acc < 0):
        acc = None
    return lat, lon, acc


def location_rules(session: Session, company_id: int, *, sites: bool = True) -> tuple[bool, list[AttendanceSite]]:
    required = session.exec(select(AttendancePolicy.location_required)
                            .where(AttendancePolicy.company_id == company_id)).first()
    found = list(session.exec(select(AttendanceSite).where(AttendanceSite.company_id == company_id)
                              .order_by(AttendanceSite.name)).all()) if sites else []
    return bool(required), found


def _check_location(session: Session, company: Company, lat: float | None, lon: float | None,
                    acc: float | None, rules: tuple[bool, list[AttendanceSite]] | None = None) -> int | None:
    """Refuse a check-in the company's location rules do not allow; returns the matched site's id."""
    required, sites = rules or location_rules(session, company.id, sites=lat is not None)
    if lat is None or lon is None:
        if required:
            raise ValidationFailed.field(
                "location", "Your company requires your location to check in. Allow location access for this "
                            "site in your browser (or turn on location services) and try again.")
        return None
    if not sites:
        return None
    allowance = min(acc or 0.0, SITE_ACCURACY_ALLOWANCE_M)
    best, best_distance = None, float("inf")
    for site in sites:
        d = distance_m(lat, lon, site.latitude, site.longitude)
        if d - allowance <= site.radius_m:
            return site.id
        if d - site.radius_m < best_distance:
            best, best_distance = site, d - site.radius_m
    assert best is not None
    raise ValidationFailed.field(
        "location", f"You are not at an allowed site: {fmt_distance(distance_m(lat, lon, best.latitude, best.longitude))} "
                    f"from {best.name}, and check-in is allowed within {best.radius_m} m of it.")


def _try_lock(session: Session, scope: str, ident: int) -> bool:
    """A non-blocking, transaction-scoped lock on (scope, ident): PostgreSQL advisory lock; SQLite
    needs none (its transactions take the write lock up front, BEGIN IMMEDIATE).

    Concurrent punches of one person must not *wait* for each other: a waiting request holds a worker
    thread and a connection while the first one still needs a thread to commit, and enough of them
    (a burst of duplicate clicks or retries) starve the pool. So the second one is refused at once."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.exec(_TRY_LOCK, params={"space": _LOCK_SPACE[scope], "ident": ident}).one())


_LOCK_SPACE = {"punch": 0x41545031, "correction": 0x41545032}  # "ATP1", "ATP2"

# The statements of every check-in click, built once with bound parameters: building a select and its cache key
# costs more CPU than running it (about 0.4 ms against 0.2 for the session look-up's), and a click runs eight.
_TRY_LOCK = select(func.pg_try_advisory_xact_lock(bindparam("space"), bindparam("ident")))
# The person, their company, its location rule, whether it has sites, the person's own shift and the company's
# default shift (at most one each: attendance_employee_shifts is keyed by the person, uq_attendance_shift_default).
_OWN_SHIFT, _DEFAULT_SHIFT = aliased(Shift, name="own_shift"), aliased(Shift, name="default_shift")
# Also whether the company has a holiday near today (`_DAY_WINDOW`): when it has none, the day's kind needs no
# holiday query. The punch's variant takes the punch lock in the same statement (PostgreSQL; see `_try_lock`).


def _day_statement(*, lock: bool):
    columns = [Employee, Company,
               select(AttendancePolicy.location_required)
               .where(AttendancePolicy.company_id == Employee.company_id).limit(1).scalar_subquery(),
               exists().where(AttendanceSite.company_id == Employee.company_id), _OWN_SHIFT, _DEFAULT_SHIFT,
               holiday_in_window(Employee.company_id)]
    if lock:
        columns.append(func.pg_try_advisory_xact_lock(bindparam("space"), bindparam("emp_id")))
    return (select(*columns)
            .outerjoin(Company, Company.id == Employee.company_id)
            .outerjoin(EmployeeShift, EmployeeShift.employee_id == Employee.id)
            .outerjoin(_OWN_SHIFT, _OWN_SHIFT.id == EmployeeShift.shift_id)
            .outerjoin(_DEFAULT_SHIFT, (_DEFAULT_SHIFT.company_id == Employee.company_id) & _DEFAULT_SHIFT.is_default)
            .where(Employee.id == bindparam("emp_id")))


_DAY, _DAY_LOCKED = _day_statement(lock=False), _day_statement(lock=True)
# The work dates a punch or card can fall on, around today's UTC date: a company's local date is within a day of
# it (UTC-12 to UTC+14), and a night shift's work date is the day before its local date.
_DAY_WINDOW = (-2, 1)
_SITES = (select(AttendanceSite).where(AttendanceSite.company_id == bindparam("company_id"))
          .order_by(AttendanceSite.name))
_OPEN_RECORD = select(AttendanceRecord).where(AttendanceRecord.employee_id == bindparam("emp_id"),
                                              AttendanceRecord.check_out.is_(None))
_OPEN_OR_DAY = select(AttendanceRecord).where(
    AttendanceRecord.employee_id == bindparam("emp_id"),
    or_(AttendanceRecord.check_out.is_(None), AttendanceRecord.work_date == bindparam("work_date")))
# The person's own shift and the company's default in one query (`Calendar.shift_for`).
_SHIFT_FOR = (select(Shift, EmployeeShift.employee_id)
              .outerjoin(EmployeeShift, (EmployeeShift.shift_id == Shift.id)
                         & (EmployeeShift.employee_id == bindparam("emp_id")))
              .where(or_(EmployeeShift.employee_id == bindparam("emp_id"),
                         (Shift.company_id == bindparam("company_id")) & Shift.is_default)))
_BUSY = "A check-in or check-out for you is being recorded right now. Refresh to see it."


@dataclass
class _Day:
    """What a punch and the card after it both need: read once per click (`punch`)."""
    emp: Employee
    cal: Calendar
    company: Company
    tz: ZoneInfo
    shift: ShiftSpec
    rules: tuple[bool, list[AttendanceSite]]
    locked: bool = False  # the punch lock is held (taken with the day's statement: `_day(lock=True)`)


def _day(session: Session, actor: Actor, *, now: datetime | None = None, lock: bool = False) -> _Day:
    """The person, their company, whether it requires a location, the person's shift and whether a holiday is near
    in one statement (seven before; under load every round trip costs the worker thread a wait for the GIL), then
    the company's sites if it has any, with `_own_employee`'s checks. With `lock`, on PostgreSQL, the same
    statement takes the punch lock; Conflict when another punch of the person holds it."""
    _has_employee_record(actor)
    today = (aware(now) or utcnow()).astimezone(UTC).date()
    start, end = (today + timedelta(days=n) for n in _DAY_WINDOW)
    params = {"emp_id": actor.employee_id, **holiday_window_params(start, end)}
    locking = lock and session.get_bind().dialect.name == "postgresql"
    if locking:
        params["space"] = _LOCK_SPACE["punch"]
    row = session.exec(_DAY_LOCKED if locking else _DAY, params=params).first()
    if row is None:
        emp = company = own = default = None
        location_required = has_sites = holiday_near = got_lock = False
    else:
        emp, company, location_required, has_sites, own, default, holiday_near, *got_lock = row
    emp = _may_punch(actor, emp)
    if company is None:
        raise NotFound("Company not found.")
    if locking and not got_lock[0]:
        raise Conflict(_BUSY)
    cal = Calendar(session, actor.organization_id)
    cal._companies[company.id] = company
    cal._overrides[emp.id] = _spec(own) if own is not None else None  # what `Calendar.shift_for` would read
    cal._defaults[company.id] = _spec(default) if default is not None else DEFAULT_SHIFT
    if not holiday_near:  # what `Calendar.kinds` would read for the window
        cal._kinds[(company.id, start, end)] = kinds_with(company, start, end, ())
    sites = list(session.exec(_SITES, params={"company_id": company.id}).all()) if has_sites else []
    return _Day(emp, cal, company, cal.tz(company), cal.shift_for(emp), (bool(location_required), sites),
                locked=locking)


def _open_record(session: Session, employee_id: int) -> AttendanceRecord | None:
    return session.exec(_OPEN_RECORD, params={"emp_id": employee_id}).first()


def _punch(session: Session, *, rec: AttendanceRecord, kind: PunchKind, at: datetime, source: PunchSource,
           actor: Actor | None, lat: float | None = None, lon: float | None = None, acc: float | None = None,
           site_id: int | None = None) -> None:
    session.add(AttendancePunch(
        organization_id=rec.organization_id, employee_id=rec.employee_id, record_id=rec.id, kind=kind, at=at,
        source=source, ip=(actor.ip if actor else None), user_agent=((actor.user_agent or "")[:300] or None) if actor else None,
        latitude=lat, longitude=lon, accuracy_m=acc, site_id=site_id, actor_user_id=actor.user_id if actor else None,
    ))


def _already_in(rec: AttendanceRecord, tz: ZoneInfo) -> Conflict:
    since = aware(rec.open_since or rec.check_in).astimezone(tz)
    return Conflict(f"You are already checked in (since {since:%H:%M}"
                    + ("" if since.date() == utcnow().astimezone(tz).date() else f" on {fmt_day(since.date())}") + ").")


def check_in(*, session: Session, actor: Actor, source: PunchSource | str = PunchSource.web, latitude: Any = None,
             longitude: Any = None, accuracy: Any = None, notes: Any = None, now: datetime | None = None
             ) -> AttendancePublic:
    """Open the day's record (or re-open it after a check-out). 409 when a record is already open."""
    return record_public(_check_in(session=session, actor=actor, source=source, latitude=latitude, longitude=longitude,
                                   accuracy=accuracy, notes=notes, now=now, ctx=None))


def _check_in(*, session: Session, actor: Actor, source: PunchSource | str, latitude: Any, longitude: Any,
              accuracy: Any, notes: Any, now: datetime | None, ctx: _Day | None) -> AttendanceRecord:
    require(actor)
    source = PunchSource(source)
    if ctx is None:
        emp = _own_employee(session, actor)
        cal = Calendar(session, actor.organization_id)
        company = cal.company(emp.company_id)
        tz, shift, rules = cal.tz(company), cal.shift_for(emp), None
    else:
        emp, cal, company, tz, shift, rules = ctx.emp, ctx.cal, ctx.company, ctx.tz, ctx.shift, ctx.rules
    now = aware(now) or utcnow()
    lat, lon, acc = _coords(latitude, longitude, accuracy)
    notes = _clean_notes(notes)
    site_id = _check_location(session, company, lat, lon, acc, rules)

    work_date = work_date_for(now, tz, shift)
    if not (ctx is not None and ctx.locked) and not _try_lock(session, "punch", emp.id):
        raise Conflict(_BUSY)
    # One query for both "already checked in?" and "a record for this work date already?".
    found = session.exec(_OPEN_OR_DAY, params={"emp_id": emp.id, "work_date": work_date}).all()
    current = next((r for r in found if r.check_out is None), None)
    if current is not None:
        raise _already_in(current, tz)
    rec = next((r for r in found if r.work_date == work_date), None)
    kind = cal.kind(company, work_date)
    conflict = Conflict("You are already checked in.")
    try:
        if rec is None:
            status, is_late = derive_record_status(first_in=now, work_seconds=0, closed=False, shift=shift, kind=kind,
                                                   work_date=work_date, tz=tz)
            rec = AttendanceRecord(organization_id=emp.organization_id, employee_id=emp.id, work_date=work_date,
                                   check_in=now, open_since=now, status=status, is_late=is_late, shift_id=shift.id,
                                   notes=notes, created_at=now, updated_at=now)
            session.add(rec)
            session.flush()
        else:
            status, is_late = derive_record_status(first_in=rec.check_in, work_seconds=rec.work_seconds, closed=False,
                                                   shift=shift, kind=kind, work_date=work_date, tz=tz)
            reopened = session.exec(
                update(AttendanceRecord)
                .where(AttendanceRecord.id == rec.id, AttendanceRecord.check_out.is_not(None))
                .values(check_out=None, open_since=now, status=status, is_late=is_late, system_closed=False,
                        notes=_merge_notes(rec.notes, notes), updated_at=now)
            ).rowcount
            if reopened != 1:
                raise conflict
            # (the ORM-enabled UPDATE synchronized rec's attributes; no re-read needed)
    except IntegrityError as exc:  # the partial unique index: another check-in won the race
        raise conflict from exc
    _punch(session, rec=rec, kind=PunchKind.check_in, at=now, source=source, actor=actor, lat=lat, lon=lon, acc=acc,
           site_id=site_id)
    events.publish(session, CHECKED_IN, organization_id=emp.organization_id, actor_user_id=actor.user_id,
                   employee_id=emp.id, user_id=emp.user_id, attendance_id=rec.id)
    _topics(session, emp.organization_id, actor.user_id)
    return rec


def check_out(*, session: Session, actor: Actor, source: PunchSource | str = PunchSource.web, latitude: Any = None,
              longitude: Any = None, accuracy: Any = None, notes: Any = None, now: datetime | None = None
              ) -> AttendancePublic:
    """Close the open record. 409 when not checked in."""
    return record_public(_check_out(session=session, actor=actor, source=source, latitude=latitude,
                                    longitude=longitude, accuracy=accuracy, notes=notes, now=now, ctx=None))


def _check_out(*, session: Session, actor: Actor, source: PunchSource | str, latitude: Any, longitude: Any,
               accuracy: Any, notes: Any, now: datetime | None, ctx: _Day | None) -> AttendanceRecord:
    require(actor)
    source = PunchSource(source)
    emp = ctx.emp if ctx is not None else _own_employee(session, actor)
    now = aware(now) or utcnow()
    lat, lon, acc = _coords(latitude, longitude, accuracy)
    notes = _clean_notes(notes)
    if not (ctx is not None and ctx.locked) and not _try_lock(session, "punch", emp.id):
        raise Conflict(_BUSY)
    rec = _open_record(session, emp.id)
    if rec is None:
        raise Conflict("You are not checked in.")
    if ctx is None:
        cal = Calendar(session, actor.organization_id)
        company = cal.company(emp.company_id)
        tz, shift = cal.tz(company), cal.shift_for(emp)
    else:
        cal, company, tz, shift = ctx.cal, ctx.company, ctx.tz, ctx.shift
    _close(session, rec, at=max(now, aware(rec.open_since or rec.check_in)), shift=shift, tz=tz,
           kind=cal.kind(company, rec.work_date), system=False, notes=notes, now=now,
           error=Conflict("You are not checked in."))
    _punch(session, rec=rec, kind=PunchKind.check_out, at=aware(rec.check_out), source=source, actor=actor, lat=lat,
           lon=lon, acc=acc)
    events.publish(session, CHECKED_OUT, organization_id=emp.organization_id, actor_user_id=actor.user_id,
                   employee_id=emp.id, user_id=emp.user_id, attendance_id=rec.id)
    _topics(session, emp.organization_id, actor.user_id)
    return rec


def _close(session: Session, rec: AttendanceRecord, *, at: datetime, shift: ShiftSpec, tz: ZoneInfo, kind: str,
           system: bool, notes: str | None, now: datetime, error: Exception | None) -> bool:
    """Close `rec` at `at` with a conditional UPDATE (only if still open from the same moment)."""
    opened = aware(rec.open_since or rec.check_in)
    total = rec.work_seconds + max(0, int((at - opened).total_seconds()))
    status, is_late = derive_record_status(first_in=rec.check_in, work_seconds=total, closed=True, shift=shift,
                                           kind=kind, work_date=rec.work_date, tz=tz)
    condition = [AttendanceRecord.id == rec.id, AttendanceRecord.check_out.is_(None)]
    condition.append(AttendanceRecord.open_since == rec.open_since if rec.open_since is not None
                     else AttendanceRecord.open_since.is_(None))
    closed = session.exec(
        update(AttendanceRecord).where(*condition)
        .values(check_out=at, open_since=None, work_seconds=total, status=status, is_late=is_late,
                system_closed=system, notes=_merge_notes(rec.notes, notes), updated_at=now)
    ).rowcount
    if closed != 1:
        if error is not None:
            raise error
        return False
    return True


def punch(*, session: Session, actor: Actor, action: str, source: PunchSource | str = PunchSource.web,
          latitude: Any = None, longitude: Any = None, accuracy: Any = None, now: datetime | None = None
          ) -> dict[str, Any]:
    """Check in (action 'in') or out ('out') and return the card as it is now, in one transaction
    (the browser's one click: a single round trip to the database thread)."""
    if action not in ("in", "out"):
        raise ValidationFailed.field("action", "Action must be 'in' or 'out'.")
    require(actor)
    ctx = _day(session, actor, now=now, lock=True)  # read once for the punch and the card after it
    fn = _check_in if action == "in" else _check_out
    rec = fn(session=session, actor=actor, source=source, latitude=latitude, longitude=longitude, accuracy=accuracy,
             notes=None, now=now, ctx=ctx)
    return today_card(session=session, actor=actor, now=now, _ctx=ctx, _rec=rec)


def today_card(*, session: Session, actor: Actor, now: datetime | None = None, _ctx: _Day | None = None,
               _rec: AttendanceRecord | None = None) -> dict[str, Any]:
    """Everything the check-in card shows, in the company's time zone. After a punch (`punch`), the record it
    wrote is `_rec`: the card shows it when it is open or of today's work date, without reading it again."""
    require(actor)
    ctx = _ctx or _day(session, actor, now=now)
    emp, cal, company, tz, shift = ctx.emp, ctx.cal, ctx.company, ctx.tz, ctx.shift
    now = aware(now) or utcnow()
    work_date = work_date_for(now, tz, shift)
    if _rec is not None and (_rec.check_out is None or _rec.work_date == work_date):
        rec = _rec
    else:
        rec = (None if _rec is not None else _open_record(session, emp.id)) or session.exec(
            select(AttendanceRecord).where(AttendanceRecord.employee_id == emp.id,
                                           AttendanceRecord.work_date == work_date)).first()
    required, sites = ctx.rules
    state, since, open_ms = "none", "", 0
    base = rec.work_seconds if rec else 0
    if rec is not None and rec.check_out is None:
        opened = aware(rec.open_since or rec.check_in)
        state, open_ms = "in", int(opened.timestamp() * 1000)
        since = fmt_time(opened, tz)
        if opened.astimezone(tz).date() != now.astimezone(tz).date():
            since = f"{fmt_day(opened.astimezone(tz).date())}, {since}"
    elif rec is not None:
        state = "out"
    running = int((now - aware(rec.open_since)).total_seconds()) if rec is not None and rec.open_since else 0
    kind = cal.kind(company, work_date)
    return {
        "state": state,
        "since": since,
        "open_since_ms": open_ms,
        "first_in": fmt_time(rec.check_in, tz) if rec else "",
        "last_out": fmt_time(rec.check_out, tz) if rec and rec.check_out else "",
        "worked_seconds": base,
        "worked_label": fmt_duration(base + max(0, running)),
        "late": bool(rec and rec.is_late),
        "system_closed": bool(rec and rec.system_closed),
        "timezone": company.timezone,
        "date_label": fmt_long_day(now.astimezone(tz).date()),
        "shift_label": shift.label,
        "day_kind": kind,
        "location_required": required,
        "has_sites": bool(sites),
    }


# ================================================================ listing (legacy API)


def list_records(*, session: Session, actor: Actor, employee_id: int | None = None, start: date | None = None,
                 end: date | None = None, status: str | None = None, page: int = 1, limit: int = 20
                 ) -> tuple[list[AttendancePublic], int]:
    require(actor)
    if start and end and end < start:
        raise ValidationFailed.field("endDate", "endDate must not be before startDate.")
    query = select(AttendanceRecord).where(AttendanceRecord.organization_id == actor.organization_id,
                                           scope_condition(actor, AttendanceRecord.employee_id))
    if employee_id is not None:
        get_in_scope(session, actor, employee_id)
        query = query.where(AttendanceRecord.employee_id == employee_id)
    if start:
        query = query.where(AttendanceRecord.work_date >= start)
    if end:
        query = query.where(AttendanceRecord.work_date <= end)
    if status:
        try:
            wanted = AttendanceStatus(status)
        except ValueError as exc:
            raise ValidationFailed.field("status", "status must be one of present, late, half_day, absent, on_leave."
                                         ) from exc
        query = query.where(AttendanceRecord.status == wanted)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(AttendanceRecord.work_date.desc(), AttendanceRecord.employee_id)
                        .offset((page - 1) * limit).limit(limit)).all()
    return [record_public(r) for r in rows], int(total)


# ================================================================ derived days, month view, summary


@dataclass
class Day:
    day: date
    kind: str
    status: str
    record: AttendanceRecord | None
    seconds: int
    leave: float
    open: bool = False

    @property
    def late(self) -> bool:
        return self.status == "late"


@dataclass
class Totals:
    working_days: int = 0
    present_days: int = 0
    late_days: int = 0
    half_days: int = 0
    absent_days: int = 0
    leave_days: float = 0.0
    holidays: int = 0
    seconds: int = 0
    worked_days: int = 0

    @property
    def average_seconds(self) -> float:
        return self.seconds / self.worked_days if self.worked_days else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "working_days": self.working_days, "present_days": self.present_days, "late_days": self.late_days,
            "half_days": self.half_days, "absent_days": self.absent_days, "leave_days": round(self.leave_days, 2),
            "holidays": self.holidays, "total_hours": hours(self.seconds),
            "total_label": fmt_duration(self.seconds), "average_label": fmt_duration(self.average_seconds),
            "total_short": f"{self.seconds / 3600:.1f} h",
            "leave_label": f"{round(self.leave_days, 2):g}",
        }


@dataclass
class PersonMonth:
    employee: Employee
    days: list[Day] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)


def derive_days(session: Session, cal: Calendar, employees: list[Employee], first: date, last: date, *,
                now: datetime) -> list[PersonMonth]:
    """Each employee's days in [first, last] with their status, from records, shifts, leave and the calendar."""
    if not employees:
        return []
    ids = [e.id for e in employees]
    cal.preload(ids)
    records: dict[tuple[int, date], AttendanceRecord] = {
        (r.employee_id, r.work_date): r for r in session.exec(
            select(AttendanceRecord).where(AttendanceRecord.employee_id.in_(ids), AttendanceRecord.work_date >= first,
                                           AttendanceRecord.work_date <= last)).all()
    }
    leave = _leave_map(session, cal.organization_id or employees[0].organization_id, ids, first, last)
    out: list[PersonMonth] = []
    for emp in employees:
        company = cal.company(emp.company_id)
        tz, shift = cal.tz(company), cal.shift_for(emp)
        kinds = cal.kinds(company, first, last)
        today = now.astimezone(tz).date()
        person = PersonMonth(emp)
        day = first
        while day <= last:
            kind = kinds[day]
            rec = records.get((emp.id, day))
            lf = leave.get((emp.id, day), 0.0)
            seconds, is_open, status = 0, False, ""
            if rec is not None:
                seconds = rec.work_seconds
                if rec.check_out is None and rec.open_since is not None:
                    is_open = True
                    seconds += max(0, int((now - aware(rec.open_since)).total_seconds()))
                status = rec.status.value
                if status == "late" and lf > 0:
                    status = "present"
            elif emp.date_of_joining and day < emp.date_of_joining:
                status = ""
            elif kind in ("holiday", "weekly_off"):
                status = kind
            elif lf > 0:
                status = "on_leave"
            elif day < today or (day == today and now >= shift.end_at(day, tz)):
                status = "absent"
            person.days.append(Day(day, kind, status, rec, seconds, lf, is_open))
            t = person.totals
            if kind == "working":
                t.working_days += 1
                t.leave_days += lf
            elif kind == "holiday":
                t.holidays += 1
            if rec is not None:
                t.present_days += 1
                t.seconds += seconds
                if seconds > 0:
                    t.worked_days += 1
            t.late_days += status == "late"
            t.half_days += status == "half_day"
            t.absent_days += status == "absent"
            day += timedelta(days=1)
        out.append(person)
    return out


def _target(session: Session, actor: Actor, employee_id: int | None) -> Employee:
    if employee_id is None or employee_id == actor.employee_id:
        return _own_employee(session, actor)
    return get_in_scope(session, actor, int(employee_id))


def _day_dict(d: Day, tz: ZoneInfo, today: date, pending: set[date]) -> dict[str, Any]:
    rec = d.record
    return {
        "date": d.day.isoformat(), "label": fmt_day(d.day), "weekday": d.day.strftime("%a"), "kind": d.kind,
        "status": d.status, "status_label": STATUS_LABELS.get(d.status, d.status),
        "first_in": fmt_time(rec.check_in, tz) if rec else "",
        "last_out": fmt_time(rec.check_out, tz) if rec and rec.check_out else ("…" if d.open else ""),
        "hours": fmt_duration(d.seconds) if rec else "", "seconds": d.seconds,
        "times": (f"{fmt_time(rec.check_in, tz)}–{fmt_time(rec.check_out, tz) if rec.check_out else '…'}"
                  if rec else ""),
        "open": d.open, "system_closed": bool(rec and rec.system_closed), "corrected": bool(rec and rec.corrected),
        "leave": d.leave, "leave_label": ("½ day leave" if 0 < d.leave < 1 else ""),
        "pending": d.day in pending,
        "can_correct": d.day < today and d.day not in pending and (d.kind == "working" or rec is not None),
        "is_today": d.day == today,
    }


def month_view(*, session: Session, actor: Actor, month: date, employee_id: int | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """One employee's month: every day with its status, times and hours, and the totals."""
    require(actor)
    now = aware(now) or utcnow()
    emp = _target(session, actor, employee_id)
    cal = Calendar(session, actor.organization_id)
    first, last = month_bounds(month)
    person = derive_days(session, cal, [emp], first, last, now=now)[0]
    tz = cal.tz(cal.company(emp.company_id))
    today = now.astimezone(tz).date()
    pending = set(session.exec(select(AttendanceCorrection.work_date).where(
        AttendanceCorrection.employee_id == emp.id, AttendanceCorrection.status == CorrectionStatus.pending,
        AttendanceCorrection.work_date >= first, AttendanceCorrection.work_date <= last)).all())
    return {
        "employee_id": emp.id, "employee_name": emp.full_name, "month": first.strftime("%Y-%m"),
        "month_label": first.strftime("%B %Y"), "timezone": cal.company(emp.company_id).timezone,
        "shift_label": cal.shift_for(emp).label,
        "days": [_day_dict(d, tz, today, pending) for d in person.days],
        "totals": person.totals.as_dict(),
    }


def summary(*, session: Session, actor: Actor, month: date | None = None, employee_id: int | None = None,
            now: datetime | None = None) -> SummaryPublic:
    require(actor)
    now = aware(now) or utcnow()
    emp = _target(session, actor, employee_id)
    cal = Calendar(session, actor.organization_id)
    if month is None:
        month = now.astimezone(cal.tz(cal.company(emp.company_id))).date().replace(day=1)
    first, last = month_bounds(month)
    t = derive_days(session, cal, [emp], first, last, now=now)[0].totals
    return SummaryPublic(
        employee_id=emp.id, month=first.strftime("%Y-%m"), working_days=t.working_days, present_days=t.present_days,
        absent_days=t.absent_days, late_days=t.late_days, leave_days=round(t.leave_days, 2), holidays=t.holidays,
        total_work_hours=hours(t.seconds), average_work_hours=hours(t.average_seconds), half_days=t.half_days,
    )


def month_csv(*, session: Session, actor: Actor, month: date, employee_id: int | None = None,
              now: datetime | None = None) -> tuple[str, str]:
    """(filename, CSV text) of one employee's month."""
    view = month_view(session=session, actor=actor, month=month, employee_id=employee_id, now=now)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Date", "Weekday", "Status", "First in", "Last out", "Hours", "Leave (days)", "System-closed",
                     "Corrected"])
    for d in view["days"]:
        writer.writerow([d["date"], d["weekday"], d["status_label"], d["first_in"], d["last_out"].replace("…", ""),
                         f"{d['seconds'] / 3600:.2f}" if d["first_in"] else "", d["leave"] or "",
                         "yes" if d["system_closed"] else "", "yes" if d["corrected"] else ""])
    t = view["totals"]
    writer.writerow([])
    writer.writerow(["Working days", t["working_days"], "Present", t["present_days"], "Late", t["late_days"],
                     "Half days", t["half_days"], "Absent", t["absent_days"]])
    writer.writerow(["Leave days", t["leave_days"], "Holidays", t["holidays"], "Total hours", t["total_hours"]])
    name = view["employee_name"].lower().replace(" ", "-")
    return f"attendance-{name}-{view['month']}.csv", buf.getvalue()


# ================================================================ team today and team month


def _team_query(actor: Actor):
    return (select(Employee).where(Employee.organization_id == actor.organization_id,
                                   Employee.status == EmployeeStatus.active,
                                   scope_condition(actor, Employee.id, transitive=True))
            .where(Employee.id != (actor.employee_id or -1)))


TODAY_ORDER = {"not_in": 0, "late": 1, "in": 2, "out": 3, "absent": 4, "on_leave": 5, "off": 6}


def team_today(*, session: Session, actor: Actor, now: datetime | None = None, page: int = 1, limit: int = 50
               ) -> dict[str, Any]:
    """Who of the actor's team (HR: everyone) is in, late, not yet in, out, absent, on leave, today."""
    require(actor, *APPROVERS)
    now = aware(now) or utcnow()
    members = list(session.exec(_team_query(actor).order_by(Employee.first_name, Employee.last_name)).all())
    cal = Calendar(session, actor.organization_id)
    cal.preload([m.id for m in members])
    dates: dict[int, date] = {}
    for m in members:
        company = cal.company(m.company_id)
        dates[m.id] = work_date_for(now, cal.tz(company), cal.shift_for(m))
    ids = [m.id for m in members]
    records: dict[int, AttendanceRecord] = {}
    if ids:
        lo, hi = min(dates.values()), max(dates.values())
        for r in session.exec(select(AttendanceRecord).where(
                AttendanceRecord.employee_id.in_(ids),
                or_(AttendanceRecord.check_out.is_(None),
                    (AttendanceRecord.work_date >= lo) & (AttendanceRecord.work_date <= hi)))).all():
            current = r.check_out is None or r.work_date == dates.get(r.employee_id)
            if current and (r.employee_id not in records or records[r.employee_id].check_out is not None):
                records[r.employee_id] = r
        leave = _leave_map(session, actor.organization_id, ids, min(dates.values()), max(dates.values()))
    else:
        leave = {}
    dept_names = dict(session.exec(select(Department.id, Department.name).where(
        Department.organization_id == actor.organization_id)).all())
    rows, counts = [], dict.fromkeys(TODAY_ORDER, 0)
    for m in members:
        company = cal.company(m.company_id)
        tz, shift, day = cal.tz(company), cal.shift_for(m), dates[m.id]
        rec, kind = records.get(m.id), cal.kind(company, day)
        lf = leave.get((m.id, day), 0.0)
        seconds = 0
        if rec is not None:
            seconds = rec.work_seconds + (int((now - aware(rec.open_since)).total_seconds()) if rec.open_since else 0)
            if rec.check_out is None:
                key = "late" if rec.is_late and lf == 0 else "in"
                label = f"In since {fmt_time(rec.open_since or rec.check_in, tz)}"
            else:
                key, label = "out", f"Checked out {fmt_time(rec.check_out, tz)}"
        elif lf > 0:
            key, label = "on_leave", "On leave" if lf >= 1 else "On leave (half day)"
        elif kind != "working":
            key, label = "off", "Holiday" if kind == "holiday" else "Weekly off"
        elif now >= shift.end_at(day, tz):
            key, label = "absent", "Absent"
        else:
            key = "not_in"
            label = "Not checked in yet" + (" · late" if now > shift.start_at(day, tz) + timedelta(
                minutes=shift.grace_minutes) else "")
        counts[key] += 1
        rows.append({
            "employee_id": m.id, "name": m.full_name, "designation": m.designation or "",
            "department": dept_names.get(m.department_id, "") if m.department_id else "",
            "status": key, "label": label, "late": bool(rec and rec.is_late),
            "first_in": fmt_time(rec.check_in, tz) if rec else "",
            "last_out": fmt_time(rec.check_out, tz) if rec and rec.check_out else "",
            "hours": fmt_duration(seconds) if rec else "", "shift": shift.label,
            "system_closed": bool(rec and rec.system_closed),
            "_sort": (TODAY_ORDER[key], aware(rec.check_in).timestamp() if rec else 0, m.first_name, m.last_name),
        })
    rows.sort(key=lambda r: r["_sort"])
    for r in rows:
        r.pop("_sort")
    total = len(rows)
    start = (max(1, page) - 1) * limit
    return {
        "rows": rows[start:start + limit], "total": total, "page": max(1, page), "pages": max(1, math.ceil(total / limit)),
        "counts": {"in": counts["in"] + counts["late"], "late": counts["late"], "not_in": counts["not_in"],
                   "out": counts["out"], "on_leave": counts["on_leave"], "absent": counts["absent"],
                   "off": counts["off"]},
    }


def team_month(*, session: Session, actor: Actor, month: date, now: datetime | None = None, page: int = 1,
               limit: int = 25) -> dict[str, Any]:
    """Per person of the team: each day's status code and the month's totals."""
    require(actor, *APPROVERS)
    now = aware(now) or utcnow()
    first, last = month_bounds(month)
    query = _team_query(actor)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(1, page)
    members = list(session.exec(query.order_by(Employee.first_name, Employee.last_name)
                                .offset((page - 1) * limit).limit(limit)).all())
    cal = Calendar(session, actor.organization_id)
    people = derive_days(session, cal, members, first, last, now=now)
    days = []
    d = first
    while d <= last:
        days.append({"day": d.day, "weekday": d.strftime("%a")[:2], "date": d.isoformat()})
        d += timedelta(days=1)
    rows = []
    for p in people:
        rows.append({
            "employee_id": p.employee.id, "name": p.employee.full_name,
            "cells": [{"code": STATUS_CODES.get(x.status, ""), "status": x.status,
                       "title": f"{fmt_day(x.day)}: {STATUS_LABELS.get(x.status) or 'No record'}"
                                + (f", {fmt_duration(x.seconds)}" if x.record else "")}
                      for x in p.days],
            **p.totals.as_dict(),
        })
    return {"rows": rows, "days": days, "total": int(total), "page": page,
            "pages": max(1, math.ceil(int(total) / limit)), "month": first.strftime("%Y-%m"),
            "month_label": first.strftime("%B %Y")}


def team_month_csv(*, session: Session, actor: Actor, month: date, now: datetime | None = None) -> tuple[str, str]:
    """(filename, CSV text): one row per person and day of the month, for the whole team."""
    require(actor, *APPROVERS)
    now = aware(now) or utcnow()
    first, last = month_bounds(month)
    members = list(session.exec(_team_query(actor).order_by(Employee.first_name, Employee.last_name)).all())
    cal = Calendar(session, actor.organization_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Employee code", "Employee", "Date", "Status", "First in", "Last out", "Hours", "Leave (days)"])
    for chunk_start in range(0, len(members), 100):
        for p in derive_days(session, cal, members[chunk_start:chunk_start + 100], first, last, now=now):
            tz = cal.tz(cal.company(p.employee.company_id))
            for x in p.days:
                rec = x.record
                writer.writerow([p.employee.employee_code, p.employee.full_name, x.day.isoformat(),
                                 STATUS_LABELS.get(x.status, x.status), fmt_time(rec.check_in, tz) if rec else "",
                                 fmt_time(rec.check_out, tz) if rec and rec.check_out else "",
                                 f"{x.seconds / 3600:.2f}" if rec else "", x.leave or ""])
    return f"team-attendance-{first:%Y-%m}.csv", buf.getvalue()


# ================================================================ auto check-out (scheduled job)


def auto_close_open_records(*, session: Session, now: datetime | None = None) -> int:
    """Close every open record whose shift ended more than the shift's tolerance ago: check-out at
    shift end (or at the check-in, if that came later), flagged system-closed for review."""
    now = aware(now) or utcnow()
    open_records = list(session.exec(select(AttendanceRecord).where(AttendanceRecord.check_out.is_(None))
                                     .order_by(AttendanceRecord.organization_id, AttendanceRecord.id)).all())
    if not open_records:
        return 0
    employees = {e.id: e for e in session.exec(select(Employee).where(
        Employee.id.in_([r.employee_id for r in open_records]))).all()}
    calendars: dict[int, Calendar] = {}
    closed = 0
    for rec in open_records:
        emp = employees.get(rec.employee_id)
        if emp is None:
            continue
        cal = calendars.setdefault(rec.organization_id, Calendar(session, rec.organization_id))
        company = cal.company(emp.company_id)
        tz, shift = cal.tz(company), cal.shift_for(emp)
        opened = aware(rec.open_since or rec.check_in)
        close_at = max(shift.end_at(rec.work_date, tz), opened)
        if now < close_at + timedelta(minutes=shift.auto_checkout_minutes):
            continue
        if not _try_lock(session, "punch", rec.employee_id):
            continue  # the person is checking out this very moment; the next run looks again
        before_out = to_iso(rec.check_out)
        if not _close(session, rec, at=close_at, shift=shift, tz=tz, kind=cal.kind(company, rec.work_date),
                      system=True, notes=None, now=now, error=None):
            continue  # checked out meanwhile
        _punch(session, rec=rec, kind=PunchKind.check_out, at=close_at, source=PunchSource.system, actor=None)
        audit.record(session, action="attendance.auto_closed", organization_id=rec.organization_id,
                     entity_type="attendance_record", entity_id=rec.id,
                     changes={"check_out": [before_out, to_iso(close_at)], "employee_id": rec.employee_id,
                              "work_date": rec.work_date.isoformat(), "reason": "no check-out by shift end + tolerance"})
        events.publish(session, RECORD_AUTO_CLOSED, organization_id=rec.organization_id, actor_user_id=None,
                       record_id=rec.id, attendance_id=rec.id, employee_id=rec.employee_id, user_id=emp.user_id)
        _topics(session, rec.organization_id, emp.user_id)
        closed += 1
    return closed


# ================================================================ corrections (regularization)


def _parse_clock(value: str, field_name: str) -> time:
    try:
        parsed = time.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise ValidationFailed.field(field_name, "Give the time as HH:MM, for example 09:05.") from exc
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def resolve_correction_times(session: Session, employee: Employee, work_date: date, check_in: Any, check_out: Any,
                             ) -> tuple[datetime, datetime]:
    """Proposed times as UTC instants. Accepts 'HH:MM' (company-local on the work date; a check-out
    not after the check-in is on the next day, for night shifts) or ISO 8601 timestamps (naive ones
    are company-local)."""
    cal = Calendar(session, employee.organization_id)
    tz = cal.tz(cal.company(employee.company_id))

    def one(value: Any, field_name: str, base: date) -> tuple[datetime, bool]:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC), True
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed.field(field_name, "This time is required.")
        text_value = value.strip()
        if len(text_value) <= 8 and "T" not in text_value and "-" not in text_value:
            return datetime.combine(base, _parse_clock(text_value, field_name), tzinfo=tz).astimezone(UTC), False
        try:
            parsed = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationFailed.field(field_name, "Give an ISO 8601 timestamp (2026-11-26T09:03:00+01:00) "
                                                     "or a time as HH:MM.") from exc
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC), True

    start, _ = one(check_in, "checkIn", work_date)
    end, absolute = one(check_out, "checkOut", work_date)
    if not absolute and end <= start:
        end, _ = one(check_out, "checkOut", work_date + timedelta(days=1))
    return start, end


def request_correction(*, session: Session, actor: Actor, work_date: Any, check_in: Any, check_out: Any,
                       reason: Any, now: datetime | None = None) -> RegularizationPublic:
    """Ask to set a past day's check-in and check-out times; the manager (or HR) decides."""
    require(actor)
    now = aware(now) or utcnow()
    emp = _own_employee(session, actor)
    if isinstance(work_date, str):
        try:
            work_date = date.fromisoformat(work_date.strip())
        except ValueError as exc:
            raise ValidationFailed.field("date", "Give the date as YYYY-MM-DD.") from exc
    if not isinstance(work_date, date) or isinstance(work_date, datetime):
        raise ValidationFailed.field("date", "Give the date as YYYY-MM-DD.")
    reason = (reason if isinstance(reason, str) else "").strip()
    if len(reason) < 3:
        raise ValidationFailed.field("reason", "Say why the times need correcting (at least 3 characters).")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", f"The reason must be at most {MAX_REASON} characters.")
    cal = Calendar(session, actor.organization_id)
    company = cal.company(emp.company_id)
    tz, shift = cal.tz(company), cal.shift_for(emp)
    today = now.astimezone(tz).date()
    if work_date >= today:
        raise ValidationFailed.field("date", "Corrections are for past days. Today, use the check-in button.")
    if (today - work_date).days > CORRECTION_MAX_AGE_DAYS:
        raise ValidationFailed.field("date", "This day is too long ago to correct here; ask HR.")
    if emp.date_of_joining and work_date < emp.date_of_joining:
        raise ValidationFailed.field("date", "This day is before your joining date.")
    start, end = resolve_correction_times(session, emp, work_date, check_in, check_out)
    if end <= start:
        raise ValidationFailed.field("checkOut", "Check-out must be after check-in.")
    if end - start > timedelta(hours=MAX_CORRECTION_HOURS):
        raise ValidationFailed.field("checkOut", f"A day cannot be longer than {MAX_CORRECTION_HOURS} hours.")
    if end > now:
        raise ValidationFailed.field("checkOut", "Check-out cannot be in the future.")
    if work_date_for(start, tz, shift) != work_date:
        raise ValidationFailed.field("checkIn", f"The check-in must be on {fmt_day(work_date)} (company time, "
                                                f"{company.timezone}).")
    correction = AttendanceCorrection(organization_id=emp.organization_id, employee_id=emp.id, work_date=work_date,
                                      check_in=start, check_out=end, reason=reason, requested_by_user_id=actor.user_id,
                                      created_at=now)
    session.add(correction)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("You already have a pending correction for this day. Cancel it first to send a new one."
                       ) from exc
    audit.record(session, action="attendance.correction_requested", actor=actor, entity_type="attendance_correction",
                 entity_id=correction.id, changes={"date": work_date.isoformat(), "check_in": to_iso(start),
                                                   "check_out": to_iso(end), "reason": reason})
    events.publish(session, CORRECTION_REQUESTED, organization_id=emp.organization_id, actor_user_id=actor.user_id,
                   correction_id=correction.id, employee_id=emp.id, requester_user_id=actor.user_id,
                   approver_user_ids=_approver_user_ids(session, emp, exclude=actor.user_id))
    _topics(session, emp.organization_id, actor.user_id, corrections=True)
    return correction_public(correction, emp.full_name)


def _approver_user_ids(session: Session, emp: Employee, *, exclude: int | None) -> list[int]:
    """Who should decide a correction of `emp`: the direct manager; without one, HR (admins, HR managers)."""
    from hr_portal.auth.models import User

    if emp.manager_id is not None:
        manager = session.get(Employee, emp.manager_id)
        if manager is not None and manager.user_id and manager.status == EmployeeStatus.active:
            return [manager.user_id] if manager.user_id != exclude else []
    rows = session.exec(select(User.id).where(User.organization_id == emp.organization_id, User.is_active,
                                              User.role.in_([Role.admin, Role.hr_manager]))).all()
    return sorted(u for u in rows if u != exclude)


def request_correction_hhmm(*, session: Session, actor: Actor, work_date: Any, check_in: str, check_out: str,
                            reason: Any, now: datetime | None = None) -> RegularizationPublic:
    """The UI's form: local HH:MM times for a date (same rules as request_correction)."""
    return request_correction(session=session, actor=actor, work_date=work_date, check_in=str(check_in or ""),
                              check_out=str(check_out or ""), reason=reason, now=now)


def _correction_dict(c: AttendanceCorrection, name: str, tz: ZoneInfo, rec: AttendanceRecord | None = None,
                     decider: str = "") -> dict[str, Any]:
    day_next = aware(c.check_out).astimezone(tz).date() != aware(c.check_in).astimezone(tz).date()
    return {
        "id": c.id, "employee_id": c.employee_id, "name": name, "date": c.work_date.isoformat(),
        "date_label": fmt_day(c.work_date) + f" {c.work_date.year}",
        "check_in": fmt_time(c.check_in, tz), "check_out": fmt_time(c.check_out, tz) + (" (+1)" if day_next else ""),
        "hours": fmt_duration((aware(c.check_out) - aware(c.check_in)).total_seconds()),
        "current": (f"{fmt_time(rec.check_in, tz)}–{fmt_time(rec.check_out, tz) or '…'}"
                    + (" · system-closed" if rec.system_closed else "")) if rec else "No record",
        "reason": c.reason, "status": c.status.value, "status_label": CORRECTION_LABELS[c.status.value],
        "comment": c.decision_comment or "", "decided_by": decider,
        "requested": fmt_day(aware(c.created_at).astimezone(tz).date()),
    }


def my_corrections(*, session: Session, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    require(actor)
    emp = _own_employee(session, actor)
    cal = Calendar(session, actor.organization_id)
    tz = cal.tz(cal.company(emp.company_id))
    rows = session.exec(select(AttendanceCorrection).where(AttendanceCorrection.employee_id == emp.id)
                        .order_by(AttendanceCorrection.created_at.desc(), AttendanceCorrection.id.desc())
                        .limit(limit)).all()
    return [_correction_dict(c, emp.full_name, tz) for c in rows]


def list_corrections(*, session: Session, actor: Actor, status: str | None = None, employee_id: int | None = None,
                     page: int = 1, limit: int = 20) -> tuple[list[RegularizationPublic], int]:
    """Scoped list for the API (employee: own; manager: self and reports; HR: everyone)."""
    require(actor)
    query = select(AttendanceCorrection).where(AttendanceCorrection.organization_id == actor.organization_id,
                                               scope_condition(actor, AttendanceCorrection.employee_id))
    if employee_id is not None:
        get_in_scope(session, actor, employee_id)
        query = query.where(AttendanceCorrection.employee_id == employee_id)
    if status:
        try:
            query = query.where(AttendanceCorrection.status == CorrectionStatus(status))
        except ValueError as exc:
            raise ValidationFailed.field("status", "status must be one of pending, approved, rejected, cancelled."
                                         ) from exc
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(AttendanceCorrection.created_at.desc(), AttendanceCorrection.id.desc())
                             .offset((page - 1) * limit).limit(limit)).all())
    names = _names(session, [r.employee_id for r in rows])
    return [correction_public(r, names.get(r.employee_id, "")) for r in rows], int(total)


def _queue_query(actor: Actor):
    query = select(AttendanceCorrection, Employee).join(Employee, Employee.id == AttendanceCorrection.employee_id).where(
        AttendanceCorrection.organization_id == actor.organization_id)
    if actor.role not in HR:
        query = query.where(Employee.manager_id == (actor.employee_id or -1))
    return query.where(AttendanceCorrection.employee_id != (actor.employee_id or -1))


def approval_queue(*, session: Session, actor: Actor, limit: int = 100) -> dict[str, Any]:
    """Pending corrections the actor may decide (direct reports; HR: everyone but themselves),
    and the latest decided ones."""
    require(actor, *APPROVERS)
    cal = Calendar(session, actor.organization_id)
    pending = session.exec(_queue_query(actor).where(AttendanceCorrection.status == CorrectionStatus.pending)
                           .order_by(AttendanceCorrection.created_at, AttendanceCorrection.id).limit(limit)).all()
    decided = session.exec(_queue_query(actor).where(AttendanceCorrection.status.in_(
        [CorrectionStatus.approved, CorrectionStatus.rejected]))
        .order_by(AttendanceCorrection.decided_at.desc(), AttendanceCorrection.id.desc()).limit(10)).all()
    keys = [(c.employee_id, c.work_date) for c, _ in pending]
    records: dict[tuple[int, date], AttendanceRecord] = {}
    if keys:
        for r in session.exec(select(AttendanceRecord).where(
                AttendanceRecord.employee_id.in_({k[0] for k in keys}),
                AttendanceRecord.work_date.in_({k[1] for k in keys}))).all():
            records[(r.employee_id, r.work_date)] = r
    deciders = dict(session.exec(select(Employee.user_id, Employee).where(Employee.user_id.in_(
        {c.decided_by_user_id for c, _ in decided if c.decided_by_user_id}))).all()) if decided else {}

    def tz_of(emp: Employee) -> ZoneInfo:
        return cal.tz(cal.company(emp.company_id))

    total = session.exec(select(func.count()).select_from(
        _queue_query(actor).where(AttendanceCorrection.status == CorrectionStatus.pending).subquery())).one()
    return {
        "pending": [_correction_dict(c, e.full_name, tz_of(e), records.get((c.employee_id, c.work_date)))
                    for c, e in pending],
        "decided": [_correction_dict(c, e.full_name, tz_of(e), None,
                                     deciders[c.decided_by_user_id].full_name
                                     if c.decided_by_user_id in deciders else "")
                    for c, e in decided],
        "total": int(total),
    }


def decide_correction(*, session: Session, actor: Actor, correction_id: Any, approve: bool, comment: Any = None,
                      now: datetime | None = None) -> RegularizationPublic:
    """Approve (the record for that date is created or corrected) or reject a pending correction.
    The employee's direct manager or HR decides; never the requester."""
    require(actor, *APPROVERS)
    now = aware(now) or utcnow()
    try:
        correction_id = int(correction_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Correction request not found.") from exc
    comment = (comment if isinstance(comment, str) else "").strip() or None
    if comment and len(comment) > MAX_REASON:
        raise ValidationFailed.field("comment", f"The comment must be at most {MAX_REASON} characters.")
    if not approve and not comment:
        raise ValidationFailed.field("comment", "Say why you reject the request, so the employee knows what to fix.")
    c = session.exec(select(AttendanceCorrection).where(AttendanceCorrection.id == correction_id,
                                                        AttendanceCorrection.organization_id == actor.organization_id,
                                                        scope_condition(actor, AttendanceCorrection.employee_id))
                     ).first()
    if c is None:
        raise NotFound("Correction request not found.")
    emp = session.get(Employee, c.employee_id)
    if c.employee_id == actor.employee_id or c.requested_by_user_id == actor.user_id:
        raise Forbidden("You cannot decide your own correction request.")
    if actor.role not in HR and not is_manager_of(session, actor.employee_id, c.employee_id):
        raise Forbidden("Only the employee's manager or HR can decide this request.")
    new_status = CorrectionStatus.approved if approve else CorrectionStatus.rejected
    if not _try_lock(session, "correction", c.id):
        raise Conflict("Someone else is deciding this request right now.")
    won = session.exec(
        update(AttendanceCorrection)
        .where(AttendanceCorrection.id == c.id, AttendanceCorrection.status == CorrectionStatus.pending)
        .values(status=new_status, decided_by_user_id=actor.user_id, decided_at=now, decision_comment=comment)
    ).rowcount
    if won != 1:
        session.refresh(c)
        raise Conflict(f"This request is no longer pending (it is {c.status.value}).")
    session.refresh(c)
    if approve:
        rec = _apply_correction(session, actor, c, emp, now=now)
        c.record_id = rec.id
        session.add(c)
    else:
        audit.record(session, action="attendance.correction_rejected", actor=actor,
                     entity_type="attendance_correction", entity_id=c.id, changes={"comment": comment})
    events.publish(session, CORRECTION_DECIDED, organization_id=c.organization_id, actor_user_id=actor.user_id,
                   correction_id=c.id, employee_id=c.employee_id, requester_user_id=c.requested_by_user_id,
                   status=new_status.value, comment=comment)
    _topics(session, c.organization_id, c.requested_by_user_id, emp.user_id if emp else None, corrections=True)
    return correction_public(c, emp.full_name if emp else "")


def _apply_correction(session: Session, actor: Actor, c: AttendanceCorrection, emp: Employee, *,
                      now: datetime) -> AttendanceRecord:
    cal = Calendar(session, actor.organization_id)
    company = cal.company(emp.company_id)
    tz, shift = cal.tz(company), cal.shift_for(emp)
    kind = cal.kind(company, c.work_date)
    start, end = aware(c.check_in), aware(c.check_out)
    seconds = int((end - start).total_seconds())
    status, is_late = derive_record_status(first_in=start, work_seconds=seconds, closed=True, shift=shift, kind=kind,
                                           work_date=c.work_date, tz=tz)
    rec = session.exec(select(AttendanceRecord).where(AttendanceRecord.employee_id == c.employee_id,
                                                      AttendanceRecord.work_date == c.work_date)
                       .with_for_update()).first()
    before: dict[str, Any] | None = None
    if rec is None:
        rec = AttendanceRecord(organization_id=c.organization_id, employee_id=c.employee_id, work_date=c.work_date,
                               check_in=start, check_out=end, work_seconds=seconds, status=status, is_late=is_late,
                               shift_id=shift.id, corrected=True, created_at=now, updated_at=now)
        session.add(rec)
        session.flush()
    else:
        before = {"check_in": to_iso(rec.check_in), "check_out": to_iso(rec.check_out), "work_hours": hours(rec.work_seconds),
                  "status": rec.status.value, "system_closed": rec.system_closed}
        rec.check_in, rec.check_out, rec.open_since, rec.work_seconds = start, end, None, seconds
        rec.status, rec.is_late, rec.system_closed, rec.corrected, rec.updated_at = status, is_late, False, True, now
        session.add(rec)
        session.flush()
    _punch(session, rec=rec, kind=PunchKind.check_in, at=start, source=PunchSource.correction, actor=actor)
    _punch(session, rec=rec, kind=PunchKind.check_out, at=end, source=PunchSource.correction, actor=actor)
    after = {"check_in": to_iso(start), "check_out": to_iso(end), "work_hours": hours(seconds), "status": status.value}
    audit.record(session, action="attendance.record_corrected" if before else "attendance.record_created",
                 actor=actor, entity_type="attendance_record", entity_id=rec.id,
                 changes={"correction_id": c.id, "employee_id": c.employee_id, "date": c.work_date.isoformat(),
                          "before": before, "after": after, "comment": c.decision_comment})
    return rec


def cancel_correction(*, session: Session, actor: Actor, correction_id: Any) -> None:
    require(actor)
    try:
        correction_id = int(correction_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Correction request not found.") from exc
    c = session.exec(select(AttendanceCorrection).where(AttendanceCorrection.id == correction_id,
                                                        AttendanceCorrection.organization_id == actor.organization_id,
                                                        AttendanceCorrection.employee_id == (actor.employee_id or -1))
                     ).first()
    if c is None:
        raise NotFound("Correction request not found.")
    done = session.exec(update(AttendanceCorrection).where(AttendanceCorrection.id == c.id,
                                                           AttendanceCorrection.status == CorrectionStatus.pending)
                        .values(status=CorrectionStatus.cancelled, decided_at=utcnow())).rowcount
    if done != 1:
        raise Conflict("Only a pending request can be cancelled.")
    audit.record(session, action="attendance.correction_cancelled", actor=actor, entity_type="attendance_correction",
                 entity_id=c.id)
    _topics(session, c.organization_id, actor.user_id, corrections=True)


def record_history(*, session: Session, actor: Actor, record_id: int) -> list[dict[str, Any]]:
    """The audit trail of one record (corrections, auto check-outs), newest first."""
    require(actor)
    rec = session.exec(select(AttendanceRecord).where(AttendanceRecord.id == record_id,
                                                      AttendanceRecord.organization_id == actor.organization_id,
                                                      scope_condition(actor, AttendanceRecord.employee_id))).first()
    if rec is None:
        raise NotFound("Attendance record not found.")
    rows = session.exec(select(audit.AuditLog).where(audit.AuditLog.organization_id == actor.organization_id,
                                                     audit.AuditLog.entity_type == "attendance_record",
                                                     audit.AuditLog.entity_id == rec.id)
                        .order_by(audit.AuditLog.created_at.desc())).all()
    return [{"action": r.action, "at": to_iso(r.created_at), "changes": r.changes, "actor_user_id": r.actor_user_id}
            for r in rows]


# ================================================================ settings (admin, HR)


def _company_in_org(session: Session, actor: Actor, company_id: Any) -> Company:
    try:
        company = session.get(Company, int(company_id))
    except (TypeError, ValueError):
        company = None
    if company is None or company.organization_id != actor.organization_id:
        raise NotFound("Company not found.")
    return company


def ensure_default_shift(session: Session, company: Company) -> Shift:
    """The company's default shift, created with the built-in defaults when it has none yet."""
    row = session.exec(select(Shift).where(Shift.company_id == company.id, Shift.is_default)).first()
    if row is not None:
        return row
    d = DEFAULT_SHIFT
    row = Shift(organization_id=company.organization_id, company_id=company.id, name=d.name, start_time=d.start,
                end_time=d.end, grace_minutes=d.grace_minutes, half_day_hours=d.half_day_hours,
                auto_checkout_minutes=d.auto_checkout_minutes, is_default=True)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        row = session.exec(select(Shift).where(Shift.company_id == company.id, Shift.is_default)).one()
    return row


def _shift_dict(s: Shift, assigned: int = 0) -> dict[str, Any]:
    spec = _spec(s)
    return {"id": s.id, "name": s.name, "start": f"{s.start_time:%H:%M}", "end": f"{s.end_time:%H:%M}",
            "hours_label": spec.label, "grace_minutes": s.grace_minutes, "half_day_hours": s.half_day_hours,
            "half_day_label": f"{s.half_day_hours:g} h", "auto_checkout_minutes": s.auto_checkout_minutes,
            "is_default": s.is_default, "night": spec.crosses_midnight, "assigned": assigned}


def settings_view(*, session: Session, actor: Actor, company_id: Any = None) -> dict[str, Any]:
    require(actor, *HR)
    companies = list(session.exec(select(Company).where(Company.organization_id == actor.organization_id)
                                  .order_by(Company.name)).all())
    if not companies:
        raise NotFound("Your organization has no company yet.")
    company = _company_in_org(session, actor, company_id) if company_id else companies[0]
    ensure_default_shift(session, company)
    shifts = list(session.exec(select(Shift).where(Shift.company_id == company.id)
                               .order_by(Shift.is_default.desc(), Shift.name)).all())
    counts = dict(session.exec(select(EmployeeShift.shift_id, func.count()).where(
        EmployeeShift.shift_id.in_([s.id for s in shifts])).group_by(EmployeeShift.shift_id)).all())
    required, sites = location_rules(session, company.id)
    overrides = session.exec(select(EmployeeShift, Employee, Shift)
                             .join(Employee, Employee.id == EmployeeShift.employee_id)
                             .join(Shift, Shift.id == EmployeeShift.shift_id)
                             .where(Shift.company_id == company.id)
                             .order_by(Employee.first_name, Employee.last_name)).all()
    people = session.exec(select(Employee.id, Employee.first_name, Employee.last_name, Employee.employee_code)
                          .where(Employee.company_id == company.id, Employee.status == EmployeeStatus.active)
                          .order_by(Employee.first_name, Employee.last_name)).all()
    return {
        "companies": [{"id": c.id, "name": c.name, "timezone": c.timezone} for c in companies],
        "company": {"id": company.id, "name": company.name, "timezone": company.timezone},
        "shifts": [_shift_dict(s, counts.get(s.id, 0)) for s in shifts],
        "location_required": required,
        "sites": [{"id": s.id, "name": s.name, "latitude": s.latitude, "longitude": s.longitude,
                   "radius_m": s.radius_m, "coords": f"{s.latitude:.5f}, {s.longitude:.5f}"} for s in sites],
        "overrides": [{"employee_id": e.id, "name": e.full_name, "shift_id": s.id, "shift_name": s.name,
                       "hours_label": _spec(s).label} for _o, e, s in overrides],
        "people": [{"id": i, "name": f"{f} {last} ({code})"} for i, f, last, code in people],
    }


def save_shift(*, session: Session, actor: Actor, company_id: Any, data: ShiftIn, shift_id: Any = None) -> dict[str, Any]:
    require(actor, *HR)
    company = _company_in_org(session, actor, company_id)
    ensure_default_shift(session, company)  # the built-in default becomes a real row before another is added
    name = data.name.strip()
    if not name:
        raise ValidationFailed.field("name", "The shift needs a name.")
    if data.start_time == data.end_time:
        raise ValidationFailed.field("end", "Start and end cannot be the same time.")
    start, end = data.start_time.replace(second=0, microsecond=0), data.end_time.replace(second=0, microsecond=0)
    length_h = ((datetime.combine(date(2000, 1, 2) if end <= start else date(2000, 1, 1), end)
                 - datetime.combine(date(2000, 1, 1), start)).total_seconds()) / 3600
    if data.half_day_hours > length_h:
        raise ValidationFailed.field("halfDayHours", f"The half-day threshold cannot exceed the shift's length "
                                                     f"({length_h:g} h).")
    if shift_id:
        s = session.exec(select(Shift).where(Shift.id == int(shift_id), Shift.company_id == company.id)).first()
        if s is None:
            raise NotFound("Shift not found.")
        before = _shift_dict(s)
    else:
        s = Shift(organization_id=company.organization_id, company_id=company.id, name=name, start_time=start,
                  end_time=end)
        before = None
    duplicate = session.exec(select(Shift.id).where(Shift.company_id == company.id, func.lower(Shift.name) == name.lower(),
                                                    Shift.id != (s.id or -1))).first()
    if duplicate is not None:
        raise Conflict(f"A shift named '{name}' already exists in {company.name}.")
    has_default = session.exec(select(Shift.id).where(Shift.company_id == company.id, Shift.is_default,
                                                      Shift.id != (s.id or -1))).first() is not None
    if s.is_default and not data.is_default:
        raise ValidationFailed.field("isDefault", "Make another shift the default instead; a company always has one.")
    make_default = data.is_default or not has_default
    if make_default and has_default:
        session.exec(update(Shift).where(Shift.company_id == company.id, Shift.is_default,
                                         Shift.id != (s.id or -1)).values(is_default=False))
        session.flush()
    s.name, s.start_time, s.end_time = name, start, end
    s.grace_minutes, s.half_day_hours = data.grace_minutes, float(data.half_day_hours)
    s.auto_checkout_minutes, s.is_default, s.updated_at = data.auto_checkout_minutes, make_default, utcnow()
    session.add(s)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent save of the same name
        raise Conflict(f"A shift named '{name}' already exists in {company.name}.") from exc
    after = _shift_dict(s)
    audit.record(session, action="attendance.shift_saved", actor=actor, entity_type="attendance_shift",
                 entity_id=s.id, changes={"before": before, "after": after})
    _topics(session, actor.organization_id)
    return after


def delete_shift(*, session: Session, actor: Actor, shift_id: Any) -> None:
    require(actor, *HR)
    s = session.exec(select(Shift).where(Shift.id == int(shift_id), Shift.organization_id == actor.organization_id)
                     ).first()
    if s is None:
        raise NotFound("Shift not found.")
    if s.is_default:
        raise Conflict("The default shift cannot be deleted. Make another shift the default first.")
    session.exec(update(AttendanceRecord).where(AttendanceRecord.shift_id == s.id).values(shift_id=None))
    for o in session.exec(select(EmployeeShift).where(EmployeeShift.shift_id == s.id)).all():
        session.delete(o)
    session.flush()
    audit.record(session, action="attendance.shift_deleted", actor=actor, entity_type="attendance_shift",
                 entity_id=s.id, changes={"name": s.name})
    session.delete(s)


def set_location_required(*, session: Session, actor: Actor, company_id: Any, required: bool) -> None:
    require(actor, *HR)
    company = _company_in_org(session, actor, company_id)
    policy = session.exec(select(AttendancePolicy).where(AttendancePolicy.company_id == company.id)).first()
    if policy is None:
        policy = AttendancePolicy(organization_id=company.organization_id, company_id=company.id)
    before = policy.location_required
    policy.location_required, policy.updated_at = bool(required), utcnow()
    session.add(policy)
    session.flush()
    audit.record(session, action="attendance.location_rule", actor=actor, entity_type="company", entity_id=company.id,
                 changes={"location_required": [before, bool(required)]})
    _topics(session, actor.organization_id)


def add_site(*, session: Session, actor: Actor, company_id: Any, data: SiteIn) -> dict[str, Any]:
    require(actor, *HR)
    company = _company_in_org(session, actor, company_id)
    site = AttendanceSite(organization_id=company.organization_id, company_id=company.id, name=data.name.strip(),
                          latitude=data.latitude, longitude=data.longitude, radius_m=data.radius_m)
    if not site.name:
        raise ValidationFailed.field("name", "The site needs a name.")
    session.add(site)
    session.flush()
    audit.record(session, action="attendance.site_added", actor=actor, entity_type="attendance_site",
                 entity_id=site.id, changes=data.model_dump())
    return {"id": site.id, "name": site.name}


def delete_site(*, session: Session, actor: Actor, site_id: Any) -> None:
    require(actor, *HR)
    site = session.exec(select(AttendanceSite).where(AttendanceSite.id == int(site_id),
                                                     AttendanceSite.organization_id == actor.organization_id)).first()
    if site is None:
        raise NotFound("Site not found.")
    audit.record(session, action="attendance.site_removed", actor=actor, entity_type="attendance_site",
                 entity_id=site.id, changes={"name": site.name})
    session.exec(update(AttendancePunch).where(AttendancePunch.site_id == site.id).values(site_id=None))
    session.delete(site)


def assign_shift(*, session: Session, actor: Actor, employee_id: Any, shift_id: Any = None) -> None:
    """Give an employee their own shift (shift_id), or back to the company default (None)."""
    require(actor, *HR)
    try:
        emp = get_in_scope(session, actor, int(employee_id))
    except (TypeError, ValueError) as exc:
        raise NotFound("Employee not found.") from exc
    current = session.get(EmployeeShift, emp.id)
    before = current.shift_id if current else None
    if shift_id in (None, "", 0, "0"):
        if current is not None:
            session.delete(current)
    else:
        s = session.exec(select(Shift).where(Shift.id == int(shift_id), Shift.organization_id == actor.organization_id)
                         ).first()
        if s is None:
            raise NotFound("Shift not found.")
        if s.company_id != emp.company_id:
            raise ValidationFailed.field("shiftId", "That shift belongs to another company than the employee's.")
        if current is None:
            current = EmployeeShift(employee_id=emp.id, organization_id=emp.organization_id, shift_id=s.id)
        current.shift_id, current.updated_at = s.id, utcnow()
        session.add(current)
    session.flush()
    audit.record(session, action="attendance.shift_assigned", actor=actor, entity_type="employee", entity_id=emp.id,
                 changes={"shift_id": [before, int(shift_id) if shift_id not in (None, "", 0, "0") else None]})


# ================================================================ misc for pages


def months_for_picker(today: date, back: int = 12) -> list[str]:
    return [shift_month(today.replace(day=1), -i).strftime("%Y-%m") for i in range(back + 1)]


def company_today_for(*, session: Session, actor: Actor, now: datetime | None = None) -> date:
    require(actor)
    now = aware(now) or utcnow()
    if actor.employee_id is None:
        return now.date()
    emp = session.get(Employee, actor.employee_id)
    cal = Calendar(session, actor.organization_id)
    return now.astimezone(cal.tz(cal.company(emp.company_id))).date()

