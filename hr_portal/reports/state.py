"""Report page states: shared filters (company, department) and one substate per report.

Every handler derives the actor server-side and calls reports.service, which re-checks the role, the
organization and the manager's scope; values from the browser (dates, ids, page numbers) are cast
and bounded here and validated again by the service. State holds aggregated rows only (the monthly
sheet one page at a time); CSV exports are generated server-side and handed to the browser.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from hr_portal.attendance.service import fmt_day
from hr_portal.auth.models import Role
from hr_portal.core.errors import AppError, Unauthorized, ValidationFailed
from hr_portal.reports import service
from hr_portal.ui.session import SessionState, run_service

ROLES = (Role.admin, Role.hr_manager, Role.manager)
PRESETS = {"30d": "Last 30 days", "month": "This month", "last_month": "Last month", "quarter": "Last 3 months",
           "year": "This year", "12m": "Last 12 months", "24m": "Last 24 months"}


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _strs(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: _s(v) for k, v in row.items()} for row in rows]


def _day(value: Any) -> str:
    """A YYYY-MM-DD string from the browser, or '' (the service reports a bad one)."""
    text = str(value or "").strip()[:10]
    return text


def _months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def preset_range(name: str, today: date) -> tuple[date, date]:
    """(start, end) of a named quick range ending today."""
    first = today.replace(day=1)
    if name == "month":
        return first, today
    if name == "last_month":
        last = first - timedelta(days=1)
        return last.replace(day=1), last
    if name == "quarter":
        return _months_before(first, 2), today
    if name == "year":
        return today.replace(month=1, day=1), today
    if name == "12m":
        return _months_before(first, 11), today
    if name == "24m":
        return _months_before(first, 23), today
    return today - timedelta(days=29), today


class ReportsState(SessionState):
    """Filters shared by every report page (company, department) and their choices."""

    company: str = ""
    department: str = ""
    companies: list[dict[str, str]] = []
    departments: list[dict[str, str]] = []
    scope_label: str = ""
    busy: bool = False
    exporting: bool = False
    error: str = ""
    loaded: bool = False
    _options_user: int = 0

    async def _actor(self):
        return await self.require(*ROLES)

    async def _load_options(self, actor) -> None:
        if self._options_user == actor.user_id and self.companies:
            return
        options = await run_service(service.filter_options, actor=actor)
        self.companies = [{"id": str(c["id"]), "name": c["name"]} for c in options["companies"]]
        self.departments = [{"id": str(d["id"]), "name": d["name"]} for d in options["departments"]]
        self._options_user = actor.user_id
        self.scope_label = ("Whole organization" if actor.role in (Role.admin, Role.hr_manager)
                            else "Your team (everyone reporting to you)")
        known_c = {c["id"] for c in self.companies}
        known_d = {d["id"] for d in self.departments}
        if self.company not in known_c:
            self.company = ""
        if self.department not in known_d:
            self.department = ""

    def _ids(self) -> dict[str, Any]:
        return {"company_id": self.company or None, "department_id": self.department or None}

    def _fail(self, exc: AppError):
        self.busy = self.exporting = False
        if isinstance(exc, Unauthorized):
            return self._denied(exc)
        if isinstance(exc, ValidationFailed):
            self.error = exc.message
            return None
        return self._denied(exc)

    def _pick(self, kind: str, value: Any) -> None:
        text = str(value or "").strip()
        choices = self.companies if kind == "company" else self.departments
        text = text if text in {c["id"] for c in choices} else ""
        if kind == "company":
            self.company = text
        else:
            self.department = text


# ================================================================ headcount


class HeadcountState(ReportsState):
    start: str = ""
    end: str = ""
    series: list[dict[str, Any]] = []
    by_department: list[dict[str, Any]] = []
    by_company: list[dict[str, Any]] = []
    by_type: list[dict[str, Any]] = []
    totals: dict[str, str] = {}
    range_label: str = ""

    def _filters(self):
        return service.make_filters(start=self.start or None, end=self.end or None, **self._ids(),
                                    max_days=service.MAX_HEADCOUNT_DAYS)

    async def _load(self, actor) -> None:
        data = await run_service(service.headcount_report, actor=actor, filters=self._filters())
        self.series = data["series"]
        self.by_department, self.by_company, self.by_type = data["by_department"], data["by_company"], data["by_type"]
        self.totals = {k: _s(v) for k, v in data["totals"].items()}
        self.range_label = data["range_label"]
        self.error, self.loaded = "", True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("reports")
        if redirect is not None:
            return redirect
        if not self.start:
            start, end = preset_range("12m", date.today())
            self.start, self.end = start.isoformat(), end.isoformat()
        return HeadcountState.reload

    @rx.event
    async def reload(self):
        self.busy = True
        yield
        try:
            actor = await self._actor()
            await self._load_options(actor)
            await self._load(actor)
        except AppError as exc:
            yield self._fail(exc)
            return
        self.busy = False

    @rx.event
    def set_start(self, value: str):
        self.start = _day(value)

    @rx.event
    def set_end(self, value: str):
        self.end = _day(value)

    @rx.event
    async def preset(self, name: str):
        start, end = preset_range(str(name), date.today())
        self.start, self.end = start.isoformat(), end.isoformat()
        return HeadcountState.reload

    @rx.event
    async def pick_company(self, value: str):
        self._pick("company", value)
        return HeadcountState.reload

    @rx.event
    async def pick_department(self, value: str):
        self._pick("department", value)
        return HeadcountState.reload

    @rx.event
    async def export_csv(self):
        self.exporting = True
        yield
        try:
            actor = await self._actor()
            name, text = await run_service(service.headcount_csv, actor=actor, filters=self._filters())
        except AppError as exc:
            yield self._fail(exc)
            return
        self.exporting = False
        yield rx.download(data=text, filename=name, mime_type="text/csv")


# ================================================================ attendance


class AttendanceReportState(ReportsState):
    start: str = ""
    end: str = ""
    daily: list[dict[str, Any]] = []
    by_department: list[dict[str, Any]] = []
    totals: dict[str, str] = {}
    range_label: str = ""
    note: str = ""

    def _filters(self):
        return service.make_filters(start=self.start or None, end=self.end or None, **self._ids())

    async def _load(self, actor) -> None:
        data = await run_service(service.attendance_report, actor=actor, filters=self._filters())
        self.daily = [{**r, "rate": r["rate"], "late": r["late"]} for r in data["daily"]]
        self.by_department = data["by_department"]
        self.totals = {k: _s(v) for k, v in data["totals"].items()}
        self.range_label, self.note = data["range_label"], data["note"]
        self.error, self.loaded = "", True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("reports")
        if redirect is not None:
            return redirect
        if not self.start:
            start, end = preset_range("30d", date.today())
            self.start, self.end = start.isoformat(), end.isoformat()
        return AttendanceReportState.reload

    @rx.event
    async def reload(self):
        self.busy = True
        yield
        try:
            actor = await self._actor()
            await self._load_options(actor)
            await self._load(actor)
        except AppError as exc:
            yield self._fail(exc)
            return
        self.busy = False

    @rx.event
    def set_start(self, value: str):
        self.start = _day(value)

    @rx.event
    def set_end(self, value: str):
        self.end = _day(value)

    @rx.event
    async def preset(self, name: str):
        start, end = preset_range(str(name), date.today())
        self.start, self.end = start.isoformat(), end.isoformat()
        return AttendanceReportState.reload

    @rx.event
    async def pick_company(self, value: str):
        self._pick("company", value)
        return AttendanceReportState.reload

    @rx.event
    async def pick_department(self, value: str):
        self._pick("department", value)
        return AttendanceReportState.reload

    @rx.event
    async def export_csv(self):
        self.exporting = True
        yield
        try:
            actor = await self._actor()
            name, text = await run_service(service.attendance_csv, actor=actor, filters=self._filters())
        except AppError as exc:
            yield self._fail(exc)
            return
        self.exporting = False
        yield rx.download(data=text, filename=name, mime_type="text/csv")


# ================================================================ monthly sheet


def _months_back(today: date, count: int = 24) -> list[dict[str, str]]:
    out, first = [], today.replace(day=1)
    for _ in range(count):
        out.append({"value": first.strftime("%Y-%m"), "label": first.strftime("%B %Y")})
        first = (first - timedelta(days=1)).replace(day=1)
    return out


def _month(value: Any, today: date) -> date:
    try:
        year, month = str(value or "").split("-")[:2]
        parsed = date(int(year), int(month), 1)
    except (TypeError, ValueError):
        return today.replace(day=1)
    if not 2000 <= parsed.year <= 2100:
        return today.replace(day=1)
    return parsed


class SheetState(ReportsState):
    month: str = ""
    months: list[dict[str, str]] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    rows: list[dict[str, Any]] = []
    days: list[dict[str, Any]] = []
    month_label: str = ""

    async def _load(self, actor) -> None:
        data = await run_service(service.monthly_sheet, actor=actor, month=_month(self.month, date.today()),
                                 page=self.page, **self._ids())
        # A cell keeps its code and status only: the page puts its tooltip ("Mon 3 Nov: Present") together from
        # the day's label and the status (the per-cell tooltips were half of this state).
        self.rows = [{**r, "cells": [{"code": c["code"], "status": c["status"]} for c in r["cells"]]}
                     for r in data["rows"]]
        self.days = [{**d, "label": fmt_day(date.fromisoformat(d["date"]))} for d in data["days"]]
        self.page, self.pages, self.total = data["page"], data["pages"], data["total"]
        self.month, self.month_label = data["month"], data["month_label"]
        self.error, self.loaded = "", True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("reports")
        if redirect is not None:
            return redirect
        self.months = _months_back(date.today())
        if not self.month:
            self.month = date.today().strftime("%Y-%m")
        return SheetState.reload

    @rx.event
    async def reload(self):
        self.busy = True
        yield
        try:
            actor = await self._actor()
            await self._load_options(actor)
            await self._load(actor)
        except AppError as exc:
            yield self._fail(exc)
            return
        self.busy = False

    @rx.event
    async def pick_month(self, value: str):
        self.month, self.page = _month(value, date.today()).strftime("%Y-%m"), 1
        return SheetState.reload

    @rx.event
    async def goto(self, page: int):
        try:
            self.page = max(1, min(int(page), max(1, self.pages)))
        except (TypeError, ValueError):
            self.page = 1
        return SheetState.reload

    @rx.event
    async def pick_company(self, value: str):
        self._pick("company", value)
        self.page = 1
        return SheetState.reload

    @rx.event
    async def pick_department(self, value: str):
        self._pick("department", value)
        self.page = 1
        return SheetState.reload

    @rx.event
    async def export_csv(self):
        self.exporting = True
        yield
        try:
            await self._actor()
        except AppError as exc:
            yield self._fail(exc)
            return
        self.exporting = False
        # The whole organization's sheet is large: the browser fetches it from the streaming route
        # (hr_portal/reports/api.py, signed in by the session cookie, same rules) instead of receiving it
        # over the websocket.
        month = _month(self.month, date.today())
        query = urlencode({"month": f"{month:%Y-%m}", **{k: v for k, v in (("companyId", self.company),
                                                                            ("departmentId", self.department)) if v}})
        yield rx.download(url=f"/api/v1/reports/attendance-sheet?{query}", filename=f"attendance-sheet-{month:%Y-%m}.csv")


# ================================================================ leave


class LeaveReportState(ReportsState):
    start: str = ""
    end: str = ""
    taken_by_type: list[dict[str, Any]] = []
    taken_by_department: list[dict[str, Any]] = []
    type_names: list[str] = []
    liability: list[dict[str, Any]] = []
    liability_by_department: list[dict[str, str]] = []
    upcoming: list[dict[str, str]] = []
    upcoming_total: int = 0
    labels: dict[str, str] = {}

    def _filters(self):
        return service.make_filters(start=self.start or None, end=self.end or None, **self._ids())

    async def _load(self, actor) -> None:
        data = await run_service(service.leave_report, actor=actor, filters=self._filters())
        self.taken_by_type = data["taken_by_type"]
        self.taken_by_department = [{"department": r["department"], "days": f"{r['days']:g}",
                                     "cells": [f"{t['days']:g}" for t in r["by_type"]]}
                                    for r in data["taken_by_department"]]
        self.type_names = data["type_names"]
        self.liability = data["liability"]
        self.liability_by_department = _strs(data["liability_by_department"])
        self.upcoming, self.upcoming_total = _strs(data["upcoming"]), data["upcoming_total"]
        self.labels = {"taken": data["taken_total_label"], "owed": data["liability_total_label"],
                       "year": _s(data["year"]), "upcoming": data["upcoming_label"], "range": data["range_label"]}
        self.error, self.loaded = "", True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("reports")
        if redirect is not None:
            return redirect
        if not self.start:
            start, end = preset_range("year", date.today())
            self.start, self.end = start.isoformat(), end.isoformat()
        return LeaveReportState.reload

    @rx.event
    async def reload(self):
        self.busy = True
        yield
        try:
            actor = await self._actor()
            await self._load_options(actor)
            await self._load(actor)
        except AppError as exc:
            yield self._fail(exc)
            return
        self.busy = False

    @rx.event
    def set_start(self, value: str):
        self.start = _day(value)

    @rx.event
    def set_end(self, value: str):
        self.end = _day(value)

    @rx.event
    async def preset(self, name: str):
        start, end = preset_range(str(name), date.today())
        self.start, self.end = start.isoformat(), end.isoformat()
        return LeaveReportState.reload

    @rx.event
    async def pick_company(self, value: str):
        self._pick("company", value)
        return LeaveReportState.reload

    @rx.event
    async def pick_department(self, value: str):
        self._pick("department", value)
        return LeaveReportState.reload

    @rx.event
    async def export_csv(self):
        self.exporting = True
        yield
        try:
            actor = await self._actor()
            name, text = await run_service(service.leave_csv, actor=actor, filters=self._filters())
        except AppError as exc:
            yield self._fail(exc)
            return
        self.exporting = False
        yield rx.download(data=text, filename=name, mime_type="text/csv")
