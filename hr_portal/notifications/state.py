"""UI state: the bell (every signed-in page), the notifications page, preferences, the admin mail outbox.

The bell has its own live watcher (not ui/live.py's page watcher, whose generation counter and topics
live on SessionState and belong to the page): it follows `user_topic(user_id, "inbox")`, so every open
session of the user updates when a notification arrives or is read elsewhere, across processes
through Redis. It is started by the bell's on_mount on each page and stops when the browser leaves
(disconnect) or the bell mounts again (generation bump).
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core.errors import AppError
from hr_portal.core.live import hub, user_topic
from hr_portal.notifications import service
from hr_portal.notifications.models import CHANNEL_LABELS, KINDS
from hr_portal.ui.live import SAFETY_RELOAD_EVERY, WAKE_SECONDS, live_loop
from hr_portal.ui.session import SessionState, run_service

log = logging.getLogger(__name__)

PAGE_SIZE = 25
OUTBOX_PAGE_SIZE = 25


def _safe_link(link: str) -> str:
    """Only in-portal paths are followed (a stored link never sends anyone off-site)."""
    return link if link.startswith("/") and not link.startswith("//") else "/notifications"


def _item(n: Any) -> dict[str, Any]:
    d = n.model_dump()
    d["link"] = _safe_link(d["link"] or "/notifications")
    return d


def _token_manager():
    from hr_portal.ui.live import _token_manager as manager

    return manager()


class NotificationBellState(SessionState):
    bell_unread: int = 0
    bell_items: list[dict] = []
    bell_open: bool = False
    bell_busy: bool = False
    _bell_generation: int = 0
    _bell_user_id: int = 0

    @rx.var
    def bell_badge(self) -> str:
        return "99+" if self.bell_unread > 99 else str(self.bell_unread)

    @rx.var
    def bell_label(self) -> str:
        return f"Notifications, {self.bell_unread} unread" if self.bell_unread else "Notifications"

    async def _bell_load(self, actor) -> None:
        summary = await run_service(service.inbox_summary, actor=actor)
        self.bell_unread = summary["unread"]
        self.bell_items = [_item(n) for n in summary["items"]]

    async def _bell_reload(self) -> bool:
        actor = await self.actor()
        if actor is None or actor.user_id != self._bell_user_id:
            return False
        await self._bell_load(actor)
        return True

    @rx.event
    async def start_bell(self):
        """on_mount of the bell: load the count and the latest, then follow the user's inbox topic."""
        actor = await self.actor()
        if actor is None:
            return None
        await self._bell_load(actor)
        self._bell_user_id = actor.user_id
        self._bell_generation += 1
        return NotificationBellState.watch_bell

    @rx.event(background=True)
    async def watch_bell(self):
        async with self:
            user_id, generation = self._bell_user_id, self._bell_generation
            token = self.router.session.client_token
        if not user_id:
            return
        manager = _token_manager()
        async with hub().subscribe([user_topic(user_id, "inbox")]) as sub:
            quiet = 0
            while True:
                changed = await sub.wait(WAKE_SECONDS)
                quiet = 0 if changed else quiet + 1
                if quiet >= SAFETY_RELOAD_EVERY:
                    changed, quiet = True, 0
                if manager is not None and not await manager.is_token_connected(token):
                    return
                async with self:
                    if self._bell_generation != generation or self._bell_user_id != user_id:
                        return
                    if changed:
                        try:
                            if not await self._bell_reload():
                                return
                        except Exception:
                            log.exception("bell reload failed")

    @rx.event
    def set_bell_open(self, value: bool):
        self.bell_open = bool(value)

    @rx.event
    async def open_item(self, notification_id: int):
        """Mark read and go to what the notification is about (the link comes from the server's record)."""
        try:
            actor = await self.require()
            n = await run_service(service.mark_read, actor=actor, notification_id=notification_id)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        self.bell_open = False
        await self._bell_load(actor)
        return rx.redirect(_safe_link(n.link))

    @rx.event
    async def mark_all_read(self):
        self.bell_busy = True
        yield
        try:
            actor = await self.require()
            await run_service(service.mark_all_read, actor=actor)
            await self._bell_load(actor)
        except AppError as exc:
            self.bell_busy = False
            yield self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
            return
        self.bell_busy = False


