"""Settings page state (admin): organization name and companies (time zone, weekly off days)."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core.errors import AppError
from hr_portal.core.live import org_topic
from hr_portal.org import service
from hr_portal.org.models import CompanyUpdate
from hr_portal.org.service import WEEKDAY_NAMES
from hr_portal.ui.live import live_loop
from hr_portal.ui.session import SessionState, run_service


class SettingsState(SessionState):
    org_display_name: str = ""
    companies: list[dict] = []
    timezones: list[str] = []
    error: str = ""
    busy: bool = False
    # company dialog
    dialog_open: bool = False
    editing_id: int = 0
    form_name: str = ""
    form_timezone: str = "UTC"
    form_offs: list[int] = [6, 7]
    form_error: str = ""

    @rx.var
    def weekday_options(self) -> list[dict]:
        return [{"value": i + 1, "label": name, "checked": (i + 1) in self.form_offs}
                for i, name in enumerate(WEEKDAY_NAMES)]

    async def _load(self, actor) -> None:
        def work(session):
            org = service.get_organization(session=session, actor=actor)
            return org.name, [c.model_dump() for c in service.list_companies(session=session, actor=actor)]

        name, companies = await run_service(work)
        self.org_display_name = name
        self.companies = [{**c, "offs_label": ", ".join(WEEKDAY_NAMES[d - 1][:3] for d in c["weekly_off_days"])}
                          for c in companies]

    @rx.event
    async def open_settings(self):
        redirect = await self.guard_page("settings")
        if redirect is not None:
            return redirect
        actor = await self.require(Role.admin)
        if not self.timezones:
            self.timezones = service.timezone_names()
        await self._load(actor)
        self._topics = [org_topic(actor.organization_id, "settings")]
        return SettingsState.watch

    async def _reload(self) -> None:
        actor = await self.require(Role.admin)
        await self._load(actor)

    @rx.event(background=True)
    async def watch(self):
        """Keep the companies list current while the page is open (another admin may edit it)."""
        await live_loop(self, path="/settings", reload=SettingsState._reload)

    @rx.event
    async def save_org_name(self, form: dict):
        try:
            actor = await self.require(Role.admin)
            await run_service(service.rename_organization, actor=actor, name=str(form.get("org_name", ""))[:300])
            await self._load(actor)
            self.org_name = self.org_display_name
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return rx.toast.success("Organization name saved.")

    @rx.event
    def start_create(self):
        self.dialog_open, self.editing_id, self.form_error = True, 0, ""
        self.form_name, self.form_timezone, self.form_offs = "", "UTC", [6, 7]

    @rx.event
    def start_edit(self, company_id: int):
        match = next((c for c in self.companies if c["id"] == company_id), None)
        if match is None:
            return
        self.dialog_open, self.editing_id, self.form_error = True, int(company_id), ""
        self.form_name, self.form_timezone, self.form_offs = match["name"], match["timezone"], list(match["weekly_off_days"])

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

    @rx.event
    def set_form_name(self, value: str):
        self.form_name = str(value)[:200]

    @rx.event
    def set_form_timezone(self, value: str):
        self.form_timezone = str(value)[:64]

    @rx.event
    def toggle_off(self, day: int):
        day = int(day)
        if 1 <= day <= 7:
            self.form_offs = sorted(set(self.form_offs) ^ {day})

    @rx.event
    async def save_company(self):
        self.busy, self.form_error = True, ""
        yield
        try:
            actor = await self.require(Role.admin)
            data = CompanyUpdate(name=self.form_name, timezone=self.form_timezone, weekly_off_days=self.form_offs)
            if self.editing_id:
                await run_service(service.update_company, actor=actor, company_id=self.editing_id, data=data)
            else:
                await run_service(service.create_company, actor=actor, data=data)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            if exc.status in (401, 403):
                yield self._denied(exc)
            else:
                self.form_error = exc.message
            return
        except ValueError as exc:
            self.busy, self.form_error = False, str(exc)
            return
        self.busy, self.dialog_open = False, False
        yield rx.toast.success("Company saved.")


class JobsState(SessionState):
    """Admin Jobs page: scheduled jobs, their last and next run, run now."""

    jobs: list[dict] = []
    running_job: str = ""

    async def _load_jobs(self, actor) -> None:
        self.jobs = await run_service(service.list_jobs, actor=actor)

    @rx.event
    async def open_jobs(self):
        redirect = await self.guard_page("jobs")
        if redirect is not None:
            return redirect
        await self._load_jobs(await self.require(Role.admin))

    @rx.event
    async def run_now(self, job_id: str):
        job_id = str(job_id)[:80]
        try:
            actor = await self.require(Role.admin)
        except AppError as exc:
            yield self._denied(exc)
            return
        self.running_job = job_id
        yield
        try:
            import asyncio

            result = await asyncio.to_thread(service.run_job_now, actor=actor, job_id=job_id)
        except AppError as exc:
            self.running_job = ""
            yield rx.toast.error(exc.message)
            return
        self.running_job = ""
        await self._load_jobs(actor)
        if result["status"] == "succeeded":
            yield rx.toast.success(f"{job_id}: done ({result['items']} item(s)).")
        else:
            yield rx.toast.error(f"{job_id} failed; see the last error in the table.")


class AuditState(SessionState):
    """Admin audit log: who did what, when, from where; filters and paging on the server."""

    entries: list[dict] = []
    total: int = 0
    page: int = 1
    actions: list[str] = []
    f_action: str = ""
    f_user: str = ""
    f_start: str = ""
    f_end: str = ""

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // service.AUDIT_PAGE_SIZE))

    async def _load(self) -> None:
        import datetime as dt

        actor = await self.require(Role.admin)

        def parse(value: str):
            try:
                return dt.date.fromisoformat(value) if value else None
            except ValueError:
                return None

        def work(session):
            rows, total = service.list_audit(session=session, actor=actor, action=self.f_action, user_email=self.f_user,
                                             start=parse(self.f_start), end=parse(self.f_end), page=self.page)
            return rows, total, service.audit_actions(session=session, actor=actor)

        self.entries, self.total, self.actions = await run_service(work)

    @rx.event
    async def open_audit(self):
        redirect = await self.guard_page("audit")
        if redirect is not None:
            return redirect
        self.page = 1
        await self._load()

    @rx.event
    async def apply_filters(self, form: dict):
        self.f_action = str(form.get("action", ""))[:64]
        if self.f_action == "all":
            self.f_action = ""
        self.f_user = str(form.get("user", ""))[:254]
        self.f_start, self.f_end = str(form.get("start", ""))[:10], str(form.get("end", ""))[:10]
        self.page = 1
        try:
            await self._load()
        except AppError as exc:
            return self._denied(exc)

    @rx.event
    async def go_page(self, delta: int):
        self.page = max(1, min(self.page + int(delta), self.page_count))
        try:
            await self._load()
        except AppError as exc:
            return self._denied(exc)
