"""The signed-in session every page state builds on.

The browser holds only an opaque token (cookie `hr_session`); who the user is, their role and
organization are looked up server-side on every event through the auth service, so a forged event
or a stale tab can never act as someone else, and a signed-out, deactivated or re-passworded
session stops working at once. The look-up is one statement (`auth_service.ui_session_lookup`); a
page's on_load that calls `guard_page` and then `require` in the same event looks it up once (the
result is remembered for that one event only, never across events).

One page's data at a time: Reflex keeps every substate a tab ever filled until the tab signs out, so
a tab that toured the portal carried every page's lists in its server-side state (in Redis with
several workers). When a page's on_load calls `guard_page`, the page states that hold the data of
other pages this tab visited are reset to their defaults. SessionState keeps the (short) list of
those states, `_holding`, so a navigation loads only them from the state manager, not every
substate. The states of a page are the states of its route's on_load handlers; states that other
pages or the layout share (the notifications bell, the check-in card, the report filters) have no
on_load of their own and are never dropped. A page state that must survive leaving its page (an
employee import still applying) says so in `_keep_on_leave`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import reflex as rx

from hr_portal.auth import service as auth_service
from hr_portal.auth.models import Role
from hr_portal.core.authz import PAGE_ROLES, Actor, nav_for
from hr_portal.core.config import get_settings
from hr_portal.core.db import run_unit, session_scope
from hr_portal.core.errors import AppError, Forbidden, Unauthorized

T = TypeVar("T")

ROLE_LABELS = {"admin": "Admin", "hr_manager": "HR manager", "manager": "Manager", "employee": "Employee"}


async def run_service(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a service function in a worker thread inside one unit of work (commit or roll back)."""

    def work() -> T:
        with session_scope() as session:
            return fn(session=session, **kwargs)

    return await asyncio.to_thread(work)


def _lookup(token: str, ip: str | None, user_agent: str | None) -> Callable[[Any], tuple[Actor, dict] | None]:
    return lambda session: _profile(auth_service.ui_session_lookup(session=session, token=token, ip=ip,
                                                                   user_agent=user_agent))


def _profile(found: tuple[Actor, Any, str] | None) -> tuple[Actor, dict] | None:
    """A session look-up's actor and what the top bar shows of them."""
    if found is None:
        return None
    actor, profile, org_name = found
    return actor, {"name": f"{profile.first_name} {profile.last_name}".strip() or profile.email,
                   "email": profile.email, "org": org_name}


# (event id, session token, actor) that `guard_page` validated in the event being processed; the next
# `actor()` of the same event takes it instead of looking the session up again. A context variable:
# every Reflex event runs in its own asyncio task (with a copy of the context), so nothing here
# outlives the event, whatever the state manager keeps in memory; the event id guards the rest.
_GUARDED: ContextVar[tuple[str, str, Actor] | None] = ContextVar("hr_portal_guarded_actor", default=None)


def _event_id() -> str:
    """The transaction id of the Reflex event being processed, "" outside one."""
    from reflex_base.event.context import EventContext

    try:
        return EventContext.get().txid
    except LookupError:
        return ""


def _route_states(path: str) -> set[str]:
    """Full names of the page states whose on_load handlers run for `path` (the states of that page)."""
    from reflex.istate.shared import RegistrationContext

    try:
        app = RegistrationContext.get().app
    except LookupError:
        return set()
    names = set()
    for event in app.get_load_events(path):
        cls = getattr(getattr(event, "handler", event), "state", None)
        if isinstance(cls, type) and issubclass(cls, SessionState) and cls is not SessionState:
            names.add(cls.get_full_name())
    return names


def _page_states(cls: type[rx.State]) -> list[type[rx.State]]:
    """Every state below `cls` (the page states of the app), depth first."""
    found: list[type[rx.State]] = []
    for sub in sorted(cls.get_substates(), key=lambda c: c.get_full_name()):
        found += [sub, *_page_states(sub)]
    return found


