"""Home page state: one dashboard per role, loaded in one service call (dashboard.service.home).

Only display-ready rows live here (labels and small counts); every figure is computed server-side for
the actor the session resolves to, so a forged event can at most reload the caller's own dashboard.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from hr_portal.core.db import utcnow
from hr_portal.core.errors import AppError
from hr_portal.dashboard import service
from hr_portal.ui.session import SessionState


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _strs(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: _s(v) for k, v in row.items()} for row in rows]


class HomeState(SessionState):
    loaded: bool = False
    loading: bool = False
    load_error: str = ""
    updated_at: str = ""
    notes: list[str] = []

    # me
    has_me: bool = False
    me_hours: str = ""
    me_hours_detail: str = ""
    me_balances: list[dict[str, str]] = []
    me_pending: list[dict[str, str]] = []
    me_pending_total: int = 0
    me_holidays: list[dict[str, str]] = []
    me_notifications: list[dict[str, str]] = []
    me_unread: int = 0

    # manager
    has_team: bool = False
    team_counts: dict[str, int] = {}
    team_rows: list[dict[str, str]] = []
    team_more: int = 0
    team_size: int = 0
    leave_queue: list[dict[str, str]] = []
    correction_queue: list[dict[str, str]] = []
    off_rows: list[dict[str, str]] = []
    off_total: int = 0
    off_label: str = ""
    hours_rows: list[dict[str, Any]] = []
    hours_total: str = ""
    hours_others: int = 0
    month_label: str = ""

    # HR and admin
    has_org: bool = False
    org: dict[str, int] = {}
    org_rate: str = ""
    no_manager: list[dict[str, str]] = []
    no_department: list[dict[str, str]] = []
    celebrations: list[dict[str, str]] = []

    # shared: approvals waiting (manager: theirs; HR: the organization's)
    approvals: dict[str, int] = {}

    @rx.var
    def greeting(self) -> str:
        first = self.user_name.split(" ")[0] if self.user_name else ""
        return f"Welcome, {first}" if first else "Welcome"

    @rx.event
    async def open_home(self):
        redirect = await self.guard_page("home")
        if redirect is not None:
            return redirect
        return HomeState.load_home

    @rx.event
    async def load_home(self):
        if self.loading:
            return
        self.loading, self.load_error = True, ""
        yield
        try:
            data = await self._run_as(service.home)  # the session check and the read in one unit of work
        except AppError as exc:
            self.loading = False
            self.load_error = exc.message
            yield self._denied(exc)
            return
        self._apply(data)
        self.loading, self.loaded = False, True
        self.updated_at = utcnow().strftime("%H:%M UTC")

    def _apply(self, data: dict[str, Any]) -> None:
        self.notes = list(data.get("errors") or [])
        me = data.get("me")
        self.has_me = me is not None
        if me:
            self.me_hours, self.me_hours_detail = me["hours_label"], me["hours_detail"]
            self.me_balances = _strs(me["balances"])
            self.me_pending, self.me_pending_total = _strs(me["pending"]), int(me["pending_total"])
            self.me_holidays = _strs(me["holidays"])
            self.me_notifications = [{**{k: _s(v) for k, v in n.items()}, "read": "1" if n["read"] else ""}
                                     for n in me["notifications"]]
            self.me_unread = int(me["unread"])
        team = data.get("team")
        self.has_team = team is not None
        if team:
            self.team_counts = {k: int(v) for k, v in team["counts"].items()}
            self.team_rows, self.team_more, self.team_size = _strs(team["rows"]), team["more"], team["size"]
            self.approvals = {k: int(v) for k, v in team["approvals"].items()}
            self.leave_queue, self.correction_queue = _strs(team["leave_queue"]), _strs(team["correction_queue"])
            self.off_rows, self.off_total, self.off_label = _strs(team["off"]), team["off_total"], team["off_label"]
            self.hours_rows = [{"name": p["name"], "short": p["short"], "hours": p["hours"], "label": p["label"]}
                               for p in team["hours"]]
            self.hours_total = f"{team['hours_total']:g} h"
            self.hours_others, self.month_label = team["hours_others"], team["month_label"]
        org = data.get("org")
        self.has_org = org is not None
        if org:
            t = org["today"]
            self.org = {"headcount": org["headcount"], "joiners": org["joiners"], "leavers": org["leavers"],
                        "scheduled": org["scheduled"], **{k: int(v) for k, v in t.items()},
                        "no_manager": org["hygiene"]["no_manager"], "no_department": org["hygiene"]["no_department"]}
            self.org_rate = f"{org['present_rate']:g}%"
            self.month_label = org["month_label"]
            self.approvals = {k: int(v) for k, v in org["approvals"].items()}
            self.no_manager = _strs(org["hygiene"]["no_manager_people"])
            self.no_department = _strs(org["hygiene"]["no_department_people"])
            self.celebrations = _strs(org["celebrations"])
