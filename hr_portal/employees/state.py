"""Page states for the directory, profiles, the employee form, departments, the org chart and CSV import.

Thin: every handler derives the actor server-side, validates and casts its arguments, and calls the
service. Only the visible page of a list lives in state; ids of things the user may not choose
stay in backend-only vars (`_name`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import reflex as rx
from pydantic.alias_generators import to_camel
from sqlmodel import Session

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import Role
from hr_portal.core import files as core_files
from hr_portal.core.authz import Actor
from hr_portal.core.db import aware
from hr_portal.core.errors import AppError, Forbidden, Unauthorized, ValidationFailed
from hr_portal.core.live import org_topic
from hr_portal.employees import import_export, service
from hr_portal.employees.models import (
    DepartmentInput,
    EmployeeCreate,
    EmployeeQuery,
    EmployeeUpdate,
)
from hr_portal.org import service as org_service
from hr_portal.ui.live import live_loop
from hr_portal.ui.session import ROLE_LABELS, SessionState, run_service

log = logging.getLogger(__name__)

HR = (Role.admin, Role.hr_manager)
PAGE_SIZES = ["25", "50", "100"]
TYPE_LABELS = {"full_time": "Full time", "part_time": "Part time", "contract": "Contract", "intern": "Intern"}
ALL = "all"  # select value meaning "no filter" (Radix selects cannot hold an empty value)


def _int(value: Any) -> int | None:
    """A positive id from a browser-supplied value, or None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _s(value: Any) -> str:
    """A value as the string the page shows or a form field holds."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _day(value: date | None) -> str:
    return value.strftime("%d %b %Y").lstrip("0") if value else ""


def _friendly(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return "This field is required."
    if kind == "string_too_long":
        return f"At most {ctx.get('max_length')} characters."
    if kind.startswith("date"):
        return "Enter a date as YYYY-MM-DD."
    if kind in ("enum", "literal_error"):
        return "Choose one of the options."
    return str(error.get("msg", "Invalid value."))


def pydantic_errors(exc: pydantic.ValidationError) -> dict[str, str]:
    return {to_camel(str(e["loc"][0])) if e.get("loc") else "form": _friendly(e) for e in exc.errors()}


def field_errors(exc: AppError) -> dict[str, str]:
    return {str(d["field"]): str(d["message"]) for d in exc.details if d.get("field")}


def _email_error(email: Any) -> dict[str, str]:
    """{"email": message} when a typed email is malformed (the auth service's rule), else {}."""
    if not email:
        return {}
    try:
        auth_service.normalize_email(str(email))
    except AppError as exc:
        return {"email": field_errors(exc).get("email", exc.message)}
    return {}


def _row(e: dict[str, Any]) -> dict[str, Any]:
    """A directory row for the table (display strings only)."""
    return {
        "id": e["id"], "name": f"{e['first_name']} {e['last_name']}", "email": e["email"],
        "initials": (e["first_name"][:1] + e["last_name"][:1]).upper(), "code": e["employee_code"],
        "designation": e["designation"] or "", "department": e["department_name"] or "",
        "manager": e["manager_name"] or "", "type": TYPE_LABELS.get(_s(e["employment_type"]), ""),
        "status": _s(e["status"]), "joined": _day(e["date_of_joining"]), "photo": e.get("photo_url") or "",
    }


class DirectoryState(SessionState):
    """The directory: filters, sort and one page of rows; the rest stays in the database."""

    rows: list[dict[str, Any]] = []
    total: int = 0
    page: int = 1
    page_size: str = "25"
    search: str = ""
    department: str = ALL
    status: str = "active"
    employment_type: str = ALL
    company: str = ALL
    manager_filter_name: str = ""
    manager_query: str = ""
    manager_results: list[dict[str, Any]] = []
    sort_by: str = "lastName"
    sort_order: str = "asc"
    departments: list[dict[str, str]] = []
    companies: list[dict[str, str]] = []
    can_manage: bool = False
    loading: bool = False
    exporting: bool = False
    _manager_filter: int | None = None

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // int(self.page_size)))

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return "No one"
        start = (self.page - 1) * int(self.page_size) + 1
        return f"{start:,}–{min(self.total, start + len(self.rows) - 1):,} of {self.total:,}"

    @rx.var
    def filtered(self) -> bool:
        return bool(self.search or self.department != ALL or self.status != "active" or self.employment_type != ALL
                    or self.company != ALL or self.manager_filter_name)

    def _query(self) -> EmployeeQuery:
        return EmployeeQuery(
            search=self.search or None, department_id=_int(self.department), manager_id=self._manager_filter,
            status=None if self.status == ALL else self.status,
            employment_type=None if self.employment_type == ALL else self.employment_type,
            company_id=_int(self.company), sort_by=self.sort_by, sort_order=self.sort_order)

    def _page_work(self) -> Callable[..., tuple[list, int, int]]:
        """The unit of work that reads the page shown: (items, total, page). A page that emptied under us
        (filters, deactivations) becomes the last one."""
        query, page, size = self._query(), self.page, int(self.page_size)

        def work(session: Session, actor: Actor) -> tuple[list, int, int]:
            items, total = service.list_employees(session=session, actor=actor, query=query, page=page, limit=size)
            if not items and total and page > 1:
                last = max(1, -(-total // size))
                items, total = service.list_employees(session=session, actor=actor, query=query, page=last,
                                                      limit=size)
                return items, total, last
            return items, total, page

        return work

    def _show(self, result: tuple[list, int, int]) -> None:
        items, self.total, self.page = result
        self.rows = [_row(e.model_dump()) for e in items]

    async def _load(self, actor: Actor | None = None) -> None:
        # Without an actor: the session check and the read in one thread hop and one unit of work.
        work = self._page_work()
        self._show(await (self._run_as(work) if actor is None else run_service(work, actor=actor)))

    async def _refresh(self):
        self.loading = True
        try:
            await self._load()
        except AppError as exc:
            return self._denied(exc)
        finally:
            self.loading = False

    @rx.event
    async def open_directory(self):
        page_work = self._page_work()

        def work(session: Session, actor: Actor):  # the filters' options and the first page
            depts = service.list_departments(session=session, actor=actor, include_archived=False)
            companies = org_service.list_companies(session=session, actor=actor)
            return ([{"value": str(d.id), "label": d.name} for d in depts],
                    [{"value": str(c.id), "label": c.name} for c in companies], page_work(session, actor), actor)

        # The guard and the page's data in one unit of work (SessionState._open_page_as).
        redirect, loaded = await self._open_page_as("employees", work)
        if redirect is not None:
            return redirect
        self.departments, self.companies, page, actor = loaded
        self.can_manage = actor.is_hr
        self._show(page)
        self._topics = [org_topic(actor.organization_id, "employees")]
        return DirectoryState.watch

    async def _reload(self) -> None:
        await self._load()

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/employees", reload=DirectoryState._reload)

    @rx.event
    async def refresh(self):
        return await self._refresh()

    @rx.event
    async def set_search(self, value: str):
        self.search, self.page = str(value)[:200], 1
        return await self._refresh()

    @rx.event
    async def set_filter(self, name: str, value: str):
        value = str(value)[:20]
        if name == "department" and (value == ALL or _int(value)):
            self.department = value
        elif name == "status" and value in (ALL, "active", "inactive"):
            self.status = value
        elif name == "employment_type" and value in (ALL, *TYPE_LABELS):
            self.employment_type = value
        elif name == "company" and (value == ALL or _int(value)):
            self.company = value
        else:
            return None
        self.page = 1
        return await self._refresh()

    @rx.event
    async def search_manager(self, value: str):
        self.manager_query = str(value)[:100]
        if not self.manager_query.strip():
            self.manager_results = []
            return None
        try:
            actor = await self.require()
            self.manager_results = await run_service(service.search_people, actor=actor, text=self.manager_query,
                                                     limit=6)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def pick_manager(self, employee_id: int):
        match = next((p for p in self.manager_results if p["id"] == _int(employee_id)), None)
        if match is None:
            return None
        self._manager_filter, self.manager_filter_name = match["id"], match["name"]
        self.manager_query, self.manager_results, self.page = "", [], 1
        return await self._refresh()

    @rx.event
    async def clear_manager(self):
        self._manager_filter, self.manager_filter_name, self.page = None, "", 1
        return await self._refresh()

    @rx.event
    async def clear_filters(self):
        self.search, self.department, self.status, self.employment_type, self.company = "", ALL, "active", ALL, ALL
        self._manager_filter, self.manager_filter_name, self.manager_query, self.manager_results = None, "", "", []
        self.page = 1
        return await self._refresh()

    @rx.event
    async def sort(self, column: str):
        if column not in ("firstName", "lastName", "dateOfJoining", "employeeCode"):
            return None
        if self.sort_by == column:
            self.sort_order = "desc" if self.sort_order == "asc" else "asc"
        else:
            self.sort_by, self.sort_order = column, "asc"
        self.page = 1
        return await self._refresh()

    @rx.event
    async def set_page_size(self, value: str):
        if value in PAGE_SIZES:
            self.page_size, self.page = value, 1
            return await self._refresh()

    @rx.event
    async def go_page(self, delta: int):
        try:
            target = self.page + int(delta)
        except (TypeError, ValueError):
            return None
        if 1 <= target <= self.page_count:
            self.page = target
            return await self._refresh()

    @rx.event
    def open_profile(self, employee_id: int):
        if (eid := _int(employee_id)) is not None:
            return rx.redirect(f"/employees/{eid}")

    @rx.event
    async def export(self):
        self.exporting = True
        yield
        try:
            actor = await self.require()
            text, count = await run_service(import_export.export_csv, actor=actor, query=self._query())
        except AppError as exc:
            self.exporting = False
            yield self._denied(exc)
            return
        self.exporting = False
        yield rx.download(data=text, filename=f"employees-{date.today().isoformat()}.csv", mime_type="text/csv")
        yield rx.toast.success(f"Exported {count:,} people.")


class EmployeeFormState(SessionState):
    """The create/edit dialog (HR), and the contact-details dialog (a person's own phone and address)."""

    open: bool = False
    mode: str = "create"  # create | edit | contact
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    error: str = ""
    busy: bool = False
    form_key: int = 0
    role_options: list[dict[str, str]] = []
    role_locked: str = ""
    companies: list[dict[str, str]] = []
    manager_query: str = ""
    manager_results: list[dict[str, Any]] = []
    manager_name: str = ""
    department_query: str = ""
    department_results: list[dict[str, Any]] = []
    department_name: str = ""
    _editing: int | None = None
    _manager_id: int | None = None
    _department_id: int | None = None
    _departments: list[dict[str, Any]] = []
    _original_role: str = ""

    @rx.var
    def title(self) -> str:
        return {"create": "Add employee", "edit": "Edit employee", "contact": "Edit contact details"}[self.mode]

    def _reset_pickers(self) -> None:
        self.manager_query = self.department_query = ""
        self.manager_results, self.department_results = [], []

    async def _prepare(self, actor: Actor) -> None:
        def load(session: Session):
            depts = service.list_departments(session=session, actor=actor, include_archived=False)
            companies = org_service.list_companies(session=session, actor=actor)
            return ([{"id": d.id, "name": d.name} for d in depts],
                    [{"value": str(c.id), "label": c.name} for c in companies])

        self._departments, self.companies = await run_service(load)
        roles = [Role.employee, Role.manager, Role.hr_manager] + ([Role.admin] if actor.is_admin else [])
        self.role_options = [{"value": r.value, "label": ROLE_LABELS[r.value]} for r in roles]
        self.errors, self.error, self.busy = {}, "", False
        self.form_key += 1
        self._reset_pickers()

    @rx.event
    async def start_create(self):
        try:
            actor = await self.require(*HR)
        except AppError as exc:
            return self._denied(exc)
        await self._prepare(actor)
        self.mode, self._editing, self.role_locked = "create", None, ""
        self.values = {"employment_type": "full_time", "role": "employee",
                       "company_id": self.companies[0]["value"] if self.companies else ""}
        self._manager_id, self.manager_name, self._department_id, self.department_name = None, "", None, ""
        self.open = True

    @rx.event
    async def start_edit(self, employee_id: int):
        eid = _int(employee_id)
        try:
            actor = await self.require()
            if eid is None:
                raise Forbidden("Choose a person to edit.")
            detail = await run_service(service.get_employee, actor=actor, employee_id=eid)
        except AppError as exc:
            return self._denied(exc)
        await self._prepare(actor)
        d = detail.model_dump()
        self._editing = eid
        if actor.is_hr:
            self.mode = "edit"
        elif actor.employee_id == eid:
            self.mode = "contact"
        else:
            return rx.toast.error("Only HR can change another person's record.")
        self.values = {k: _s(v) for k, v in d.items() if k not in ("created_at", "updated_at")}
        self._original_role = self.values.get("role", "")
        self.role_locked = ""
        if actor.employee_id == eid:
            self.role_locked = "You cannot change your own role."
        elif self._original_role == "admin" and not actor.is_admin:
            self.role_locked = "Only an administrator can change an administrator's role."
        if self._original_role and self._original_role not in {o["value"] for o in self.role_options}:
            self.role_options.append({"value": self._original_role, "label": ROLE_LABELS[self._original_role]})
        self._manager_id, self.manager_name = d["manager_id"], d["manager_name"] or ""
        self._department_id, self.department_name = d["department_id"], d["department_name"] or ""
        self.open = True

    @rx.event
    def set_open(self, value: bool):
        self.open = bool(value)
        if not self.open:
            self.busy = False

    @rx.event
    def set_value(self, name: str, value: str):
        if name in ("employment_type", "role", "company_id"):
            self.values = {**self.values, name: str(value)[:40]}

    @rx.event
    async def search_manager(self, value: str):
        self.manager_query = str(value)[:100]
        if not self.manager_query.strip():
            self.manager_results = []
            return None
        try:
            actor = await self.require(*HR)
            self.manager_results = await run_service(service.search_people, actor=actor, text=self.manager_query,
                                                     limit=6, exclude_id=self._editing)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    def pick_manager(self, employee_id: int):
        match = next((p for p in self.manager_results if p["id"] == _int(employee_id)), None)
        if match is not None:
            self._manager_id, self.manager_name = match["id"], match["name"]
            self.manager_query, self.manager_results = "", []
            self.errors = {k: v for k, v in self.errors.items() if k != "managerId"}

    @rx.event
    def clear_manager(self):
        self._manager_id, self.manager_name = None, ""

    @rx.event
    def search_department(self, value: str):
        self.department_query = str(value)[:100]
        needle = self.department_query.strip().lower()
        self.department_results = [d for d in self._departments if needle in d["name"].lower()][:8] if needle else []

    @rx.event
    def pick_department(self, department_id: int):
        match = next((d for d in self._departments if d["id"] == _int(department_id)), None)
        if match is not None:
            self._department_id, self.department_name = match["id"], match["name"]
            self.department_query, self.department_results = "", []

    @rx.event
    def clear_department(self):
        self._department_id, self.department_name = None, ""

    def _payload(self, form: dict[str, Any]) -> dict[str, Any]:
        text = {k: str(v)[:300] for k, v in form.items() if isinstance(v, str)}
        if self.mode == "contact":
            return {k: text.get(k, "") for k in service.SELF_SERVICE_FIELDS}
        fields = ("first_name", "last_name", "email", "phone", "employee_code", "designation", "date_of_joining",
                  "date_of_birth", "address_line1", "address_line2", "city", "postal_code", "country")
        payload: dict[str, Any] = {k: text.get(k, "") for k in fields}
        payload.update(manager_id=self._manager_id, department_id=self._department_id,
                       employment_type=self.values.get("employment_type") or "full_time",
                       company_id=_int(self.values.get("company_id")))
        role = self.values.get("role") or "employee"
        if self.mode == "create" or (role != self._original_role and not self.role_locked):
            payload["role"] = role
        return payload

    @rx.event
    async def save(self, form: dict):
        self.busy, self.errors, self.error = True, {}, ""
        yield
        mode, editing = self.mode, self._editing
        payload: dict[str, Any] = {}
        try:
            actor = await self.require()
            payload = self._payload(form)
            if mode == "create":
                result = await run_service(service.create_employee, actor=actor,
                                           data=EmployeeCreate.model_validate(payload))
            else:
                if editing is None:
                    raise Forbidden("Choose a person to edit.")
                result = await run_service(service.update_employee, actor=actor, employee_id=editing,
                                           data=EmployeeUpdate.model_validate(payload))
        except pydantic.ValidationError as exc:
            # every problem at once: the email's format too, which the service would only report next time
            self.busy, self.errors = False, {**_email_error(payload.get("email")), **pydantic_errors(exc)}
            self.error = "Check the highlighted fields."
            return
        except (Unauthorized, Forbidden) as exc:
            self.busy, self.error = False, exc.message
            yield self._denied(exc)
            return
        except AppError as exc:
            self.busy, self.errors = False, field_errors(exc)
            self.error = exc.message
            return
        self.busy, self.open = False, False
        emp = result.employee
        if mode == "create":
            yield rx.toast.success(f"{emp.first_name} {emp.last_name} was added. A welcome email with a "
                                   "set-password link is on its way.")
        else:
            yield rx.toast.success("Changes saved.")
        for note in result.notes:
            yield rx.toast.info(note)
        path = self.router.route_id or ""
        yield ProfileState.refresh if path.startswith("/employees/") else DirectoryState.refresh


def _when(value: datetime, tz: str) -> str:
    local = aware(value).astimezone(ZoneInfo(tz))
    return local.strftime("%d %b %Y, %H:%M").lstrip("0")


class ProfileState(SessionState):
    """One person's profile: header, details tabs, reporting line, change history, deactivate/reactivate."""

    emp: dict[str, str] = {}
    above: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    tab: str = "details"
    found: bool = True
    can_edit: bool = False
    can_edit_contact: bool = False
    can_deactivate: bool = False
    shows_personal: bool = False
    shows_history: bool = False
    confirm_open: bool = False
    plan: dict[str, Any] = {}
    move_reports: bool = False
    busy: bool = False
    manager_linkable: bool = False
    can_change_photo: bool = False
    photo_busy: bool = False
    photo_error: str = ""
    remove_photo_open: bool = False
    _employee_id: int | None = None

    def _route_id(self) -> int | None:
        return _int(self.router.page.params.get("profile_id", ""))

    async def _load(self, actor: Actor) -> None:
        eid = self._employee_id
        if eid is None:
            self.found = False
            return

        def work(session: Session):
            detail = service.get_employee(session=session, actor=actor, employee_id=eid)
            line = service.reporting_line(session=session, actor=actor, employee_id=eid)
            own = actor.employee_id == eid
            history = service.employee_history(session=session, actor=actor, employee_id=eid) \
                if actor.is_hr or own else []
            return detail, line, history, service.viewer_timezone(session, actor)

        try:
            detail, line, history, tz = await run_service(work)
        except AppError as exc:
            if exc.status == 404:
                self.found, self.emp = False, {}
                return
            raise
        d = detail.model_dump()
        own = actor.employee_id == eid
        self.found = True
        self.emp = {
            "id": str(d["id"]), "name": f"{d['first_name']} {d['last_name']}", "first_name": d["first_name"],
            "initials": (d["first_name"][:1] + d["last_name"][:1]).upper(), "email": d["email"],
            "phone": d["phone"] or "", "code": d["employee_code"], "designation": d["designation"] or "",
            "department": d["department_name"] or "", "manager": d["manager_name"] or "",
            "manager_id": str(d["manager_id"] or ""), "company": d["company_name"] or "",
            "type": TYPE_LABELS.get(_s(d["employment_type"]), ""), "status": _s(d["status"]),
            "joined": _day(d["date_of_joining"]), "born": _day(d["date_of_birth"]),
            "role": ROLE_LABELS.get(_s(d["role"]), ""), "photo": d.get("photo_url") or "",
            "address": ", ".join(p for p in (d["address_line1"], d["address_line2"],
                                             " ".join(x for x in (d["postal_code"], d["city"]) if x), d["country"])
                                 if p),
        }
        self.above, self.reports = line["above"], line["reports"]
        self.manager_linkable = bool(line["above"] and line["above"][0]["linkable"])
        self.history = [{"at": _when(h["at"], tz), "by": h["by"], "action": h["action"], "note": h["note"],
                         "lines": [f"{c['field']}: {c['new']}" if h["action"] == "Created" else
                                   f"{c['field']}: {c['old']} → {c['new']}" for c in h["changes"]]} for h in history]
        self.can_edit = actor.is_hr
        self.can_edit_contact = own and not actor.is_hr
        self.can_deactivate = actor.is_hr and not own and (actor.is_admin or d["role"] != Role.admin)
        self.shows_personal = service.sees_personal_details(actor, eid)
        self.shows_history = actor.is_hr or own
        self.can_change_photo = actor.is_hr or own
        if self.tab == "history" and not self.shows_history:
            self.tab = "details"

    @rx.event
    async def open_profile(self):
        redirect = await self.guard_page("employees")
        if redirect is not None:
            return redirect
        actor = await self.require()
        self._employee_id = self._route_id()
        self.tab, self.confirm_open, self.busy = "details", False, False
        await self._load(actor)
        self._topics = [org_topic(actor.organization_id, "employees")]
        return ProfileState.watch

    async def _reload(self) -> None:
        await self._load(await self.require())

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/employees/[profile_id]", reload=ProfileState._reload)

    @rx.event
    async def refresh(self):
        try:
            await self._load(await self.require())
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    def set_tab(self, value: str):
        if value in ("details", "job", "line", "history"):
            self.tab = value

    @rx.event
    async def ask_deactivate(self):
        try:
            actor = await self.require(*HR)
            if self._employee_id is None:
                raise Forbidden("Choose a person first.")
            self.plan = await run_service(service.deactivation_plan, actor=actor, employee_id=self._employee_id)
        except AppError as exc:
            return self._denied(exc)
        self.move_reports, self.confirm_open = False, True

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = bool(value)

    @rx.event
    def set_move_reports(self, value: bool):
        self.move_reports = bool(value)

    @rx.event
    async def deactivate(self):
        self.busy = True
        yield
        try:
            actor = await self.require(*HR)
            result = await run_service(service.deactivate_employee, actor=actor, employee_id=self._employee_id or 0,
                                       move_reports_to_manager=self.move_reports)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            yield self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)
            return
        self.busy, self.confirm_open = False, False
        yield rx.toast.success(f"{result.employee.first_name} {result.employee.last_name} was deactivated and "
                               "can no longer sign in.")
        for note in result.notes:
            yield rx.toast.info(note)

    @rx.event
    async def reactivate(self):
        self.busy = True
        yield
        try:
            actor = await self.require(*HR)
            result = await run_service(service.reactivate_employee, actor=actor, employee_id=self._employee_id or 0)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            yield self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)
            return
        self.busy = False
        yield rx.toast.success(f"{result.employee.first_name} {result.employee.last_name} is active again.")
        for note in result.notes:
            yield rx.toast.info(note)

    @rx.event
    def open_person(self, employee_id: int):
        if (eid := _int(employee_id)) is not None:
            return rx.redirect(f"/employees/{eid}")

    # ---- profile photo (own, or HR for anyone; the service re-checks and checks the file by content)
    @rx.event
    async def upload_photo(self, files: list[rx.UploadFile]):
        self.photo_error, self.photo_busy = "", True
        yield
        try:
            actor = await self.require()
            if not files:
                raise ValidationFailed("Choose a PNG, JPEG or WebP image.")
            upload = files[0]
            data = upload.file.read(core_files.max_bytes() + 1)
            await run_service(service.set_photo, actor=actor, employee_id=self._employee_id or 0,
                              filename=upload.name, data=data)
            await self._load(actor)
        except AppError as exc:
            self.photo_busy = False
            if exc.status == 401:
                yield self._denied(exc)
            else:
                self.photo_error = exc.message
            return
        self.photo_busy = False
        yield rx.toast.success("Photo saved.")

    @rx.event
    def ask_remove_photo(self):
        self.remove_photo_open = True

    @rx.event
    def set_remove_photo_open(self, value: bool):
        self.remove_photo_open = bool(value)

    @rx.event
    async def remove_photo(self):
        self.photo_error = ""
        try:
            actor = await self.require()
            await run_service(service.remove_photo, actor=actor, employee_id=self._employee_id or 0)
            await self._load(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)
        self.remove_photo_open = False
        return rx.toast.success("Photo removed.")


class DepartmentsState(SessionState):
    rows: list[dict[str, Any]] = []
    show_archived: bool = False
    companies: list[dict[str, str]] = []
    dialog_open: bool = False
    is_edit: bool = False
    name: str = ""
    company: str = ""
    head_name: str = ""
    head_query: str = ""
    head_results: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    busy: bool = False
    confirm_open: bool = False
    confirm_name: str = ""
    confirm_archive: bool = True
    _editing: int | None = None
    _head_id: int | None = None
    _confirm_id: int | None = None

    async def _load(self, actor: Actor) -> None:
        def work(session: Session):
            depts = service.list_departments(session=session, actor=actor)
            companies = org_service.list_companies(session=session, actor=actor)
            return depts, companies

        depts, companies = await run_service(work)
        self.companies = [{"value": str(c.id), "label": c.name} for c in companies]
        self.rows = [{"id": d.id, "name": d.name, "company": d.company_name or "", "head": d.head_name or "",
                      "head_id": d.head_employee_id or 0, "headcount": d.headcount, "archived": d.archived,
                      "company_id": str(d.company_id or "")}
                     for d in depts if self.show_archived or not d.archived]

    @rx.event
    async def open_departments(self):
        redirect = await self.guard_page("departments")
        if redirect is not None:
            return redirect
        actor = await self.require(*HR)
        await self._load(actor)
        self._topics = [org_topic(actor.organization_id, "employees")]
        return DepartmentsState.watch

    async def _reload(self) -> None:
        await self._load(await self.require(*HR))

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/departments", reload=DepartmentsState._reload)

    @rx.event
    async def toggle_archived(self, value: bool):
        self.show_archived = bool(value)
        try:
            await self._load(await self.require(*HR))
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    def start_create(self):
        self._editing, self._head_id, self.is_edit = None, None, False
        self.name, self.head_name, self.head_query, self.head_results = "", "", "", []
        self.company = self.companies[0]["value"] if self.companies else ""
        self.errors, self.busy, self.dialog_open = {}, False, True

    @rx.event
    def start_edit(self, department_id: int):
        row = next((r for r in self.rows if r["id"] == _int(department_id)), None)
        if row is None:
            return
        self._editing, self._head_id, self.is_edit = row["id"], row["head_id"] or None, True
        self.name, self.company, self.head_name = row["name"], row["company_id"], row["head"]
        self.head_query, self.head_results, self.errors, self.busy, self.dialog_open = "", [], {}, False, True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

    @rx.event
    def set_name(self, value: str):
        self.name = str(value)[:120]

    @rx.event
    def set_company(self, value: str):
        if _int(value):
            self.company = str(value)

    @rx.event
    async def search_head(self, value: str):
        self.head_query = str(value)[:100]
        if not self.head_query.strip():
            self.head_results = []
            return None
        try:
            actor = await self.require(*HR)
            self.head_results = await run_service(service.search_people, actor=actor, text=self.head_query, limit=6)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    def pick_head(self, employee_id: int):
        match = next((p for p in self.head_results if p["id"] == _int(employee_id)), None)
        if match is not None:
            self._head_id, self.head_name, self.head_query, self.head_results = match["id"], match["name"], "", []

    @rx.event
    def clear_head(self):
        self._head_id, self.head_name = None, ""

    @rx.event
    async def save(self):
        self.busy, self.errors = True, {}
        yield
        try:
            actor = await self.require(*HR)
            data = DepartmentInput(name=self.name, company_id=_int(self.company), head_employee_id=self._head_id)
            if self._editing is None:
                await run_service(service.create_department, actor=actor, data=data)
            else:
                await run_service(service.update_department, actor=actor, department_id=self._editing, data=data)
            await self._load(actor)
        except pydantic.ValidationError as exc:
            self.busy, self.errors = False, pydantic_errors(exc)
            return
        except (Unauthorized, Forbidden) as exc:
            self.busy = False
            yield self._denied(exc)
            return
        except AppError as exc:
            self.busy, self.errors = False, field_errors(exc) or {"name": exc.message}
            return
        self.busy, self.dialog_open = False, False
        yield rx.toast.success("Department saved.")

    @rx.event
    def ask_archive(self, department_id: int):
        row = next((r for r in self.rows if r["id"] == _int(department_id)), None)
        if row is None:
            return
        self._confirm_id, self.confirm_name, self.confirm_archive = row["id"], row["name"], not row["archived"]
        self.confirm_open = True

    @rx.event
    def set_confirm_open(self, value: bool):
        self.confirm_open = bool(value)

    @rx.event
    async def confirm(self):
        self.busy = True
        yield
        try:
            actor = await self.require(*HR)
            await run_service(service.set_department_archived, actor=actor, department_id=self._confirm_id or 0,
                              archived=self.confirm_archive)
            await self._load(actor)
        except AppError as exc:
            self.busy, self.confirm_open = False, False
            yield self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)
            return
        self.busy, self.confirm_open = False, False
        yield rx.toast.success(f"{self.confirm_name} {'archived' if self.confirm_archive else 'restored'}.")


