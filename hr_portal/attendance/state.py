"""Attendance page states: the check-in card (Home and My attendance), My attendance, Team (today and
month, live), Attendance approvals (live) and Attendance settings.

Every handler derives the actor server-side and calls a service, which re-checks tenancy, role and
scope; values from the browser (dates, ids, times, coordinates) are cast and bounded here and
validated again by the service.
"""

from __future__ import annotations

import contextlib
import math
import time
import zoneinfo
from datetime import date
from datetime import time as clock_time
from typing import Any

import reflex as rx

from hr_portal.attendance import service
from hr_portal.attendance.models import PunchSource, ShiftIn, SiteIn
from hr_portal.auth.models import Role
from hr_portal.core.db import utcnow
from hr_portal.core.errors import AppError, Conflict, Unauthorized
from hr_portal.core.live import hub, org_topic, user_topic
from hr_portal.ui.live import SAFETY_RELOAD_EVERY, WAKE_SECONDS, live_loop, note_own_change, own_echo
from hr_portal.ui.session import SessionState, run_service

HR = (Role.admin, Role.hr_manager)
APPROVERS = (Role.admin, Role.hr_manager, Role.manager)
DOUBLE_CLICK_S = 0.5
# A punch from this tab loads the card inside its own transaction, then fires this user's attendance topic:
# the tab's card watcher would reload the same card (a session look-up and a card query, holding the tab's
# state lock while they wait for a worker thread) right after it. It skips a change that arrives this soon
# after the tab's own punch; a change from elsewhere in that window shows at the next change or the safety
# reload (SAFETY_RELOAD_EVERY x WAKE_SECONDS). bench/run.py scenario 5, docs/performance.md.
OWN_PUNCH_ECHO_S = 2.0

# Installed once per browser tab: ticks the live clock ([data-hr-clock]) and the worked-today counter
# ([data-hr-worked] + data-hr-since) every half second, and warms the geolocation cache when the
# browser already granted it (so the click does not wait for a fix).
TICK_JS = """(() => {
  if (!window.__hrAttendanceTick) {
    const fmt = (s) => { const m = Math.max(0, Math.floor(s / 60)); const h = Math.floor(m / 60), r = m % 60;
      return h && r ? `${h} h ${r} min` : (h ? `${h} h` : `${r} min`); };
    const tick = () => {
      document.querySelectorAll("[data-hr-clock]").forEach((el) => {
        try { el.textContent = new Intl.DateTimeFormat("en-GB", {timeZone: el.dataset.hrClock, hour: "2-digit",
          minute: "2-digit", second: "2-digit", hourCycle: "h23"}).format(new Date()); } catch (e) {}
      });
      document.querySelectorAll("[data-hr-worked]").forEach((el) => {
        const base = Number(el.dataset.hrWorked || 0), since = Number(el.dataset.hrSince || 0);
        el.textContent = fmt(base + (since ? (Date.now() - since) / 1000 : 0));
      });
    };
    tick();
    window.__hrAttendanceTick = setInterval(tick, 500);
  }
  try {
    if (navigator.geolocation && navigator.permissions) {
      navigator.permissions.query({name: "geolocation"}).then((p) => {
        if (p.state === "granted") navigator.geolocation.getCurrentPosition((pos) => {
          window.__hrGeo = {t: Date.now(), v: {latitude: pos.coords.latitude, longitude: pos.coords.longitude,
            accuracy: pos.coords.accuracy}}; }, () => {}, {maximumAge: 60000, timeout: 10000});
      }).catch(() => {});
    }
  } catch (e) {}
  return true;
})()"""