class SessionState(rx.State):
    """Base of every page state. Public vars here are display-only; authorization never reads them."""

    session_token: str = rx.Cookie("", name="hr_session", path="/", same_site="strict",
                                   max_age=get_settings().ui_session_hours * 3600,
                                   secure=get_settings().base_url.startswith("https://"))
    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    org_name: str = ""
    nav: list[dict[str, str]] = []
    # The role `nav` was built for (`_signed_in_as` rebuilds it only when the role changes).
    _nav_role: str = ""
    # Backend-only (never sent to the browser): bumps when a page starts a live watcher (ui/live.py).
    _live_generation: int = 0
    _topics: list[str] = []
    # When a handler last reloaded its page after the tab's own change (ui/live.py skips the echo).
    _own_reload_at: float = 0.0
    # Full names of the page states holding a page's data (see the module docstring).
    _holding: list[str] = []

    @rx.var
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @rx.var
    def initials(self) -> str:
        parts = [p for p in self.user_name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    def _client(self) -> tuple[str | None, str | None]:
        return self.router.session.client_ip or None, self.router.headers.user_agent or None

    async def actor(self) -> Actor | None:
        """The current actor, re-validated against the database (None when signed out or revoked)."""
        if not self.session_token:
            return None
        guarded = _GUARDED.get()
        if guarded is not None:
            _GUARDED.set(None)  # once: a handler that looks again later in the event gets a fresh look-up
            event = _event_id()
            if event and guarded[0] == event and guarded[1] == self.session_token:
                return guarded[2]
        ip, ua = self._client()
        return await self._signed_in_as(await run_unit(_lookup(self.session_token, ip, ua)))

    async def _signed_in_as(self, found: tuple[Actor, dict] | None) -> Actor | None:
        """Apply a session look-up to the tab: who is signed in, or nobody (the tab's pages forgotten)."""
        if found is None:
            self._clear()
            await self._forget_pages()
            return None
        actor, profile = found
        # Every event: only what changed is assigned (the navigation list, the computed initials and role label
        # would otherwise go to the browser, and its menu re-render, each time).
        self._assign(signed_in=True, user_name=profile["name"], user_email=profile["email"], org_name=profile["org"],
                     role=actor.role.value)
        if self._nav_role != self.role:
            self.nav, self._nav_role = nav_for(actor.role), self.role
        return actor

    def _assign(self, **values: Any) -> None:
        """Set the vars whose value differs. Reflex marks a var dirty on every assignment, even of an equal value,
        and a dirty var is written back to the state manager and sent to the browser, which re-renders what shows
        it: a live page reloading unchanged data would send all of it again."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _run_as(self, fn: Callable[..., T], /, *roles: Role, **kwargs: Any) -> T:
        """`require(*roles)`, then `fn(session=..., actor=..., **kwargs)`: the session check and the
        handler's database work in one worker thread and one unit of work (one thread hop and one
        transaction instead of two; the check-in click runs this for everyone at 9:00). The look-up only
        reads, so rolling the unit back for the handler's error loses nothing of it."""
        if not self.session_token:
            raise Unauthorized("Your session has ended. Sign in again.")
        token, (ip, ua) = self.session_token, self._client()

        def work(session) -> tuple[tuple[Actor, dict] | None, T | None]:
            found = _profile(auth_service.ui_session_lookup(session=session, token=token, ip=ip, user_agent=ua))
            if found is None or (roles and found[0].role not in roles):
                return found, None
            return found, fn(session=session, actor=found[0], **kwargs)

        found, result = await run_unit(work)
        actor = await self._signed_in_as(found)
        if actor is None:
            raise Unauthorized("Your session has ended. Sign in again.")
        if roles and actor.role not in roles:
            raise Forbidden("Your role does not allow this action.")
        return result  # type: ignore[return-value]

    async def require(self, *roles: Role) -> Actor:
        """Deny by default; raises Unauthorized/Forbidden, which `guarded` turns into a redirect/toast."""
        actor = await self.actor()
        if actor is None:
            raise Unauthorized("Your session has ended. Sign in again.")
        if roles and actor.role not in roles:
            raise Forbidden("Your role does not allow this action.")
        return actor

    async def _forget_pages(self) -> None:
        """Reset every page state of this tab (browser token) to its defaults.

        Reflex keeps a tab's state on the server across sign-outs, and a reload (hydrate) sends all
        of it to the browser: without this, the next person to sign in on the same tab, or anyone
        reloading it signed out, would receive what the previous user had loaded (mail outbox,
        audit log, profiles). Called when a session ends (sign-out, refused session) and on sign-in.
        """
        for cls in _page_states(SessionState):
            (await self.get_state(cls)).reset()
        self._holding = []

    def _keep_on_leave(self) -> bool:
        """Whether this page state keeps its data when the tab opens another page (default: no)."""
        return False

    async def _enter_page(self) -> None:
        """The tab opened the current page: reset the page states holding other pages' data."""
        current = _route_states(self.router.url.path or "/")
        held = list(self._holding)
        kept = set(current)
        if not held and not kept:
            return
        by_name = {cls.get_full_name(): cls for cls in _page_states(SessionState)}
        for name in held:
            if name in current or (cls := by_name.get(name)) is None:
                continue
            state = await self.get_state(cls)  # only the few states in the list are loaded
            if state._keep_on_leave():
                kept.add(name)
            else:
                state.reset()
        if held != sorted(kept):
            self._holding = sorted(kept)

    def _clear(self) -> None:
        self.session_token = ""
        self.signed_in = False
        self.user_name = self.user_email = self.role = self.org_name = self._nav_role = ""
        self.nav = []

    def _denied(self, exc: AppError):
        if isinstance(exc, Unauthorized):
            return [rx.redirect(f"/login?next={self.router.url.path or '/'}"), rx.toast.info(exc.message)]
        return rx.toast.error(exc.message)

    @rx.event
    async def check_session(self):
        """on_load of every signed-in page: anonymous visitors go to sign-in."""
        if await self.actor() is None:
            path = self.router.url.path or "/"
            return rx.redirect(f"/login?next={path}" if path not in ("/", "/login") else "/login", replace=True)
        await self._enter_page()

    @rx.event
    async def sign_out(self):
        token = self.session_token
        if token:
            await run_service(auth_service.end_ui_session, token=token)
        self._clear()
        await self._forget_pages()
        # A pushed (not replaced) entry: Back lands on a signed-in page whose guard sends it to sign-in.
        return rx.redirect("/login")

    @rx.event
    async def guard_page(self, page: str):
        """on_load of a role-restricted page: the allowed roles come from the server-side PAGE_ROLES table."""
        return await self._admit(page, await self.actor())

    async def _admit(self, page: str, actor: Actor | None):
        """`guard_page`'s verdict on a looked-up actor: a redirect, or None (admitted)."""
        if actor is None:
            path = self.router.url.path or "/"
            return rx.redirect(f"/login?next={path}", replace=True)
        await self._enter_page()
        if actor.role not in PAGE_ROLES.get(page, frozenset()):
            return rx.redirect("/not-allowed", replace=True)
        if event := _event_id():
            _GUARDED.set((event, self.session_token, actor))
        return None

    async def _open_page_as(self, page: str, fn: Callable[..., T], /, **kwargs: Any) -> tuple[Any, T | None]:
        """`guard_page(page)`, then the page's first read `fn(session=..., actor=..., **kwargs)`: the session
        check, the role check and the read in one thread hop and one unit of work (a page opens with one trip
        to the database thread instead of two). Returns (the guard's redirect, None) for a refused visitor,
        else (None, what `fn` returned); `fn` runs only for an admitted one."""
        if not self.session_token:
            return await self._admit(page, None), None
        token, (ip, ua), allowed = self.session_token, self._client(), PAGE_ROLES.get(page, frozenset())

        def work(session) -> tuple[tuple[Actor, dict] | None, T | None]:
            found = _profile(auth_service.ui_session_lookup(session=session, token=token, ip=ip, user_agent=ua))
            if found is None or found[0].role not in allowed:
                return found, None
            return found, fn(session=session, actor=found[0], **kwargs)

        found, result = await run_unit(work)
        redirect = await self._admit(page, await self._signed_in_as(found))
        return (redirect, None) if redirect is not None else (None, result)