class OrgChartState(SessionState):
    """The reporting tree as a flattened list of visible nodes (each with its depth); children load on expand."""

    nodes: list[dict[str, Any]] = []
    root_name: str = ""
    query: str = ""
    results: list[dict[str, Any]] = []
    highlight: int = 0
    _root: int | None = None

    async def _roots(self, actor: Actor) -> list[dict[str, Any]]:
        if self._root is None:
            return await run_service(service.org_chart_roots, actor=actor)
        return [await run_service(service.org_chart_node, actor=actor, employee_id=self._root)]

    def _set(self, nodes: list[dict[str, Any]], depth: int) -> list[dict[str, Any]]:
        return [{**n, "depth": depth, "expanded": False, "indent": f"{min(depth, 12) * 20}px"} for n in nodes]

    @rx.event
    async def open_chart(self):
        redirect = await self.guard_page("org_chart")
        if redirect is not None:
            return redirect
        actor = await self.require()
        self._root, self.root_name, self.query, self.results, self.highlight = None, "", "", [], 0
        focus = _int(self.router.url.query_parameters.get("person", ""))
        self.nodes = self._set(await self._roots(actor), 0)
        if focus:
            return OrgChartState.reveal(focus)
        # Start with the first level open, like every org chart.
        if len(self.nodes) == 1 and self.nodes[0]["reports"]:
            await self._expand(actor, 0)

    async def _expand(self, actor: Actor, index: int) -> None:
        node = self.nodes[index]
        children = await run_service(service.org_chart_children, actor=actor, employee_id=node["id"])
        self.nodes = (self.nodes[:index] + [{**node, "expanded": True}] + self._set(children, node["depth"] + 1)
                      + self.nodes[index + 1:])

    def _collapse(self, index: int) -> None:
        depth = self.nodes[index]["depth"]
        end = index + 1
        while end < len(self.nodes) and self.nodes[end]["depth"] > depth:
            end += 1
        self.nodes = self.nodes[:index] + [{**self.nodes[index], "expanded": False}] + self.nodes[end:]

    @rx.event
    async def toggle(self, employee_id: int):
        index = next((i for i, n in enumerate(self.nodes) if n["id"] == _int(employee_id)), None)
        if index is None:
            return None
        if self.nodes[index]["expanded"]:
            self._collapse(index)
            return None
        try:
            await self._expand(await self.require(), index)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def expand_all_levels(self):
        """Open every visible node one level further (bounded, for big trees)."""
        try:
            actor = await self.require()
            for _ in range(len(self.nodes)):
                index = next((i for i, n in enumerate(self.nodes) if n["reports"] and not n["expanded"]), None)
                if index is None or len(self.nodes) > 400:
                    break
                await self._expand(actor, index)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def start_from(self, employee_id: int):
        eid = _int(employee_id)
        try:
            actor = await self.require()
            if eid is None:
                raise Forbidden("Choose a person.")
            self._root = eid
            self.nodes = self._set(await self._roots(actor), 0)
            self.root_name = self.nodes[0]["name"] if self.nodes else ""
            if self.nodes and self.nodes[0]["reports"]:
                await self._expand(actor, 0)
        except AppError as exc:
            return self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)

    @rx.event
    async def show_top(self):
        try:
            actor = await self.require()
            self._root, self.root_name, self.highlight = None, "", 0
            self.nodes = self._set(await self._roots(actor), 0)
            if len(self.nodes) == 1 and self.nodes[0]["reports"]:
                await self._expand(actor, 0)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def search(self, value: str):
        self.query = str(value)[:100]
        if not self.query.strip():
            self.results = []
            return None
        try:
            actor = await self.require()
            self.results = await run_service(service.search_people, actor=actor, text=self.query, limit=8)
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def reveal(self, employee_id: int):
        """Expand the chart down to a person and highlight them (from the top, whatever the current root)."""
        eid = _int(employee_id)
        try:
            actor = await self.require()
            if eid is None:
                raise Forbidden("Choose a person.")
            path = await run_service(service.org_chart_path, actor=actor, employee_id=eid)
            self._root, self.root_name = None, ""
            self.nodes = self._set(await self._roots(actor), 0)
            for ancestor in path[:-1]:
                index = next((i for i, n in enumerate(self.nodes) if n["id"] == ancestor), None)
                if index is None:
                    break
                if not self.nodes[index]["expanded"]:
                    await self._expand(actor, index)
        except AppError as exc:
            return self._denied(exc) if exc.status == 401 else rx.toast.error(exc.message)
        self.highlight, self.query, self.results = eid, "", []
        return rx.scroll_to(f"node-{eid}")

    @rx.event
    def open_person(self, employee_id: int):
        if (eid := _int(employee_id)) is not None:
            return rx.redirect(f"/employees/{eid}")


