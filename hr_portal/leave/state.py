"""Leave page states: My leave, Leave approvals (live), Team calendar, Leave setup.

Every handler derives the actor server-side and calls the services, which re-check tenancy, role and
scope; ids coming from the browser are cast and never trusted.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core import files as core_files
from hr_portal.core.authz import Actor
from hr_portal.core.db import utcnow
from hr_portal.core.errors import AppError, Unauthorized, ValidationFailed
from hr_portal.core.live import org_topic, user_topic
from hr_portal.leave import holidays as holiday_service
from hr_portal.leave import service
from hr_portal.leave.models import LeaveTypeInput
from hr_portal.org import service as org_service
from hr_portal.ui.live import live_loop, note_own_change
from hr_portal.ui.session import SessionState, run_service

HR = (Role.admin, Role.hr_manager)
APPROVERS = (Role.admin, Role.hr_manager, Role.manager)
PAGE_SIZE = 25
# The approvals page keeps the people one may delegate to (HR's: every approver of the organization) for this
# long per tab and signed-in user, instead of reading them at each opening of the page; adding a delegation
# reads them again, and one who stopped being eligible meanwhile is refused with a clear message.
CANDIDATES_TTL_SECONDS = 300.0

STATUS_COLORS = {"pending": "amber", "approved": "green", "rejected": "red", "cancelled": "gray"}
KIND_LABELS = {"allocation": "Allocation", "accrual": "Accrual", "carry_forward": "Carried forward",
               "taken": "Taken", "cancelled": "Returned (cancelled)", "expired": "Expired",
               "adjustment": "Adjustment"}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _num(value: float) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _date_label(start: str, end: str) -> str:
    s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if s == e:
        return f"{s.strftime('%a')} {s.day} {s.strftime('%b %Y')}"
    if s.year == e.year:
        return f"{s.day} {s.strftime('%b')} – {e.day} {e.strftime('%b %Y')}"
    return f"{s.day} {s.strftime('%b %Y')} – {e.day} {e.strftime('%b %Y')}"


def _leave_row(item: dict[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    row = dict(item)
    row["when"] = _date_label(item["startDate"], item["endDate"])
    halves = []
    if item.get("halfDayStart"):
        halves.append("half first day")
    if item.get("halfDayEnd"):
        halves.append("half last day")
    row["halves"] = ", ".join(halves)
    row["daysLabel"] = _num(item["days"])
    row["color"] = STATUS_COLORS.get(item["status"], "gray")
    row["statusLabel"] = item["status"] if item["status"] != "pending" or item.get("step", 1) < 2 \
        else "pending (HR)"
    started = today is not None and dt.date.fromisoformat(item["startDate"]) <= today
    row["canCancel"] = item["status"] == "pending" or (item["status"] == "approved" and not started)
    row["comment"] = item.get("approverComment") or ""
    row["approverName"] = item.get("approverName") or ""
    row["attachmentUrl"] = item.get("attachmentUrl") or ""
    row["attachmentName"] = item.get("attachmentName") or "Attachment"
    return row


class LeaveBase(SessionState):
    def _fail(self, exc: AppError):
        if isinstance(exc, Unauthorized):
            return self._denied(exc)
        return rx.toast.error(exc.message)


# ================================================================ My leave


class MyLeaveState(LeaveBase):
    types: list[dict] = []
    balances: list[dict] = []
    requests: list[dict] = []
    page: int = 1
    total: int = 0
    year: int = 0
    # the apply form
    f_type: str = ""
    f_start: str = ""
    f_end: str = ""
    f_half_start: bool = False
    f_half_end: bool = False
    f_reason: str = ""
    quote_days: str = ""
    quote_after: str = ""
    quote_note: str = ""
    quote_problems: list[str] = []
    form_error: str = ""
    busy: bool = False
    apply_open: bool = False
    # the supporting document: uploaded (private to the uploader) when picked, linked on submit
    attachment_name: str = ""
    attachment_busy: bool = False
    attachment_error: str = ""
    _attachment_id: str = ""
    # the "why" dialog
    ledger_open: bool = False
    ledger_title: str = ""
    ledger_lines: list[dict] = []
    ledger_total: str = ""

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def selected_type_half_days(self) -> bool:
        match = next((t for t in self.types if str(t["id"]) == self.f_type), None)
        return bool(match and match["allowHalfDay"])

    @rx.var
    def attachment_hint(self) -> str:
        match = next((t for t in self.types if str(t["id"]) == self.f_type), None)
        above = match.get("attachmentRequiredAboveDays") if match else None
        if above is None:
            return "Optional: a PDF, PNG or JPEG up to " + core_files.human_size(core_files.max_bytes()) + "."
        return (f"Required for {match['name']} leave of more than {_num(above)} day(s): a PDF, PNG or JPEG up to "
                f"{core_files.human_size(core_files.max_bytes())}.")

    @rx.var
    def can_submit(self) -> bool:
        return bool(self.f_type and self.f_start and self.f_end and not self.quote_problems and not self.busy)

    async def _load(self, actor) -> None:
        def work(session):
            types = service.list_types(session=session, actor=actor)
            bal = service.balances(session=session, actor=actor, year=self.year or None) \
                if actor.employee_id else []
            items, total = service.list_requests(session=session, actor=actor, employee_id=actor.employee_id or -1,
                                                 offset=(self.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
            return types, bal, items, total

        types, bal, items, total = await run_service(work)
        today = utcnow().date()
        self.types = [t.dump() for t in types]
        self.balances = [{**b.dump(), "availableLabel": _num(b.available), "balanceLabel": _num(b.balance),
                          "pendingLabel": _num(b.pending), "takenLabel": _num(b.taken),
                          "entitledLabel": _num(b.entitled),
                          "unlimited": b.allow_negative and b.entitled == 0}
                         for b in bal]
        self.requests = [_leave_row(i.dump(), today=today) for i in items]
        self.total = total
        if not self.year:
            self.year = today.year

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("leave")
        if redirect is not None:
            return redirect
        actor = await self.require()
        self.page, self.year = 1, 0
        await self._load(actor)
        self._topics = [user_topic(actor.user_id, "leave"), org_topic(actor.organization_id, "leave_types")]
        return MyLeaveState.watch

    async def _reload(self) -> None:
        await self._load(await self.require())

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/leave", reload=MyLeaveState._reload)

    @rx.event
    async def go_page(self, delta: int):
        self.page = max(1, min(self.page_count, self.page + _int(delta)))
        try:
            await self._load(await self.require())
        except AppError as exc:
            return self._fail(exc)

    # ---- apply form
    @rx.event
    def open_apply(self, type_id: str = ""):
        self.apply_open, self.form_error = True, ""
        if type_id:
            self.f_type = str(_int(type_id) or "")
        elif not self.f_type and self.types:
            self.f_type = str(self.types[0]["id"])

    @rx.event
    def set_apply_open(self, value: bool):
        self.apply_open = bool(value)

    async def _requote(self):
        self.quote_days = self.quote_after = self.quote_note = ""
        self.quote_problems = []
        if not (self.f_type and self.f_start and self.f_end):
            return
        try:
            actor = await self.require()
            q = await run_service(service.quote, actor=actor, leave_type_id=_int(self.f_type),
                                  start_date=self.f_start, end_date=self.f_end, half_day_start=self.f_half_start,
                                  half_day_end=self.f_half_end, reason=self.f_reason,
                                  has_attachment=bool(self._attachment_id))
        except AppError as exc:
            self.quote_problems = [exc.message]
            return
        self.quote_days = _num(q["days"])
        self.quote_after = _num(q["availableAfter"])
        notes = []
        if q["excluded"]:
            notes.append("Not counted: " + ", ".join(q["excluded"]) + ".")
        if q["stepsRequired"] > 1:
            notes.append("Needs your manager's and HR's approval.")
        self.quote_note = " ".join(notes)
        problems = [p["message"] for p in q["problems"]]
        problems += [f"Overlaps your leave of {o}." for o in q["overlaps"]]
        self.quote_problems = problems

    @rx.event
    async def set_f_type(self, value: str):
        self.f_type = str(_int(value) or "")
        if not self.selected_type_half_days:
            self.f_half_start = self.f_half_end = False
        await self._requote()

    @rx.event
    async def set_f_start(self, value: str):
        self.f_start = str(value)[:10]
        if self.f_start and (not self.f_end or self.f_end < self.f_start):
            self.f_end = self.f_start
        await self._requote()

    @rx.event
    async def set_f_end(self, value: str):
        self.f_end = str(value)[:10]
        await self._requote()

    @rx.event
    async def set_f_half_start(self, value: bool):
        self.f_half_start = bool(value)
        await self._requote()

    @rx.event
    async def set_f_half_end(self, value: bool):
        self.f_half_end = bool(value)
        await self._requote()

    @rx.event
    def set_f_reason(self, value: str):
        self.f_reason = str(value)[:2000]

    @rx.event
    async def refresh_quote(self):
        await self._requote()

    @rx.event
    async def upload_attachment(self, files: list[rx.UploadFile]):
        self.attachment_error, self.attachment_busy = "", True
        yield
        try:
            actor = await self.require()
            if not files:
                raise ValidationFailed("Choose a PDF, PNG or JPEG file.")
            upload = files[0]
            data = upload.file.read(core_files.max_bytes() + 1)
            stored = await run_service(service.upload_attachment, actor=actor, filename=upload.name, data=data)
        except AppError as exc:
            self.attachment_busy = False
            if exc.status == 401:
                yield self._denied(exc)
            else:
                self.attachment_error = exc.message
            return
        self._attachment_id, self.attachment_name = stored["id"], stored["name"]
        self.attachment_busy = False
        await self._requote()

    @rx.event
    async def clear_attachment(self):
        self._attachment_id = self.attachment_name = self.attachment_error = ""
        await self._requote()

    @rx.event
    async def submit(self):
        self.busy, self.form_error = True, ""
        yield
        try:
            actor = await self.require()
            leave = await run_service(service.apply_leave, actor=actor, leave_type_id=_int(self.f_type),
                                      start_date=self.f_start, end_date=self.f_end, half_day_start=self.f_half_start,
                                      half_day_end=self.f_half_end, reason=self.f_reason,
                                      attachment_id=self._attachment_id or None)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            if exc.status == 401:
                yield self._denied(exc)
            else:
                self.form_error = exc.message
            return
        self.busy, self.apply_open = False, False
        self.f_start = self.f_end = self.f_reason = ""
        self.f_half_start = self.f_half_end = False
        self._attachment_id = self.attachment_name = self.attachment_error = ""
        self.quote_days = self.quote_after = self.quote_note = ""
        self.quote_problems = []
        yield rx.toast.success(f"Requested {_num(leave.days)} day(s) of {leave.leave_type_name} leave.")

    @rx.event
    async def cancel_request(self, leave_id: int):
        try:
            actor = await self.require()
            await run_service(service.cancel_leave, actor=actor, leave_id=_int(leave_id))
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        return rx.toast.success("Leave cancelled; any days taken were returned.")

    # ---- ledger
    @rx.event
    async def show_ledger(self, leave_type_id: int):
        try:
            actor = await self.require()
            lines = await run_service(service.ledger, actor=actor, leave_type_id=_int(leave_type_id),
                                      year=self.year or None)
        except AppError as exc:
            return self._fail(exc)
        match = next((b for b in self.balances if b["leaveTypeId"] == _int(leave_type_id)), None)
        name = match["leaveTypeName"] if match else "Leave"
        self.ledger_title = f"{name} {self.year}: how the balance adds up"
        self.ledger_lines = [{**ln.dump(), "kindLabel": KIND_LABELS.get(ln.kind, ln.kind),
                              "amountLabel": ("+" if ln.amount > 0 else "") + _num(ln.amount),
                              "runningLabel": _num(ln.running_balance),
                              "dateLabel": ln.entry_date.strftime("%d %b %Y"),
                              "actorLabel": f"by {ln.actor_name}" if ln.actor_name and ln.actor_name not in ln.reason
                              else "",
                              "positive": ln.amount > 0} for ln in lines]
        if match:
            self.ledger_total = (f"Balance {match['balanceLabel']} − pending {match['pendingLabel']} = "
                                 f"available {match['availableLabel']}")
        self.ledger_open = True

    @rx.event
    def set_ledger_open(self, value: bool):
        self.ledger_open = bool(value)


# ================================================================ Approvals (live)


class ApprovalsState(LeaveBase):
    queue: list[dict] = []
    page: int = 1  # of the queue, service.QUEUE_PAGE requests each (the earliest first)
    pages: int = 1
    total: int = 0
    selected: list[int] = []
    dialog_open: bool = False
    dialog_ids: list[int] = []
    dialog_status: str = "approved"
    dialog_title: str = ""
    comment: str = ""
    busy: bool = False
    delegations: list[dict] = []
    candidates: list[dict] = []
    d_delegate: str = ""
    d_start: str = ""
    d_end: str = ""
    d_error: str = ""
    is_hr: bool = False
    _candidates_for: int = 0  # the user the candidates were read for, and when (CANDIDATES_TTL_SECONDS)
    _candidates_at: float = 0.0

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.queue) and len(self.selected) == len(self.queue)

    @rx.var
    def page_label(self) -> str:
        first = (self.page - 1) * service.QUEUE_PAGE + 1
        return f"{first}–{first + len(self.queue) - 1} of {self.total} waiting"

    def _set_queue(self, view: dict, *, opened: bool = False) -> None:
        """A page of the queue (`service.approval_queue_page`). Assigned only where changed, so a live reload that
        finds the page as it was sends nothing to the browser; a page opened (`opened`) is sent whole: the tab asked
        for it, and what it shows then is the server's answer, not what it held before."""
        queue = view["items"]
        ids = {q["id"] for q in queue}
        rows = [{**_leave_row(q), "balanceLabel": _num(q["balance"]), "afterLabel": _num(q["availableAfter"]),
                 "negative": q["availableAfter"] < 0} for q in queue]
        if opened:
            self.queue = rows
        self._assign(page=view["page"], pages=view["pages"], total=view["total"], queue=rows,
                     selected=[i for i in self.selected if i in ids])

    def _load_work(self, *, candidates: bool | None = True) -> Callable[..., tuple]:
        """The unit of work behind the page: the queue's page and the delegations, and the people one may
        delegate to: always (True), never (False), or unless this tab holds them for the same user, read less
        than CANDIDATES_TTL_SECONDS ago (None)."""
        page = self.page
        held_for = self._candidates_for if time.time() - self._candidates_at < CANDIDATES_TTL_SECONDS else 0

        def work(session, actor):
            people = candidates if candidates is not None else actor.user_id != held_for
            return (service.approval_queue_page(session=session, actor=actor, page=page),
                    service.list_delegations(session=session, actor=actor),
                    service.delegate_candidates(session=session, actor=actor) if people else None, actor)

        return work

    def _show_load(self, loaded: tuple, *, opened: bool = False) -> Actor:
        view, delegations, people, actor = loaded
        self._set_queue(view, opened=opened)
        self._assign(delegations=delegations, is_hr=actor.role in HR)
        if people is not None:
            self._assign(candidates=[{"id": str(c["id"]), "name": c["name"]} for c in people])
            self._candidates_for, self._candidates_at = actor.user_id, time.time()
        return actor

    async def _load(self, actor: Actor | None, *, candidates: bool = True) -> None:
        """`_load_work` in one unit of work; without an actor, the session check too."""
        work = self._load_work(candidates=candidates)
        self._show_load(await (self._run_as(work, *APPROVERS) if actor is None else run_service(work, actor=actor)))

    @rx.event
    async def open_page(self):
        # The guard and the page's data in one unit of work (SessionState._open_page_as).
        redirect, loaded = await self._open_page_as("leave_approvals", self._load_work(candidates=None))
        if redirect is not None:
            return redirect
        actor = self._show_load(loaded, opened=True)
        # This approver's own queue topic (and HR's): a request arriving or decided elsewhere reloads the
        # pages that show it, not every approvals page of the organization (leave/service.py queue_topics).
        self._topics = service.approvals_page_topics(actor)
        return ApprovalsState.watch

    async def _reload(self) -> None:
        # Delegations change with the queue topics too; who may be a delegate does not (loaded on open).
        await self._load(None, candidates=False)

    @rx.event
    async def go_page(self, delta: int):
        """The previous (-1) or next (+1) page of the queue. What is selected stays selected only on the page
        shown: bulk decisions act on requests the approver can see."""
        try:
            view = await self._run_as(service.approval_queue_page, *APPROVERS, page=self.page + (1 if _int(delta) > 0
                                                                                                  else -1))
        except AppError as exc:
            return self._fail(exc)
        self._set_queue(view)
        return rx.scroll_to("approvals-queue")  # the pager sits below the list: show the new page from its top

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/leave/approvals", reload=ApprovalsState._reload)

    @rx.event
    def toggle(self, leave_id: int, checked: bool):
        leave_id = _int(leave_id)
        rest = [i for i in self.selected if i != leave_id]
        self.selected = rest + [leave_id] if checked and any(q["id"] == leave_id for q in self.queue) else rest

    @rx.event
    def toggle_all(self, checked: bool):
        self.selected = [q["id"] for q in self.queue] if checked else []

    @rx.event
    def ask(self, leave_id: int, status: str):
        leave_id = _int(leave_id)
        match = next((q for q in self.queue if q["id"] == leave_id), None)
        if match is None:
            return rx.toast.info("This request is no longer waiting.")
        self._open_dialog([leave_id], status, f"{match['employeeName']}: {match['leaveTypeName']}, {match['when']} "
                                              f"({match['daysLabel']} day(s))")

    @rx.event
    def ask_selected(self, status: str):
        if self.selected:
            self._open_dialog(list(self.selected), status, f"{len(self.selected)} selected request(s)")

    def _open_dialog(self, ids: list[int], status: str, title: str) -> None:
        self.dialog_ids, self.dialog_title, self.comment = ids, title, ""
        self.dialog_status = "rejected" if status == "rejected" else "approved"
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

    @rx.event
    def set_comment(self, value: str):
        self.comment = str(value)[:1000]

    @rx.event
    async def confirm(self):
        self.busy = True
        yield
        try:
            result = await self._run_as(service.decide_many, *APPROVERS, leave_ids=list(self.dialog_ids),
                                        status=self.dialog_status, comment=self.comment)
        except AppError as exc:
            self.busy = False
            yield self._fail(exc)
            return
        # The decision is committed: show it at once (rows gone, dialog closed, toast), then reload the queue
        # (balances and team absences of the other rows, requests decided elsewhere) in a second update.
        gone = set(result["done"])  # a refused one stays until the reload says otherwise
        self.queue = [q for q in self.queue if q["id"] not in gone]
        self.selected = [i for i in self.selected if i not in gone]
        self.busy, self.dialog_open = False, False
        word = "Approved" if self.dialog_status == "approved" else "Rejected"
        if result["done"]:
            yield rx.toast.success(f"{word} {len(result['done'])} request(s).")
        for failure in result["failed"]:
            yield rx.toast.error(failure["message"])
        try:
            view = await self._run_as(service.approval_queue_page, *APPROVERS, page=self.page)
        except AppError as exc:
            yield self._fail(exc)
            return
        self._set_queue(view)
        self._own_reload_at = time.time()  # the live watcher need not reload again for this decision
        note_own_change(self.router.session.client_token, "reload", self._own_reload_at)

    # ---- delegation
    @rx.event
    def set_d_delegate(self, value: str):
        self.d_delegate = str(_int(value) or "")

    @rx.event
    def set_d_start(self, value: str):
        self.d_start = str(value)[:10]

    @rx.event
    def set_d_end(self, value: str):
        self.d_end = str(value)[:10]

    @rx.event
    async def add_delegation(self):
        self.d_error = ""
        try:
            actor = await self.require(*APPROVERS)
            await run_service(service.create_delegation, actor=actor, delegate_employee_id=self.d_delegate,
                              start_date=self.d_start, end_date=self.d_end)
            await self._load(actor)
        except AppError as exc:
            if exc.status == 401:
                return self._denied(exc)
            self.d_error = exc.message
            self._candidates_at = 0.0  # perhaps the list was stale: the next opening of the page reads it again
            return None
        self.d_delegate = self.d_start = self.d_end = ""
        return rx.toast.success("Delegation saved: your delegate sees your team's requests in that period.")

    @rx.event
    async def revoke(self, delegation_id: int):
        try:
            actor = await self.require(*APPROVERS)
            await run_service(service.revoke_delegation, actor=actor, delegation_id=_int(delegation_id))
            await self._load(actor)
        except AppError as exc:
            return self._fail(exc)
        return rx.toast.success("Delegation ended.")