# Evaluated on the click: resolves to {latitude, longitude, accuracy} or null, never rejects, and never
# makes an optional location slow: a fix younger than two minutes is used at once; without the browser's
# permission nothing is asked unless the company requires a location (then the prompt gets up to 15 s);
# with permission a fresh fix gets at most 1.5 s.
GEO_JS = """(() => {
  const g = navigator.geolocation;
  if (!g) return null;
  const cached = window.__hrGeo;
  if (cached && Date.now() - cached.t < 120000) return cached.v;
  const holder = document.querySelector("[data-hr-geo-required]");
  const required = !!holder && holder.dataset.hrGeoRequired === "1";
  const wait = required ? 15000 : 1500;
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => { if (!done) { done = true; resolve(v); } };
    const ask = () => {
      setTimeout(() => finish(null), wait);
      g.getCurrentPosition((p) => {
          const v = {latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy};
          window.__hrGeo = {t: Date.now(), v}; finish(v); },
        () => finish(null), {enableHighAccuracy: false, maximumAge: 60000, timeout: wait});
    };
    if (!navigator.permissions) { ask(); return; }
    navigator.permissions.query({name: "geolocation"}).then((p) => {
      if (p.state === "granted" || (p.state === "prompt" && required)) ask(); else finish(null);
    }).catch(() => (required ? ask() : finish(null)));
  });
})()"""

STATUS_COLORS = {"present": "green", "late": "orange", "half_day": "amber", "absent": "red", "on_leave": "blue",
                 "holiday": "cyan", "weekly_off": "gray", "": "gray"}
TODAY_COLORS = {"in": "green", "late": "orange", "not_in": "gray", "out": "indigo", "absent": "red",
                "on_leave": "blue", "off": "gray"}
CORRECTION_COLORS = {"pending": "amber", "approved": "green", "rejected": "red", "cancelled": "gray"}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _geo(value: Any) -> tuple[float | None, float | None, float | None]:
    """Coordinates from the browser script (any shape a client might send); None when unusable."""
    if not isinstance(value, dict):
        return None, None, None
    try:
        lat, lon = float(value.get("latitude")), float(value.get("longitude"))
    except (TypeError, ValueError):
        return None, None, None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None, None, None
    try:
        acc = float(value.get("accuracy")) if value.get("accuracy") is not None else None
    except (TypeError, ValueError):
        acc = None
    return lat, lon, acc


def _month_or(value: Any, fallback: date) -> date:
    try:
        return service.parse_month(value)
    except AppError:
        return fallback


class AttendanceBase(SessionState):
    def _fail(self, exc: AppError):
        if isinstance(exc, Unauthorized):
            return self._denied(exc)
        return rx.toast.error(exc.message)


# ================================================================ check-in card


