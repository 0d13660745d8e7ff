"""Home page state. Later modules add their cards (check-in, balances, approvals) here."""

from __future__ import annotations

import reflex as rx

from hr_portal.ui.session import SessionState


class HomeState(SessionState):
    @rx.var
    def greeting(self) -> str:
        first = self.user_name.split(" ")[0] if self.user_name else ""
        return f"Welcome, {first}" if first else "Welcome"

    @rx.event
    async def open_home(self):
        return await self.guard_page("home")
