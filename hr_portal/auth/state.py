"""Sign-in, forgot/reset password and change-password forms. Thin: validate input shape, call the service."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth import service
from hr_portal.core.errors import AppError
from hr_portal.ui.session import SessionState, run_service


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or value.startswith("/login"):
        return "/"
    return value


class AuthState(SessionState):
    error: str = ""
    field_errors: dict[str, str] = {}
    busy: bool = False
    reset_requested: bool = False
    reset_done: bool = False

    def _fail(self, exc: AppError) -> None:
        self.error = exc.message
        self.field_errors = {str(d.get("field")): str(d.get("message")) for d in exc.details if d.get("field")}

    def _start(self) -> None:
        self.error, self.field_errors, self.busy = "", {}, True

    @rx.event
    async def open_login(self):
        """on_load of /login: a still-valid session goes straight to the app."""
        self.error, self.field_errors, self.busy = "", {}, False
        if await self.actor() is not None:
            return rx.redirect(_safe_next(self.router.url.query_parameters.get("next")), replace=True)

    @rx.event
    async def sign_in(self, form: dict):
        self._start()
        yield
        ip, ua = self._client()
        try:
            token, _actor = await run_service(service.create_ui_session, email=str(form.get("email", ""))[:254],
                                              password=str(form.get("password", ""))[:1000], ip=ip, user_agent=ua)
        except AppError as exc:
            self._fail(exc)
            self.busy = False
            return
        await self._forget_pages()  # nothing a previous user of this tab loaded survives into the new session
        self.session_token = token
        await self.actor()
        self.busy = False
        yield rx.redirect(_safe_next(self.router.url.query_parameters.get("next")), replace=True)

    @rx.event
    def open_forgot(self):
        self.error, self.field_errors, self.busy, self.reset_requested = "", {}, False, False

    @rx.event
    async def request_reset(self, form: dict):
        self._start()
        yield
        ip, ua = self._client()
        try:
            await run_service(service.request_password_reset, email=str(form.get("email", ""))[:254], ip=ip,
                              user_agent=ua)
        except AppError as exc:
            self._fail(exc)
        else:
            self.reset_requested = True
        self.busy = False

    @rx.event
    def open_reset(self):
        self.error, self.field_errors, self.busy, self.reset_done = "", {}, False, False

    @rx.event
    async def confirm_reset(self, form: dict):
        self._start()
        yield
        new, again = str(form.get("new_password", ""))[:1000], str(form.get("confirm_password", ""))[:1000]
        if new != again:
            self.field_errors = {"confirmPassword": "The two passwords do not match."}
            self.busy = False
            return
        token = str(self.router.url.query_parameters.get("token", ""))[:400]
        try:
            await run_service(service.confirm_password_reset, token=token, new_password=new)
        except AppError as exc:
            self._fail(exc)
            self.busy = False
            return
        self.reset_done = True
        self.busy = False
        self._clear()
        yield rx.toast.success("Password updated. Sign in with your new password.")

    @rx.event
    async def open_account(self):
        self.error, self.field_errors, self.busy = "", {}, False
        return await self.guard_page("account")

    @rx.event
    async def change_password(self, form: dict):
        self._start()
        yield
        try:
            actor = await self.require()
        except AppError as exc:
            self.busy = False
            yield self._denied(exc)
            return
        new, again = str(form.get("new_password", ""))[:1000], str(form.get("confirm_password", ""))[:1000]
        if new != again:
            self.field_errors = {"confirmPassword": "The two passwords do not match."}
            self.busy = False
            return
        try:
            await run_service(service.change_password, actor=actor,
                              current_password=str(form.get("current_password", ""))[:1000], new_password=new)
        except AppError as exc:
            self._fail(exc)
            self.busy = False
            return
        # Every session of this user (this one included) is now revoked: sign in again.
        self._clear()
        self.busy = False
        yield rx.redirect("/login", replace=True)
        yield rx.toast.success("Password changed. Sign in with your new password.")