class _Progress:
    """Thread-safe progress of a running import (written by the worker thread, read by the page), and
    its summary once committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done, self.total = 0, 0
        self.committed: dict[str, Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total

    def commit(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self.committed = summary

    def read(self) -> tuple[int, int, dict[str, Any] | None]:
        with self._lock:
            return self.done, self.total, self.committed


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("after an import committed, finishing failed", exc_info=task.exception())


TEMPLATE = ("employeeCode,firstName,lastName,email,phone,designation,department,managerEmail,company,"
            "employmentType,dateOfJoining,dateOfBirth,role,addressLine1,addressLine2,city,postalCode,country\r\n"
            ",Ada,Lovelace,ada.lovelace@example.com,+44 20 7946 0000,Analyst,Engineering,,,full_time,2026-01-05,"
            ",employee,,,,,\r\n")


class ImportState(SessionState):
    """Upload → preview (per-row results, paged) → apply with progress → result."""

    step: str = "upload"  # upload | preview | applying | done
    filename: str = ""
    summary: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    row_total: int = 0
    row_page: int = 1
    row_filter: str = ALL
    only_valid: bool = False
    send_welcome: bool = True
    progress: int = 0
    progress_label: str = ""
    result: dict[str, Any] = {}
    error: str = ""
    busy: bool = False
    _import_id: int | None = None

    def _keep_on_leave(self) -> bool:
        # An import still applying reports its progress here; coming back to the page shows it.
        return self.step == "applying"

    @rx.var
    def has_errors(self) -> bool:
        return int(self.summary.get("error", 0) or 0) > 0

    @rx.var
    def can_apply(self) -> bool:
        valid = int(self.summary.get("create", 0) or 0) + int(self.summary.get("update", 0) or 0)
        return valid > 0 and (self.only_valid or not self.has_errors) and not self.busy

    @rx.var
    def row_pages(self) -> int:
        return max(1, -(-self.row_total // 50))

    @rx.event
    async def open_import(self):
        redirect = await self.guard_page("employees_import")
        if redirect is not None:
            return redirect
        if self.step != "applying":
            self._start_over()

    def _start_over(self) -> None:
        self.step, self.filename, self.summary, self.rows, self.row_total, self.result = "upload", "", {}, [], 0, {}
        self.row_page, self.row_filter, self.only_valid, self.send_welcome = 1, ALL, False, True
        self.progress, self.progress_label, self.error, self.busy, self._import_id = 0, "", "", False, None

    @rx.event
    def start_over(self):
        if self.step != "applying":
            self._start_over()
            return rx.clear_selected_files("employee_csv")

    @rx.event
    def download_template(self):
        return rx.download(data=TEMPLATE, filename="employees-template.csv", mime_type="text/csv")

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        self.error, self.busy = "", True
        yield
        try:
            actor = await self.require(*HR)
            if not files:
                raise Forbidden("Choose a CSV file first.")
            upload = files[0]
            content = upload.file.read(import_export.MAX_BYTES + 1)
            name = (upload.name or "employees.csv")[:200]
            summary = await run_service(import_export.preview_import, actor=actor, filename=name, content=content)
        except (Unauthorized, Forbidden) as exc:
            self.busy = False
            yield self._denied(exc) if isinstance(exc, Unauthorized) else rx.toast.error(exc.message)
            return
        except AppError as exc:
            self.busy, self.error = False, exc.message
            return
        self._import_id, self.filename, self.summary = summary["id"], summary["filename"], summary
        self.row_page, self.row_filter, self.only_valid = 1, "error" if summary["error"] else ALL, False
        await self._load_rows(actor)
        self.step, self.busy = "preview", False
        yield rx.clear_selected_files("employee_csv")

    async def _load_rows(self, actor: Actor) -> None:
        rows, total = await run_service(import_export.import_rows, actor=actor, import_id=self._import_id or 0,
                                        action=None if self.row_filter == ALL else self.row_filter,
                                        page=self.row_page, limit=50)
        self.rows, self.row_total = rows, total

    @rx.event
    async def set_row_filter(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, str) or value not in (ALL, "create", "update", "unchanged", "error"):
            return None
        self.row_filter, self.row_page = value, 1
        try:
            await self._load_rows(await self.require(*HR))
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def go_rows(self, delta: int):
        try:
            target = self.row_page + int(delta)
        except (TypeError, ValueError):
            return None
        if 1 <= target <= self.row_pages:
            self.row_page = target
            try:
                await self._load_rows(await self.require(*HR))
            except AppError as exc:
                return self._denied(exc)

    @rx.event
    def set_only_valid(self, value: bool):
        self.only_valid = bool(value)

    @rx.event
    def set_send_welcome(self, value: bool):
        self.send_welcome = bool(value)

    @rx.event(background=True)
    async def apply(self):
        """Apply in a worker thread (one transaction) and report its progress to the page."""
        denied = None
        async with self:
            if self.step != "preview" or self.busy:
                return
            try:
                actor = await self.require(*HR)
            except AppError as exc:
                denied = self._denied(exc)
            else:
                import_id, only_valid, welcome = self._import_id or 0, self.only_valid, self.send_welcome
                rows = int(self.summary.get("create", 0) or 0) + int(self.summary.get("update", 0) or 0)
                self.busy, self.step, self.progress, self.error = True, "applying", 0, ""
                self.progress_label = "Starting…"
        if denied is not None:
            yield denied
            return
        progress = _Progress()
        task = asyncio.create_task(run_service(import_export.apply_import, actor=actor, import_id=import_id,
                                               only_valid=only_valid, send_welcome=welcome, progress=progress,
                                               on_committed=progress.commit))
        # Done once committed: other modules' listeners of the new people's events (leave balances,
        # notifications) then run on in the worker thread; the page does not wait for them.
        while not task.done():
            await asyncio.wait({task}, timeout=0.3)
            done, total, committed = progress.read()
            if committed is not None:
                task.add_done_callback(_log_failure)
                break
            if total:
                async with self:
                    self.progress = min(99, int(done * 100 / total))
                    self.progress_label = (f"{self.progress}% of {rows:,} rows" if done < total else "Saving…")
        try:
            summary = progress.read()[2] or task.result()
        except Exception as exc:  # the transaction rolled back: nothing was written
            if not isinstance(exc, AppError):
                log.exception("employee import %s failed", import_id)
            async with self:
                self.busy, self.step = False, "preview"
                self.error = exc.message if isinstance(exc, AppError) else (
                    "The import failed unexpectedly and nothing was changed. Try again, or contact support.")
            return
        async with self:
            self.busy, self.step, self.progress, self.result = False, "done", 100, summary["result"]
            self.summary = summary
        created, updated = summary["result"]["created"], summary["result"]["updated"]
        yield rx.toast.success(f"Import finished: {created:,} added, {updated:,} updated.")
