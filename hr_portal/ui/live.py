"""Live pages: a background task per open page that reloads the page's data when one of its topics
fires (see core/live.py), and stops when the browser disconnects or the user leaves the page.

Usage in a page state (a subclass of SessionState):

    @rx.event(background=True)
    async def watch(self):
        await live_loop(self, path="/leave/approvals", reload=LeaveQueueState._reload)

and return `PageState.watch` from the page's on_load after it set `self._topics` (the topics to
follow, e.g. `[org_topic(org_id, "leave")]`) and loaded data.
`reload` is an async method of the state called with the state locked (`async with self`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from hr_portal.core.live import hub

log = logging.getLogger(__name__)

WAKE_SECONDS = 20.0  # how often a quiet watcher checks that its browser is still connected
SAFETY_RELOAD_EVERY = 3  # quiet wake-ups between reloads (about a minute)
# A busy topic (an organization's leave or attendance during the morning rush) fires many times a second
# and every open page that follows it reloads: without a pause each watcher reloaded back to back, holding
# its tab's state lock and a database connection most of the time. After a reload a watcher waits this
# long before the next one; changes in between are folded into it. A change after a quiet spell still
# reloads at once. (bench/run.py scenario 5, docs/performance.md "Benchmark suite (issue 9)".)
MIN_RELOAD_SECONDS = 3.0
# A page that has just reloaded itself after its own change (an approval, say) would reload again when its
# own change comes back through the topic. The handler records `state._own_reload_at = time.time()`; a
# change arriving within this many seconds of it is taken as that echo. A change from elsewhere in the
# window shows at the next change or the safety reload (SAFETY_RELOAD_EVERY x WAKE_SECONDS).
OWN_CHANGE_ECHO_SECONDS = 2.0

# When each tab served by this process last made a change of its own ((client token, kind) -> time.time()). A
# tab's events and its watchers run in the process holding its websocket, so a watcher woken by the echo of
# its tab's own change recognises it here, without taking the tab's state lock (a state read and write in
# Redis) only to find that there is nothing to do. The checks under the lock stay for everything else.
_OWN_CHANGES: dict[tuple[str, str], float] = {}
_OWN_CHANGES_MAX = 10_000


def note_own_change(token: str, kind: str, at: float | None = None) -> None:
    """Record that the tab `token` has just changed something of `kind` and shown the result itself."""
    key = (token, kind)
    _OWN_CHANGES.pop(key, None)  # re-inserted: the dict stays in the order of the changes, oldest first
    _OWN_CHANGES[key] = time.time() if at is None else at
    while len(_OWN_CHANGES) > _OWN_CHANGES_MAX:  # forget the oldest (at worst, one watcher reloads for nothing)
        del _OWN_CHANGES[next(iter(_OWN_CHANGES))]


def own_echo(token: str, kind: str, window: float) -> bool:
    """Whether a change arriving now is the echo of the tab's own change of `kind` (`note_own_change`)."""
    return time.time() - _OWN_CHANGES.get((token, kind), 0.0) < window


def _token_manager():
    from reflex.istate.shared import RegistrationContext

    app = RegistrationContext.get().app
    namespace = app.event_namespace
    return namespace._token_manager if namespace is not None else None


async def live_loop(state: Any, *, path: str, reload: Callable[[Any], Awaitable[None]]) -> None:
    """Run until the browser disconnects or leaves `path`; topics come from `state._topics`."""
    async with state:
        topics = list(state._topics)
        token = state.router.session.client_token
        state._live_generation += 1
        generation = state._live_generation
    if not topics:
        return
    manager = _token_manager()
    loop = asyncio.get_running_loop()
    async with hub().subscribe(topics) as sub:
        quiet = 0
        last_reload = -MIN_RELOAD_SECONDS
        while True:
            changed = await sub.wait(WAKE_SECONDS)
            quiet = 0 if changed else quiet + 1
            if quiet >= SAFETY_RELOAD_EVERY:  # a lost message never leaves a page stale for long
                changed, quiet = True, 0
            if changed and own_echo(token, "reload", OWN_CHANGE_ECHO_SECONDS):
                continue  # the echo of this tab's own change, already reloaded by its handler
            if changed and (pause := last_reload + MIN_RELOAD_SECONDS - loop.time()) > 0:
                await asyncio.sleep(pause)
            if manager is not None and not await manager.is_token_connected(token):
                return
            async with state:
                if state._live_generation != generation or (state.router.route_id or "") != path:
                    return
                if changed and time.time() - getattr(state, "_own_reload_at", 0.0) < OWN_CHANGE_ECHO_SECONDS:
                    changed = False  # the echo of this tab's own change, already reloaded by its handler
                if changed:
                    last_reload = loop.time()
                    try:
                        await reload(state)
                    except Exception:
                        log.exception("live reload failed on %s", path)