class CheckInState(AttendanceBase):
    card: dict[str, Any] = {}
    card_ready: bool = False
    punch_busy: bool = False
    card_error: str = ""
    _card_gen: int = 0
    _card_path: str = ""
    _card_user: int = 0
    _last_punch: str = ""
    _last_punch_at: float = 0.0

    @rx.var
    def card_state(self) -> str:
        return str(self.card.get("state", "none"))

    @rx.var
    def geo_required(self) -> str:
        return "1" if self.card.get("location_required") else "0"

    async def _load_card(self, actor, card: dict[str, Any] | None = None) -> None:
        """Show `card`, or the card read afresh: as `actor`, or without one with the session check in the same
        unit of work."""
        if card is None:
            card = await (self._run_as(service.today_card) if actor is None
                          else run_service(service.today_card, actor=actor))
        card["clock"] = utcnow().astimezone(zoneinfo.ZoneInfo(card["timezone"])).strftime("%H:%M:%S")
        card["since_ms"] = str(card["open_since_ms"] or "")
        card["worked_base"] = str(card["worked_seconds"])
        self.card, self.card_ready = card, True

    @rx.event
    async def load_card(self):
        """on_mount of the card: load today's state, start the clock and the live watcher."""
        try:
            card, user_id = await self._run_as(
                lambda session, actor: (service.today_card(session=session, actor=actor), actor.user_id))
            await self._load_card(None, card)
        except AppError as exc:
            self.card_ready = False
            self.card_error = "" if isinstance(exc, Unauthorized) else exc.message
            return None
        self._card_path = self.router.route_id or "/"
        self._card_user = user_id
        return [rx.call_script(TICK_JS), CheckInState.watch_card]

    async def _punch(self, action: str, geo: Any):
        # The second click of a double click can land on the button that replaced the first one
        # ("Check in" became "Check out"). The new button ignores the pointer for its first 0.7 s (CSS, see
        # pages.checkin_card); as a second line, an opposite punch from this tab within 0.5 s is ignored.
        if self._last_punch and self._last_punch != action and time.time() - self._last_punch_at < DOUBLE_CLICK_S:
            return
        self.punch_busy, self.card_error = True, ""
        yield
        lat, lon, acc = _geo(geo)
        message = None
        try:
            card = await self._run_as(service.punch, action=action, source=PunchSource.web, latitude=lat,
                                      longitude=lon, accuracy=acc)
            self._last_punch, self._last_punch_at = action, time.time()
            note_own_change(self.router.session.client_token, "punch", self._last_punch_at)
            await self._load_card(None, card)
            when = self.card.get("since") if action == "in" else self.card.get("last_out")
            message = rx.toast.success(f"Checked {'in' if action == 'in' else 'out'} at {when}." if when else
                                       f"Checked {'in' if action == 'in' else 'out'}.")
        except Conflict as exc:
            # A double click or another tab got there first: show the real state, no alarm.
            with contextlib.suppress(AppError):
                await self._load_card(None)
            if not ((action == "in" and self.card_state == "in") or (action == "out" and self.card_state != "in")):
                message = rx.toast.info(exc.message)
        except AppError as exc:
            self.punch_busy = False
            if isinstance(exc, Unauthorized):
                yield self._denied(exc)
                return
            self.card_error = exc.message
            return
        self.punch_busy = False
        if message is not None:
            yield message

    @rx.event
    async def punch_in(self, geo: Any = None):
        async for update in self._punch("in", geo):
            yield update

    @rx.event
    async def punch_out(self, geo: Any = None):
        async for update in self._punch("out", geo):
            yield update

    @rx.event(background=True)
    async def watch_card(self):
        """Reload the card when this user's attendance changes elsewhere (another tab, the phone, the API,
        the auto check-out job, an approved correction). Own generation counter: runs beside a page's
        live_loop without disturbing it."""
        from hr_portal.ui.live import _token_manager

        async with self:
            self._card_gen += 1
            generation, path, user_id = self._card_gen, self._card_path, self._card_user
            token = self.router.session.client_token
        if not user_id:
            return
        manager = _token_manager()
        async with hub().subscribe([user_topic(user_id, "attendance")]) as sub:
            quiet = 0
            while True:
                changed = await sub.wait(WAKE_SECONDS)
                quiet = 0 if changed else quiet + 1
                if quiet >= SAFETY_RELOAD_EVERY:
                    changed, quiet = True, 0
                if changed and own_echo(token, "punch", OWN_PUNCH_ECHO_S):
                    continue  # the echo of this tab's own punch, already on its card
                if manager is not None and not await manager.is_token_connected(token):
                    return
                async with self:
                    if self._card_gen != generation or (self.router.route_id or "/") != path:
                        return
                    if changed and not self.punch_busy and time.time() - self._last_punch_at >= OWN_PUNCH_ECHO_S:
                        try:
                            await self._load_card(None)
                        except AppError:
                            return


# ================================================================ My attendance