class NotificationsPageState(SessionState):
    items: list[dict] = []
    total: int = 0
    page: int = 1
    show: str = "all"  # all | unread
    kind: str = "all"
    kind_options: list[dict] = []
    loaded: bool = False

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @rx.var
    def range_text(self) -> str:
        if not self.total:
            return ""
        first = (self.page - 1) * PAGE_SIZE + 1
        return f"{first}–{min(self.total, first + PAGE_SIZE - 1)} of {self.total}"

    @rx.var
    def empty_text(self) -> str:
        if self.show == "unread":
            return "No unread notifications. You're all caught up."
        if self.kind != "all":
            return "Nothing of this kind yet."
        return "No notifications yet. Requests to approve, decisions and reminders will appear here."

    async def _load(self, actor) -> None:
        items, total = await run_service(service.list_notifications, actor=actor, unread_only=self.show == "unread",
                                         kind=None if self.kind == "all" else self.kind, page=self.page,
                                         limit=PAGE_SIZE)
        if not items and self.page > 1 and total:
            self.page = max(1, -(-total // PAGE_SIZE))
            items, total = await run_service(service.list_notifications, actor=actor,
                                             unread_only=self.show == "unread",
                                             kind=None if self.kind == "all" else self.kind, page=self.page,
                                             limit=PAGE_SIZE)
        self.items, self.total, self.loaded = [_item(n) for n in items], total, True

    async def _reload(self) -> None:
        actor = await self.actor()
        if actor is not None:
            await self._load(actor)

    @rx.event
    async def open_page(self):
        redirect = await self.guard_page("notifications")
        if redirect is not None:
            return redirect
        actor = await self.require()
        self.kind_options = [{"value": "all", "label": "All kinds"}] + service.kind_options(actor.role)
        await self._load(actor)
        self._topics = [user_topic(actor.user_id, "inbox")]
        return NotificationsPageState.watch

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/notifications", reload=NotificationsPageState._reload)

    async def _refilter(self):
        try:
            actor = await self.require()
            self.page = 1
            await self._load(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return None

    @rx.event
    async def set_show(self, value: str | list[str]):
        self.show = "unread" if value == "unread" else "all"
        return await self._refilter()

    @rx.event
    async def set_kind(self, value: str):
        value = str(value)
        self.kind = value if value in KINDS else "all"
        return await self._refilter()

    @rx.event
    async def go_page(self, delta: int):
        try:
            delta = int(delta)
        except (TypeError, ValueError):
            return None
        target = min(max(1, self.page + (1 if delta > 0 else -1)), self.page_count)
        if target == self.page:
            return None
        self.page = target
        try:
            await self._load(await self.require())
        except AppError as exc:
            return self._denied(exc)
        return None

    @rx.event
    async def mark_read(self, notification_id: int):
        try:
            actor = await self.require()
            await run_service(service.mark_read, actor=actor, notification_id=notification_id)
            await self._load(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return None

    @rx.event
    async def open_item(self, notification_id: int):
        try:
            actor = await self.require()
            n = await run_service(service.mark_read, actor=actor, notification_id=notification_id)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return rx.redirect(_safe_link(n.link))

    @rx.event
    async def mark_all_read(self):
        try:
            actor = await self.require()
            changed = await run_service(service.mark_all_read, actor=actor,
                                        kind=None if self.kind == "all" else self.kind)
            await self._load(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return rx.toast.success(f"Marked {changed} notification{'s' if changed != 1 else ''} as read.")


class NotificationPrefsState(SessionState):
    prefs: list[dict] = []
    share: bool = True

    async def _load(self, actor) -> None:
        def work(session):
            prefs = service.get_preferences(session=session, actor=actor)
            return prefs, service.get_celebration_sharing(session=session, actor=actor)

        prefs, share = await run_service(work)
        self.prefs = [{"kind": p.kind, "label": p.label, "description": p.description, "channel": p.channel.value,
                       "options": [{"value": o.value, "label": CHANNEL_LABELS[o.value]} for o in p.options]}
                      for p in prefs]
        self.share = share

    @rx.event
    async def open_prefs(self):
        redirect = await self.guard_page("notification_preferences")
        if redirect is not None:
            return redirect
        await self._load(await self.require())
        return None

    @rx.event
    async def set_channel(self, kind: str, channel: str):
        try:
            actor = await self.require()
            saved = await run_service(service.set_preference, actor=actor, kind=str(kind)[:40],
                                      channel=str(channel)[:10])
            await self._load(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return rx.toast.success(f"{saved.label}: {CHANNEL_LABELS[saved.channel.value].lower()}.")

    @rx.event
    async def set_share(self, value: bool):
        try:
            actor = await self.require()
            await run_service(service.set_celebration_sharing, actor=actor, share=bool(value))
            self.share = bool(value)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)
        return rx.toast.success("Your team will see your birthday and work anniversary." if value
                                else "Your birthday and work anniversary stay private.")


class MailOutboxState(SessionState):
    mails: list[dict] = []
    total: int = 0
    page: int = 1
    status: str = "all"
    search: str = ""
    counts: dict[str, int] = {"pending": 0, "sent": 0, "failed": 0}
    resending_id: int = 0
    detail_open: bool = False
    detail: dict[str, Any] = {}

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // OUTBOX_PAGE_SIZE))

    @rx.var
    def range_text(self) -> str:
        if not self.total:
            return ""
        first = (self.page - 1) * OUTBOX_PAGE_SIZE + 1
        return f"{first}–{min(self.total, first + OUTBOX_PAGE_SIZE - 1)} of {self.total}"

    async def _load(self, actor) -> None:
        mails, total, counts = await run_service(service.list_outbox, actor=actor, status=self.status,
                                                 search=self.search, page=self.page, limit=OUTBOX_PAGE_SIZE)
        self.mails = [m.model_dump() for m in mails]
        self.total, self.counts = total, counts

    async def _guarded(self, fn):
        try:
            actor = await self.require(Role.admin)
            return await fn(actor)
        except AppError as exc:
            return self._denied(exc) if exc.status in (401, 403) else rx.toast.error(exc.message)

    @rx.event
    async def open_outbox(self):
        redirect = await self.guard_page("mail_outbox")
        if redirect is not None:
            return redirect
        return await self._guarded(self._load)

    @rx.event
    async def set_status(self, value: str | list[str]):
        self.status = value if isinstance(value, str) and value in service.OUTBOX_STATUSES else "all"
        self.page = 1
        return await self._guarded(self._load)

    @rx.event
    async def search_mails(self, form: dict):
        self.search = str(form.get("search", ""))[:200].strip()
        self.page = 1
        return await self._guarded(self._load)

    @rx.event
    async def go_page(self, delta: int):
        try:
            step = 1 if int(delta) > 0 else -1
        except (TypeError, ValueError):
            return None
        self.page = min(max(1, self.page + step), self.page_count)
        return await self._guarded(self._load)

    @rx.event
    async def resend(self, mail_id: int):
        try:
            actor = await self.require(Role.admin)
        except AppError as exc:
            yield self._denied(exc)
            return
        self.resending_id = int(mail_id) if str(mail_id).isdigit() else 0
        yield
        try:
            m = await run_service(service.resend_mail, actor=actor, mail_id=mail_id)
            await self._load(actor)
        except AppError as exc:
            self.resending_id = 0
            yield rx.toast.error(exc.message)
            return
        self.resending_id = 0
        yield rx.toast.success(f"Mail to {m.to} is queued again.")

    @rx.event
    async def view(self, mail_id: int):
        async def work(actor):
            self.detail = await run_service(service.get_mail, actor=actor, mail_id=mail_id)
            self.detail_open = True

        return await self._guarded(work)

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)