# ================================================================ Team calendar


CELL_COLORS = {"approved": "var(--green-9)", "approved_half": "var(--green-6)", "pending": "var(--amber-8)",
               "pending_half": "var(--amber-5)", "holiday": "var(--red-4)", "weekly_off": "var(--gray-4)",
               "working": "transparent"}


class CalendarState(LeaveBase):
    year: int = 0
    month: int = 0
    title: str = ""
    header: list[dict] = []
    rows: list[dict] = []
    holidays: list[dict] = []
    departments: list[dict] = []
    department: str = "all"
    only_off: bool = False
    off_count: int = 0  # rows of people off (approved or pending) this month: "only people off" filters in the page

    async def _load(self, actor) -> None:
        dept = _int(self.department) if self.department != "all" else None

        def work(session):
            return (service.team_calendar(session=session, actor=actor, year=self.year, month=self.month,
                                          department_id=dept),
                    service.departments(session=session, actor=actor))

        data, departments = await run_service(work)
        self.title = data["title"]
        self.header = data["header"]
        # A cell is its state only ("approved", "weekly_off", ...); the page gives it its colour and tooltip.
        # (A colour and a tooltip per cell, and a computed copy of the rows for "only people off", made this
        # the largest page state.)
        self.rows = [{**r, "cells": [c["state"] for c in r["cells"]], "daysOffLabel": _num(r["daysOff"])}
                     for r in data["rows"]]
        self.off_count = sum(1 for r in data["rows"] if r["onLeave"])
        self.holidays = [{**h, "label": dt.date.fromisoformat(h["date"]).strftime("%a %d %b")}
                         for h in data["holidays"]]
        self.departments = [{"id": str(d["id"]), "name": d["name"]} for d in departments]

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("leave_calendar")
        if redirect is not None:
            return redirect
        actor = await self.require(*APPROVERS)
        if not self.year:
            today = utcnow().date()
            self.year, self.month = today.year, today.month
        await self._load(actor)
        self._topics = [org_topic(actor.organization_id, "leave")]
        return CalendarState.watch

    async def _reload(self) -> None:
        await self._load(await self.require(*APPROVERS))

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/leave/calendar", reload=CalendarState._reload)

    @rx.event
    async def shift(self, delta: int):
        index = self.year * 12 + (self.month - 1) + max(-12, min(12, _int(delta)))
        self.year, self.month = index // 12, index % 12 + 1
        try:
            await self._load(await self.require(*APPROVERS))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def set_department(self, value: str):
        self.department = str(value) if str(value) == "all" else str(_int(value))
        try:
            await self._load(await self.require(*APPROVERS))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    def set_only_off(self, value: bool):
        self.only_off = bool(value)