class MyAttendanceState(AttendanceBase):
    month: str = ""
    month_label: str = ""
    current_month: str = ""
    days: list[dict[str, Any]] = []
    totals: dict[str, Any] = {}
    shift_label: str = ""
    timezone: str = ""
    corrections: list[dict[str, Any]] = []
    loaded: bool = False
    # correction dialog
    corr_open: bool = False
    corr_date: str = ""
    corr_date_label: str = ""
    corr_in: str = ""
    corr_out: str = ""
    corr_reason: str = ""
    corr_error: str = ""
    corr_busy: bool = False

    @rx.var
    def is_current_month(self) -> bool:
        return self.month >= self.current_month

    async def _load(self, actor) -> None:
        def work(session):
            today = service.company_today_for(session=session, actor=actor)
            month = _month_or(self.month, today.replace(day=1)) if self.month else today.replace(day=1)
            if month > today.replace(day=1):
                month = today.replace(day=1)
            view = service.month_view(session=session, actor=actor, month=month)
            return today, view, service.my_corrections(session=session, actor=actor)

        today, view, corrections = await run_service(work)
        self.current_month = today.strftime("%Y-%m")
        self.month, self.month_label = view["month"], view["month_label"]
        self.shift_label, self.timezone = view["shift_label"], view["timezone"]
        self.days = [{**d, "color": STATUS_COLORS.get(d["status"], "gray")} for d in reversed(view["days"])
                     if d["date"] <= today.isoformat() or d["first_in"]]
        self.totals = view["totals"]
        self.corrections = [{**c, "color": CORRECTION_COLORS.get(c["status"], "gray")} for c in corrections]
        self.loaded = True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("attendance")
        if redirect is not None:
            return redirect
        try:
            actor = await self.require()
            self.month = ""
            requested = self.router.url.query_parameters.get("month")
            if requested:
                self.month = _month_or(requested, date.today()).strftime("%Y-%m")
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        self._topics = [user_topic(actor.user_id, "attendance")]
        return MyAttendanceState.watch

    async def _reload(self) -> None:
        await self._load(await self.require())

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/attendance", reload=MyAttendanceState._reload)

    @rx.event
    async def change_month(self, delta: int):
        delta = max(-1, min(1, _int(delta)))
        base = _month_or(self.month, date.today().replace(day=1))
        self.month = service.shift_month(base, delta).strftime("%Y-%m")
        try:
            await self._load(await self.require())
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def export_csv(self):
        try:
            actor = await self.require()
            name, text = await run_service(service.month_csv, actor=actor,
                                           month=_month_or(self.month, date.today().replace(day=1)))
        except AppError as exc:
            return self._fail(exc)
        return rx.download(data=text, filename=name)

    @rx.event
    def open_correction(self, day: str):
        row = next((d for d in self.days if d["date"] == str(day)), None)
        if row is None or not row["can_correct"]:
            return rx.toast.error("Corrections are for past days without a pending request.")
        start, end = self.shift_label.split("–")[0] if self.shift_label else "09:00", ""
        if self.shift_label and "–" in self.shift_label:
            end = self.shift_label.split("–")[1][:5]
        self.corr_date, self.corr_date_label = row["date"], row["label"]
        self.corr_in = row["first_in"] or start
        self.corr_out = (row["last_out"] if row["last_out"] not in ("", "…") else "") or end
        self.corr_reason, self.corr_error, self.corr_busy, self.corr_open = "", "", False, True

    @rx.event
    def set_corr_open(self, value: bool):
        self.corr_open = bool(value)

    @rx.event
    def set_corr_in(self, value: str):
        self.corr_in = str(value)[:8]

    @rx.event
    def set_corr_out(self, value: str):
        self.corr_out = str(value)[:8]

    @rx.event
    def set_corr_reason(self, value: str):
        self.corr_reason = str(value)[:500]

    @rx.event
    async def submit_correction(self):
        self.corr_busy, self.corr_error = True, ""
        yield
        try:
            actor = await self.require()
            await run_service(service.request_correction_hhmm, actor=actor, work_date=self.corr_date,
                              check_in=self.corr_in, check_out=self.corr_out, reason=self.corr_reason)
            await self._load(actor)
        except AppError as exc:
            self.corr_busy = False
            if isinstance(exc, Unauthorized):
                yield self._denied(exc)
            else:
                self.corr_error = exc.message
            return
        self.corr_busy, self.corr_open = False, False
        yield rx.toast.success("Correction requested. Your manager has been asked to approve it.")

    @rx.event
    async def cancel_correction(self, correction_id: int):
        try:
            actor = await self.require()
            await run_service(service.cancel_correction, actor=actor, correction_id=_int(correction_id, -1))
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        return rx.toast.success("Request cancelled.")


# ================================================================ Team (today + month)


