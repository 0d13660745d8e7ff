"""Demo leave data: the four types, this year's entitlements for everyone, German (Berlin) and US public
holidays for the two demo companies (this year and next), and a realistic handful of requests.

Deterministic for a given day: dates are placed relative to today in each company's time zone.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

from sqlmodel import Session, select

from hr_portal.auth.models import User
from hr_portal.employees.models import Employee
from hr_portal.leave import service
from hr_portal.leave.models import LeaveApproval, LeaveLedger, LeaveRequest, LeaveStatus, LeaveType, LedgerKind
from hr_portal.org.models import Company, Holiday
from hr_portal.org.service import company_today, day_kinds


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar; anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    la = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * la) // 451
    month = (h + la - 7 * m + 114) // 31
    day = (h + la - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def german_holidays(year: int) -> list[tuple[date, str]]:
    """Public holidays in Berlin."""
    e = easter(year)
    return [
        (date(year, 1, 1), "New Year's Day"), (date(year, 3, 8), "International Women's Day"),
        (e - timedelta(days=2), "Good Friday"), (e + timedelta(days=1), "Easter Monday"),
        (date(year, 5, 1), "Labour Day"), (e + timedelta(days=39), "Ascension Day"),
        (e + timedelta(days=50), "Whit Monday"), (date(year, 10, 3), "Day of German Unity"),
        (date(year, 12, 25), "Christmas Day"), (date(year, 12, 26), "Boxing Day"),
    ]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based; -1 = last) ISO weekday of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.isoweekday()) % 7 + 7 * (n - 1))
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    return last - timedelta(days=(last.isoweekday() - weekday) % 7)


def _observed(day: date) -> date:
    """US federal rule: a Saturday holiday is observed on Friday, a Sunday one on Monday."""
    if day.isoweekday() == 6:
        return day - timedelta(days=1)
    if day.isoweekday() == 7:
        return day + timedelta(days=1)
    return day


def us_holidays(year: int) -> list[tuple[date, str]]:
    thanksgiving = _nth_weekday(year, 11, 4, 4)
    return [
        (_observed(date(year, 1, 1)), "New Year's Day"), (_nth_weekday(year, 1, 1, 3), "Martin Luther King Jr. Day"),
        (_nth_weekday(year, 2, 1, 3), "Presidents' Day"), (_nth_weekday(year, 5, 1, -1), "Memorial Day"),
        (_observed(date(year, 6, 19)), "Juneteenth"), (_observed(date(year, 7, 4)), "Independence Day"),
        (_nth_weekday(year, 9, 1, 1), "Labor Day"), (thanksgiving, "Thanksgiving Day"),
        (thanksgiving + timedelta(days=1), "Day after Thanksgiving"), (_observed(date(year, 12, 25)), "Christmas Day"),
    ]


def _add_holidays(session: Session, company: Company, days: list[tuple[date, str]]) -> None:
    existing = set(session.exec(select(Holiday.date).where(Holiday.company_id == company.id)).all())
    for day, name in days:
        if day.year > 2100 or day in existing:
            continue
        existing.add(day)
        session.add(Holiday(organization_id=company.organization_id, company_id=company.id, date=day, name=name))
    session.flush()


def _working_day(kinds: dict[date, str], day: date, *, forward: bool = True) -> date:
    while kinds.get(day) != "working":
        day += timedelta(days=1 if forward else -1)
    return day


def seed(session: Session, organization_id: int) -> None:
    companies = session.exec(select(Company).where(Company.organization_id == organization_id)
                             .order_by(Company.id)).all()
    for company in companies:
        today = company_today(company)
        make = german_holidays if company.country == "DE" else us_holidays if company.country == "US" else None
        if make:
            _add_holidays(session, company, make(today.year) + make(today.year + 1))

    types = {t.name: t for t in service.ensure_default_types(session, organization_id)}
    people = session.exec(select(Employee).where(Employee.organization_id == organization_id)
                          .order_by(Employee.id)).all()
    for emp in people:
        service.grant_entitlements(session, emp, today=company_today(session.get(Company, emp.company_id)),
                                   types=list(types.values()))
    session.flush()

    by_email = {e.email: e for e in people}
    employee = by_email.get("employee@acme.example")
    manager = by_email.get("manager@acme.example")
    hr = by_email.get("hr@acme.example")
    if not (employee and manager and hr):
        return
    team = [e for e in people if e.manager_id == manager.id and e.id != employee.id]
    company = session.get(Company, employee.company_id)
    today = company_today(company)
    kinds = day_kinds(session, company, today - timedelta(days=120), today + timedelta(days=120))

    def at(offset: int, *, forward: bool = True) -> date:
        return _working_day(kinds, today + timedelta(days=offset), forward=forward)

    plan: list[tuple[Employee, str, date, date, bool, bool, LeaveStatus, str, str]] = [
        # (who, type, start, end, half start, half end, status, reason, approver comment)
        (employee, "Annual", at(-70), at(-66), False, False, LeaveStatus.approved, "Family visit", "Enjoy!"),
        (employee, "Sick", at(-30), at(-30), False, False, LeaveStatus.approved, "Flu", ""),
        (employee, "Annual", at(-12), at(-12), True, False, LeaveStatus.cancelled, "Dentist", ""),
        (employee, "Annual", at(16), at(20), False, False, LeaveStatus.pending, "Long weekend in Lisbon", ""),
    ]
    if len(team) >= 4:
        plan += [
            (team[0], "Annual", at(9), at(13), False, False, LeaveStatus.approved, "Summer trip", "Approved"),
            (team[1], "Annual", at(17), at(17), False, True, LeaveStatus.pending, "Moving flat", ""),
            (team[2], "Sick", at(-3, forward=False), at(-2, forward=False), False, False, LeaveStatus.approved,
             "Cold", ""),
            (team[3], "Annual", at(-40), at(-38), False, False, LeaveStatus.rejected, "Conference",
             "Release week: please pick other dates"),
            (team[3], "Annual", at(30), at(43), False, False, LeaveStatus.pending, "Two weeks in Japan", ""),
        ]
    user_of = {u.id: u for u in session.exec(select(User).where(User.organization_id == organization_id)).all()}
    for who, type_name, start, end, half_start, half_end, status, reason, comment in plan:
        t: LeaveType = types[type_name]
        if start.year != today.year or end.year != today.year:
            continue  # keep the demo inside this year's balance
        fractions = service.day_fractions(kinds, start, end, half_day_start=half_start, half_day_end=half_end,
                                          count_non_working=t.count_non_working_days)
        days = service.r2(sum(fractions.values()))
        steps = 2 if t.hr_approval_above_days is not None and days > t.hr_approval_above_days else 1
        approver = manager if who.manager_id == manager.id else hr
        created = dt.datetime.combine(min(start, today) - timedelta(days=7), dt.time(9), tzinfo=dt.UTC)
        req = LeaveRequest(organization_id=organization_id, employee_id=who.id, leave_type_id=t.id, start_date=start,
                           end_date=end, half_day_start=half_start, half_day_end=half_end, days=days, reason=reason,
                           status=status, steps_required=steps, requester_user_id=who.user_id,
                           created_at=created, updated_at=created)
        if status in (LeaveStatus.approved, LeaveStatus.rejected):
            req.approver_user_id, req.approver_employee_id = approver.user_id, approver.id
            req.approver_comment, req.decided_at = comment or None, created + timedelta(hours=5)
            req.step = steps
        if status == LeaveStatus.cancelled:
            req.cancelled_at = created + timedelta(days=1)
        session.add(req)
        session.flush()
        if status in (LeaveStatus.approved, LeaveStatus.rejected):
            session.add(LeaveApproval(organization_id=organization_id, leave_request_id=req.id, step=steps,
                                      decision=status, actor_user_id=approver.user_id, comment=comment or None,
                                      created_at=req.decided_at))
        if status == LeaveStatus.approved:
            name = approver.full_name if approver.user_id in user_of else ""
            session.add(LeaveLedger(
                organization_id=organization_id, employee_id=who.id, leave_type_id=t.id, year=start.year,
                entry_date=start, kind=LedgerKind.taken, amount=-days, leave_request_id=req.id,
                actor_user_id=approver.user_id,
                reason=f"Leave {service.fmt_date(start)} – {service.fmt_date(end)}, approved by {name}"))
    comp = types["Compensatory"]
    session.add(LeaveLedger(organization_id=organization_id, employee_id=employee.id, leave_type_id=comp.id,
                            year=today.year, entry_date=at(-20), kind=LedgerKind.allocation, amount=1.0,
                            reason="Worked the Saturday release", actor_user_id=hr.user_id))
    session.flush()