# ================================================================ Setup (types, holidays, allocations)


TYPE_FIELDS = {
    "name": "", "paid": True, "allowHalfDay": True, "yearlyEntitlement": "0", "accrual": "upfront",
    "prorateOnJoining": True, "carryForwardCap": "0", "carryForwardExpiryMonths": "", "maxConsecutiveDays": "",
    "minNoticeDays": "0", "reasonRequiredAboveDays": "", "attachmentRequiredAboveDays": "",
    "countNonWorkingDays": False, "allowNegative": False,
    "hrApprovalAboveDays": "", "color": "blue", "archived": False,
}
ACCRUAL_LABELS = {"upfront": "Up front (1 January / on joining)", "monthly": "Monthly, pro rata",
                  "none": "Allocations only"}


def _optional(value: Any) -> float | None:
    text = str(value if value is not None else "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return float("nan")


class SetupState(LeaveBase):
    tab: str = "types"
    types: list[dict] = []
    type_open: bool = False
    type_id: int = 0
    tf: dict[str, Any] = dict(TYPE_FIELDS)
    type_error: str = ""
    busy: bool = False
    # holidays
    companies: list[dict] = []
    h_company: str = ""
    h_year: int = 0
    holidays: list[dict] = []
    h_open: bool = False
    h_id: int = 0
    h_date: str = ""
    h_name: str = ""
    h_recurring: bool = False
    h_error: str = ""
    csv_text: str = ""
    csv_error: str = ""
    csv_problems: list[str] = []
    # allocations
    people: list[dict] = []
    departments: list[dict] = []
    a_type: str = ""
    a_target: str = "person"
    a_person: str = ""
    a_department: str = ""
    a_company: str = ""
    a_amount: str = ""
    a_reason: str = ""
    a_kind: str = "allocation"
    a_error: str = ""
    # job previews
    preview_job: str = ""
    preview_rows: list[dict] = []

    async def _load(self, actor) -> None:
        if not self.h_year:
            self.h_year = utcnow().date().year

        def work(session):
            types = service.list_types(session=session, actor=actor, include_archived=True)
            companies = org_service.list_companies(session=session, actor=actor)
            return types, companies, service.people_choices(session=session, actor=actor), \
                service.departments(session=session, actor=actor)

        types, companies, people, departments = await run_service(work)
        self.types = [{**t.dump(), "accrualLabel": ACCRUAL_LABELS.get(t.accrual, t.accrual),
                       "entitlementLabel": _num(t.yearly_entitlement),
                       "carryLabel": (_num(t.carry_forward_cap) + (f" (use by month {t.carry_forward_expiry_months})"
                                                                  if t.carry_forward_expiry_months else ""))
                       if t.carry_forward_cap else "none",
                       "rules": _rules(t)} for t in types]
        self.companies = [{"id": str(c.id), "name": c.name} for c in companies]
        if not self.h_company and self.companies:
            self.h_company = self.companies[0]["id"]
        self.people = [{"id": str(p["id"]), "name": p["name"]} for p in people]
        self.departments = [{"id": str(d["id"]), "name": d["name"]} for d in departments]
        if not self.a_type and self.types:
            self.a_type = str(self.types[0]["id"])
        await self._load_holidays(actor)

    async def _load_holidays(self, actor) -> None:
        if not self.h_company:
            self.holidays = []
            return
        rows = await run_service(holiday_service.list_holidays, actor=actor, company_id=_int(self.h_company),
                                 year=self.h_year)
        self.holidays = rows

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("leave_setup")
        if redirect is not None:
            return redirect
        actor = await self.require(*HR)
        await self._load(actor)
        self._topics = [org_topic(actor.organization_id, "leave_types"), org_topic(actor.organization_id, "holidays")]
        return SetupState.watch

    async def _reload(self) -> None:
        await self._load(await self.require(*HR))

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/leave/setup", reload=SetupState._reload)

    @rx.event
    def set_tab(self, value: str):
        self.tab = value if value in ("types", "holidays", "allocations", "jobs") else "types"

    # ---- types
    @rx.event
    def new_type(self):
        self.type_id, self.tf, self.type_error, self.type_open = 0, dict(TYPE_FIELDS), "", True

    @rx.event
    def edit_type(self, type_id: int):
        t = next((t for t in self.types if t["id"] == _int(type_id)), None)
        if t is None:
            return
        self.type_id, self.type_error, self.type_open = t["id"], "", True
        self.tf = {k: (t.get(k) if isinstance(TYPE_FIELDS[k], bool) else
                       ("" if t.get(k) is None else _num(t[k]) if isinstance(t.get(k), int | float) else str(t[k])))
                   for k in TYPE_FIELDS}

    @rx.event
    def set_type_open(self, value: bool):
        self.type_open = bool(value)

    @rx.event
    def set_tf(self, key: str, value: Any):
        if key not in TYPE_FIELDS:
            return
        value = bool(value) if isinstance(TYPE_FIELDS[key], bool) else str(value)[:120]
        self.tf = {**self.tf, key: value}

    @rx.event
    async def save_type(self):
        self.type_error, self.busy = "", True
        yield
        f = self.tf
        try:
            actor = await self.require(*HR)
            data = LeaveTypeInput(
                name=str(f["name"]), paid=bool(f["paid"]), allow_half_day=bool(f["allowHalfDay"]),
                yearly_entitlement=_optional(f["yearlyEntitlement"]) or 0.0, accrual=str(f["accrual"]),
                prorate_on_joining=bool(f["prorateOnJoining"]),
                carry_forward_cap=_optional(f["carryForwardCap"]) or 0.0,
                carry_forward_expiry_months=_int(f["carryForwardExpiryMonths"]) or None,
                max_consecutive_days=_optional(f["maxConsecutiveDays"]),
                min_notice_days=_int(f["minNoticeDays"], -1) if str(f["minNoticeDays"]).strip() else 0,
                reason_required_above_days=_optional(f["reasonRequiredAboveDays"]),
                attachment_required_above_days=_optional(f["attachmentRequiredAboveDays"]),
                count_non_working_days=bool(f["countNonWorkingDays"]), allow_negative=bool(f["allowNegative"]),
                hr_approval_above_days=_optional(f["hrApprovalAboveDays"]), color=str(f["color"]),
                archived=bool(f["archived"]))
            if self.type_id:
                await run_service(service.update_type, actor=actor, leave_type_id=self.type_id, data=data)
            else:
                await run_service(service.create_type, actor=actor, data=data)
            await self._load(actor)
        except AppError as exc:
            self.busy = False
            if exc.status == 401:
                yield self._denied(exc)
            else:
                self.type_error = exc.message
            return
        except ValueError as exc:
            self.busy, self.type_error = False, str(exc).splitlines()[0]
            return
        self.busy, self.type_open = False, False
        yield rx.toast.success("Leave type saved.")

    # ---- holidays
    @rx.event
    async def set_h_company(self, value: str):
        self.h_company = str(_int(value) or "")
        try:
            await self._load_holidays(await self.require(*HR))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    async def shift_year(self, delta: int):
        self.h_year = max(2000, min(2100, self.h_year + max(-1, min(1, _int(delta)))))
        try:
            await self._load_holidays(await self.require(*HR))
        except AppError as exc:
            return self._fail(exc)

    @rx.event
    def new_holiday(self):
        self.h_id, self.h_date, self.h_name, self.h_recurring, self.h_error = 0, "", "", False, ""
        self.h_open = True

    @rx.event
    def edit_holiday(self, holiday_id: int):
        h = next((h for h in self.holidays if h["id"] == _int(holiday_id)), None)
        if h is None:
            return
        self.h_id, self.h_date, self.h_name, self.h_recurring = h["id"], h["storedDate"], h["name"], h["recurring"]
        self.h_error, self.h_open = "", True

    @rx.event
    def set_h_open(self, value: bool):
        self.h_open = bool(value)

    @rx.event
    def set_h_date(self, value: str):
        self.h_date = str(value)[:10]

    @rx.event
    def set_h_name(self, value: str):
        self.h_name = str(value)[:120]

    @rx.event
    def set_h_recurring(self, value: bool):
        self.h_recurring = bool(value)

    @rx.event
    async def save_holiday(self):
        self.h_error = ""
        try:
            actor = await self.require(*HR)
            if self.h_id:
                await run_service(holiday_service.update_holiday, actor=actor, holiday_id=self.h_id, date=self.h_date,
                                  name=self.h_name, recurring=self.h_recurring)
            else:
                await run_service(holiday_service.create_holiday, actor=actor, company_id=_int(self.h_company),
                                  date=self.h_date, name=self.h_name, recurring=self.h_recurring)
            await self._load_holidays(actor)
        except AppError as exc:
            if exc.status == 401:
                return self._denied(exc)
            self.h_error = exc.message
            return None
        self.h_open = False
        return rx.toast.success("Holiday saved.")

    @rx.event
    async def delete_holiday(self, holiday_id: int):
        try:
            actor = await self.require(*HR)
            await run_service(holiday_service.delete_holiday, actor=actor, holiday_id=_int(holiday_id))
            await self._load_holidays(actor)
        except AppError as exc:
            return self._fail(exc)
        return rx.toast.success("Holiday removed.")

    @rx.event
    def set_csv_text(self, value: str):
        self.csv_text = str(value)[:100_000]

    @rx.event
    async def upload_csv(self, files: list[rx.UploadFile]):
        for file in files[:1]:
            data = await file.read()
            if len(data) > holiday_service.MAX_CSV_BYTES:
                self.csv_error = "The file is too large (at most 100 KB)."
                return
            try:
                self.csv_text = data.decode("utf-8-sig")
                self.csv_error = ""
            except UnicodeDecodeError:
                self.csv_error = "The file is not UTF-8 text. Save it as CSV (UTF-8) and try again."

    @rx.event
    async def import_csv(self):
        self.csv_error, self.csv_problems = "", []
        try:
            actor = await self.require(*HR)
            result = await run_service(holiday_service.import_csv, actor=actor, company_id=_int(self.h_company),
                                       year=self.h_year, text=self.csv_text)
            await self._load_holidays(actor)
        except AppError as exc:
            if exc.status == 401:
                return self._denied(exc)
            self.csv_error = exc.message
            self.csv_problems = [f"{d.get('field', '')}: {d.get('message', '')}" for d in exc.details][:20]
            return None
        self.csv_text = ""
        skipped = f"; {len(result['skipped'])} already there" if result["skipped"] else ""
        return rx.toast.success(f"Imported {result['created']} holiday(s){skipped}.")

    # ---- allocations
    @rx.event
    def set_a(self, key: str, value: Any):
        if key in ("a_type", "a_person", "a_department", "a_company"):
            setattr(self, key, str(_int(value) or ""))
        elif key == "a_target" and value in ("person", "department", "company", "everyone"):
            self.a_target = value
        elif key == "a_kind" and value in ("allocation", "adjustment"):
            self.a_kind = value
        elif key == "a_amount":
            self.a_amount = str(value)[:10]
        elif key == "a_reason":
            self.a_reason = str(value)[:300]

    @rx.event
    async def allocate(self):
        self.a_error = ""
        amount = _optional(self.a_amount)
        try:
            actor = await self.require(*HR)
            count = await run_service(
                service.allocate, actor=actor, leave_type_id=_int(self.a_type), amount=amount,
                reason=self.a_reason, kind=self.a_kind,
                employee_ids=[_int(self.a_person)] if self.a_target == "person" and self.a_person else None,
                department_id=_int(self.a_department) if self.a_target == "department" else None,
                company_id=_int(self.a_company) if self.a_target == "company" else None,
                everyone=self.a_target == "everyone")
        except AppError as exc:
            if exc.status == 401:
                return self._denied(exc)
            self.a_error = exc.message
            return None
        self.a_amount = self.a_reason = ""
        return rx.toast.success(f"Recorded for {count} person(s); it shows in their ledger.")

    # ---- job previews
    @rx.event
    async def preview(self, job: str):
        try:
            actor = await self.require(*HR)
            rows = await run_service(service.preview_jobs, actor=actor, job=str(job)[:20])
        except AppError as exc:
            return self._fail(exc)
        self.preview_job = str(job)
        self.preview_rows = [{**r, "amountLabel": ("+" if r["amount"] > 0 else "") + _num(r["amount"])}
                             for r in rows[:200]]
        return None


def _rules(t) -> str:
    parts = []
    if t.min_notice_days:
        parts.append(f"{t.min_notice_days}d notice")
    if t.max_consecutive_days:
        parts.append(f"max {_num(t.max_consecutive_days)}d in a row")
    if t.reason_required_above_days is not None:
        parts.append(f"reason above {_num(t.reason_required_above_days)}d")
    if t.attachment_required_above_days is not None:
        parts.append(f"document above {_num(t.attachment_required_above_days)}d")
    if t.hr_approval_above_days is not None:
        parts.append(f"HR approves above {_num(t.hr_approval_above_days)}d")
    if t.count_non_working_days:
        parts.append("sandwich rule")
    if t.allow_negative:
        parts.append("may go negative")
    if not t.allow_half_day:
        parts.append("whole days only")
    return ", ".join(parts) or "—"