class TeamState(AttendanceBase):
    today_rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    today_page: int = 1
    today_pages: int = 1
    today_total: int = 0
    month: str = ""
    month_label: str = ""
    current_month: str = ""
    month_rows: list[dict[str, Any]] = []
    month_days: list[dict[str, Any]] = []
    month_page: int = 1
    month_pages: int = 1
    month_total: int = 0
    tab: str = "today"
    loaded: bool = False

    async def _load_today(self, actor) -> None:
        view = await run_service(service.team_today, actor=actor, page=self.today_page, limit=50)
        self.today_rows = [{**r, "color": TODAY_COLORS.get(r["status"], "gray")} for r in view["rows"]]
        self.counts, self.today_total = view["counts"], view["total"]
        self.today_page, self.today_pages = view["page"], view["pages"]

    async def _load_month(self, actor) -> None:
        def work(session):
            today = service.company_today_for(session=session, actor=actor)
            month = _month_or(self.month, today.replace(day=1)) if self.month else today.replace(day=1)
            return today, service.team_month(session=session, actor=actor, month=min(month, today.replace(day=1)),
                                             page=self.month_page, limit=25)

        today, view = await run_service(work)
        self.current_month = today.strftime("%Y-%m")
        self.month, self.month_label = view["month"], view["month_label"]
        self.month_days = view["days"]
        self.month_rows = [{**r, "cells": [{**c, "color": STATUS_COLORS.get(c["status"], "gray")} for c in r["cells"]]}
                           for r in view["rows"]]
        self.month_total, self.month_page, self.month_pages = view["total"], view["page"], view["pages"]

    @rx.var
    def is_current_month(self) -> bool:
        return self.month >= self.current_month

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("attendance_team")
        if redirect is not None:
            return redirect
        try:
            actor = await self.require(*APPROVERS)
            self.today_page, self.month_page, self.month = 1, 1, ""
            await self._load_today(actor)
            await self._load_month(actor)
        except AppError as exc:
            return self._fail(exc)
        self.loaded = True
        self._topics = [org_topic(actor.organization_id, "attendance")]
        return TeamState.watch

    async def _reload(self) -> None:
        actor = await self.require(*APPROVERS)
        await self._load_today(actor)
        if self.tab == "month" and self.is_current_month:
            await self._load_month(actor)

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/attendance/team", reload=TeamState._reload)

    @rx.event
    def set_tab(self, value: str):
        self.tab = "month" if value == "month" else "today"

    @rx.event
    async def today_goto(self, page: int):
        self.today_page = max(1, min(_int(page, 1), self.today_pages))
        try:
            await self._load_today(await self.require(*APPROVERS))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def month_goto(self, page: int):
        self.month_page = max(1, min(_int(page, 1), self.month_pages))
        try:
            await self._load_month(await self.require(*APPROVERS))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def change_month(self, delta: int):
        delta = max(-1, min(1, _int(delta)))
        base = _month_or(self.month, date.today().replace(day=1))
        self.month, self.month_page = service.shift_month(base, delta).strftime("%Y-%m"), 1
        try:
            await self._load_month(await self.require(*APPROVERS))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def export_csv(self):
        try:
            actor = await self.require(*APPROVERS)
            name, text = await run_service(service.team_month_csv, actor=actor,
                                           month=_month_or(self.month, date.today().replace(day=1)))
        except AppError as exc:
            return self._fail(exc)
        return rx.download(data=text, filename=name)


# ================================================================ Attendance approvals


class ApprovalsState(AttendanceBase):
    pending: list[dict[str, Any]] = []
    decided: list[dict[str, Any]] = []
    total: int = 0
    loaded: bool = False
    dialog_open: bool = False
    decide_id: int = 0
    decide_approve: bool = True
    decide_name: str = ""
    decide_when: str = ""
    decide_comment: str = ""
    decide_error: str = ""
    busy: bool = False

    async def _load(self, actor) -> None:
        view = await run_service(service.approval_queue, actor=actor)
        self.pending = view["pending"]
        self.decided = [{**d, "color": CORRECTION_COLORS.get(d["status"], "gray")} for d in view["decided"]]
        self.total, self.loaded = view["total"], True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("attendance_approvals")
        if redirect is not None:
            return redirect
        try:
            actor = await self.require(*APPROVERS)
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        self._topics = [org_topic(actor.organization_id, "attendance_corrections")]
        return ApprovalsState.watch

    async def _reload(self) -> None:
        await self._load(await self.require(*APPROVERS))

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/attendance/approvals", reload=ApprovalsState._reload)

    @rx.event
    def start_decision(self, correction_id: int, approve: bool):
        row = next((p for p in self.pending if p["id"] == _int(correction_id, -1)), None)
        if row is None:
            return rx.toast.error("This request is no longer waiting for a decision.")
        self.decide_id, self.decide_approve = row["id"], bool(approve)
        self.decide_name, self.decide_when = row["name"], f"{row['date_label']}: {row['check_in']}–{row['check_out']}"
        self.decide_comment, self.decide_error, self.busy, self.dialog_open = "", "", False, True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

    @rx.event
    def set_decide_comment(self, value: str):
        self.decide_comment = str(value)[:500]

    @rx.event
    async def confirm_decision(self):
        self.busy, self.decide_error = True, ""
        yield
        try:
            actor = await self.require(*APPROVERS)
            await run_service(service.decide_correction, actor=actor, correction_id=self.decide_id,
                              approve=self.decide_approve, comment=self.decide_comment)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            if isinstance(exc, Unauthorized):
                yield self._denied(exc)
            elif isinstance(exc, Conflict):
                self.dialog_open = False
                await self._load(await self.require(*APPROVERS))
                yield rx.toast.info(exc.message)
            else:
                self.decide_error = exc.message
            return
        self.busy, self.dialog_open = False, False
        yield rx.toast.success("Correction approved; the day's record is updated." if self.decide_approve
                               else "Correction rejected.")


# ================================================================ Attendance settings


class AttendanceSettingsState(AttendanceBase):
    companies: list[dict[str, Any]] = []
    company_id: str = ""
    company_name: str = ""
    company_tz: str = ""
    shifts: list[dict[str, Any]] = []
    location_required: bool = False
    sites: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    # The per-employee shift picker's choices: everyone active in the company, kept once, in the shape the
    # picker renders (a list of people and a computed copy of it made this the largest page state).
    people_options: list[dict[str, str]] = []
    loaded: bool = False
    # shift dialog
    sd_open: bool = False
    sd_id: int = 0
    sd_name: str = ""
    sd_start: str = "09:00"
    sd_end: str = "17:30"
    sd_grace: str = "10"
    sd_half: str = "4"
    sd_tolerance: str = "60"
    sd_default: bool = False
    sd_error: str = ""
    # site dialog
    st_open: bool = False
    st_name: str = ""
    st_lat: str = ""
    st_lon: str = ""
    st_radius: str = "200"
    st_error: str = ""
    # per-employee shift
    as_employee: str = ""
    as_shift: str = ""
    busy: bool = False

    @rx.var
    def shift_options(self) -> list[dict[str, str]]:
        return [{"value": str(s["id"]), "label": f"{s['name']} ({s['hours_label']})"} for s in self.shifts]

    @rx.var
    def company_options(self) -> list[dict[str, str]]:
        return [{"value": str(c["id"]), "label": f"{c['name']} ({c['timezone']})"} for c in self.companies]

    async def _load(self, actor) -> None:
        view = await run_service(service.settings_view, actor=actor, company_id=_int(self.company_id) or None)
        self.companies = view["companies"]
        self.company_id = str(view["company"]["id"])
        self.company_name, self.company_tz = view["company"]["name"], view["company"]["timezone"]
        self.shifts, self.location_required = view["shifts"], view["location_required"]
        self.sites, self.overrides = view["sites"], view["overrides"]
        self.people_options = [{"value": str(p["id"]), "label": p["name"]} for p in view["people"]]
        self.loaded = True

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("attendance_settings")
        if redirect is not None:
            return redirect
        try:
            actor = await self.require(*HR)
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)

    async def _run(self, fn, success: str, **kwargs):
        try:
            actor = await self.require(*HR)
            await run_service(fn, actor=actor, **kwargs)
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        return rx.toast.success(success)

    @rx.event
    async def pick_company(self, value: str):
        if any(str(c["id"]) == str(value) for c in self.companies):
            self.company_id = str(value)
            self.as_employee = self.as_shift = ""
            try:
                await self._load(await self.require(*HR))
            except AppError as exc:
                return self._fail(exc)

    # -- shifts
    @rx.event
    def start_shift(self, shift_id: int):
        row = next((s for s in self.shifts if s["id"] == _int(shift_id, -1)), None)
        if row is None:
            self.sd_id, self.sd_name, self.sd_start, self.sd_end = 0, "", "09:00", "17:30"
            self.sd_grace, self.sd_half, self.sd_tolerance, self.sd_default = "10", "4", "60", False
        else:
            self.sd_id, self.sd_name, self.sd_start, self.sd_end = row["id"], row["name"], row["start"], row["end"]
            self.sd_grace, self.sd_half = str(row["grace_minutes"]), f"{row['half_day_hours']:g}"
            self.sd_tolerance, self.sd_default = str(row["auto_checkout_minutes"]), bool(row["is_default"])
        self.sd_error, self.sd_open = "", True

    @rx.event
    def set_sd_open(self, value: bool):
        self.sd_open = bool(value)

    @rx.event
    def set_sd_field(self, name: str, value: str):
        if name in ("sd_name", "sd_start", "sd_end", "sd_grace", "sd_half", "sd_tolerance"):
            setattr(self, name, str(value)[:80])

    @rx.event
    def set_sd_default(self, value: bool):
        self.sd_default = bool(value)

    @rx.event
    async def save_shift(self):
        try:
            start, end = clock_time.fromisoformat(self.sd_start), clock_time.fromisoformat(self.sd_end)
        except ValueError:
            self.sd_error = "Give start and end as HH:MM."
            return
        try:
            data = ShiftIn(name=self.sd_name.strip(), start_time=start, end_time=end,
                           grace_minutes=int(self.sd_grace or 0), half_day_hours=float(self.sd_half or 0),
                           auto_checkout_minutes=int(self.sd_tolerance or 0), is_default=self.sd_default)
            ShiftIn.model_validate(data.model_dump())
        except ValueError:
            self.sd_error = ("Check the numbers: grace 0–240 minutes, half-day threshold 0–24 hours, "
                             "auto check-out tolerance 0–720 minutes; a name of 1–80 characters.")
            return
        try:
            actor = await self.require(*HR)
            await run_service(service.save_shift, actor=actor, company_id=_int(self.company_id), data=data,
                              shift_id=self.sd_id or None)
            await self._load(actor)
        except AppError as exc:
            if isinstance(exc, Unauthorized):
                return self._denied(exc)
            self.sd_error = exc.message
            return
        self.sd_open = False
        return rx.toast.success("Shift saved.")

    @rx.event
    async def delete_shift(self, shift_id: int):
        return await self._run(service.delete_shift, "Shift deleted.", shift_id=_int(shift_id, -1))

    # -- location
    @rx.event
    async def set_location_required(self, value: bool):
        return await self._run(service.set_location_required,
                               "Location is now required to check in." if value else "Location is now optional.",
                               company_id=_int(self.company_id), required=bool(value))

    @rx.event
    def start_site(self):
        self.st_name, self.st_lat, self.st_lon, self.st_radius, self.st_error = "", "", "", "200", ""
        self.st_open = True

    @rx.event
    def set_st_open(self, value: bool):
        self.st_open = bool(value)

    @rx.event
    def set_st_field(self, name: str, value: str):
        if name in ("st_name", "st_lat", "st_lon", "st_radius"):
            setattr(self, name, str(value)[:120])

    @rx.event
    async def save_site(self):
        try:
            data = SiteIn.model_validate({"name": self.st_name.strip(), "latitude": float(self.st_lat),
                                          "longitude": float(self.st_lon), "radius_m": int(self.st_radius)})
        except ValueError:
            self.st_error = ("Give a name, latitude (-90 to 90), longitude (-180 to 180) and a radius of 10 m to "
                             "100 km, e.g. 52.52000, 13.40500 and 200.")
            return
        try:
            actor = await self.require(*HR)
            await run_service(service.add_site, actor=actor, company_id=_int(self.company_id), data=data)
            await self._load(actor)
        except AppError as exc:
            if isinstance(exc, Unauthorized):
                return self._denied(exc)
            self.st_error = exc.message
            return
        self.st_open = False
        return rx.toast.success("Site added.")

    @rx.event
    async def delete_site(self, site_id: int):
        return await self._run(service.delete_site, "Site removed.", site_id=_int(site_id, -1))

    # -- per-employee shifts
    @rx.event
    def set_as_employee(self, value: str):
        self.as_employee = str(value)[:12]

    @rx.event
    def set_as_shift(self, value: str):
        self.as_shift = str(value)[:12]

    @rx.event
    async def assign(self):
        if not self.as_employee or not self.as_shift:
            return rx.toast.error("Choose a person and a shift.")
        result = await self._run(service.assign_shift, "Shift assigned.", employee_id=_int(self.as_employee, -1),
                                 shift_id=_int(self.as_shift, -1))
        self.as_employee = self.as_shift = ""
        return result

    @rx.event
    async def unassign(self, employee_id: int):
        return await self._run(service.assign_shift, "Back to the company's default shift.",
                               employee_id=_int(employee_id, -1), shift_id=None)

