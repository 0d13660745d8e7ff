"""A socket.io client that talks to the app's Reflex websocket the way the browser does, without the UI.

Reflex 0.10 protocol (read from reflex/app.py `EventNamespace` and the frontend's `utils/state.js`):

- engine.io v4 over the websocket transport only, mounted at `/_event/`; socket.io namespace `/_event`;
  the browser passes its tab token as the query parameter `token` (a random UUID kept in
  sessionStorage).
- The first event rides in the socket.io CONNECT packet's auth payload:
  `{"event": {"name": "reflex___state____state.hydrate_and_load", "payload": {"vars": {...}},
  "router_data": {"pathname": ..., "asPath": ...}}}`. `vars` holds the browser's cookies and storage
  keyed by the fully qualified var name (`<state full name>.<var>`); only client-storage vars
  (`rx.Cookie`, ...) are applied. Our session cookie is `SessionState.session_token`.
- Every later event is a socket.io `event` message with `{"name": "<state path>.<handler>",
  "payload": {<argument name>: value}, "router_data": {...}}`; the server answers with `event`
  messages `{"delta": {state: {var: value}}, "events": [...]}`.
- Events of one token are queued in order, but not strictly processed one after the other: events a
  handler returns (the on_load chain of a hydrate) go to the back of the queue, and with Redis a
  handler of another substate may run while one is waiting. So `sync()` sends a marker event
  (`State.set_is_hydrated` with an alternating value), waits for its delta and then for a quiet
  moment (no update for QUIET seconds, longer with Redis). A write that still lands later shows up
  in the next event's database check, never silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio
import sqlalchemy as sa
from sqlmodel import SQLModel

import hr_portal.models  # noqa: F401  (every table on SQLModel.metadata)

QUIET = 0.3 if (os.environ.get("HR_E2E_REDIS_URL") or os.environ.get("HR_TEST_REDIS_URL")) else 0.05
NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
MARKER_EVENT = f"{ROOT_STATE}.set_is_hydrated"
SESSION_STATE = f"{ROOT_STATE}.hr_portal___ui___session____session_state"
COOKIE_VAR = f"{SESSION_STATE}.session_token"

# Tables that change on their own (sign-ins, the scheduler, the mail delivery thread, listeners),
# left out of the "nothing changed" fingerprint. outbox_emails and users are fingerprinted
# without their delivery and sign-in bookkeeping columns (STABLE_COLUMNS).
VOLATILE_TABLES = {"audit_log", "ui_sessions", "job_runs", "listener_failures", "attendance_day_summary"}
STABLE_COLUMNS = {
    "outbox_emails": ("id", "organization_id", "to_address", "subject", "kind"),
    "users": ("id", "organization_id", "email", "password_hash", "role", "is_active", "token_version"),
}


def router_data(path: str, query: dict | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"pathname": path, "asPath": path}
    if query:
        data["query"] = query
    return data


class ForgedClient:
    """One browser tab, minus the browser: a token, a socket, the session cookie it claims to hold."""

    def __init__(self, base_url: str, *, cookie: str = "", path: str = "/", timeout: float = 30.0,
                 token: str | None = None):
        self.base_url = base_url
        self.cookie = cookie
        self.timeout = timeout
        self.token = token or str(uuid.uuid4())  # the same token: the same tab, reloaded
        self.updates: list[dict] = []
        self.sent = 0
        self._flip = False
        self._cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_update, namespace=NAMESPACE)
        payload = {"vars": {COOKIE_VAR: cookie}} if cookie else {}
        auth = {"event": {"name": HYDRATE, "payload": payload, "router_data": router_data(path)}}
        self.sio.connect(
            f"{base_url}?token={self.token}", socketio_path="/_event", transports=["websocket"],
            namespaces=[NAMESPACE], auth=auth, wait_timeout=timeout,
        )
        self.sync()

    def _on_update(self, data: Any) -> None:
        with self._cond:
            self.updates.append(data if isinstance(data, dict) else {"raw": data})
            self._cond.notify_all()

    def emit(self, name: str, payload: dict | None = None, *, path: str = "/", query: dict | None = None) -> None:
        self.sio.emit("event", {"name": name, "payload": payload or {}, "router_data": router_data(path, query)},
                      namespace=NAMESPACE)

    def sync(self) -> None:
        """Wait until every event sent so far has been processed (see the module docstring)."""
        self._flip = not self._flip
        flip = self._flip
        with self._cond:
            start = len(self.updates)
        self.emit(MARKER_EVENT, {"value": flip})
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while not any(k.startswith("is_hydrated") and v is flip
                          for update in self.updates[start:]
                          for k, v in ((update.get("delta") or {}).get(ROOT_STATE) or {}).items()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to the marker event within {self.timeout}s")
                self._cond.wait(left)
            while time.monotonic() < deadline:  # then a quiet moment
                seen = len(self.updates)
                self._cond.wait(QUIET)
                if len(self.updates) == seen:
                    return

    def received(self) -> str:
        """Everything the server sent so far, as JSON text."""
        with self._cond:
            return json.dumps(self.updates, default=str)

    def call(self, name: str, payload: dict | None = None, *, path: str = "/", query: dict | None = None,
             settle: float = 0.0) -> str:
        """Send one event, wait until it is processed and return everything the server sent back, as JSON text."""
        with self._cond:
            start = len(self.updates)
        self.emit(name, payload, path=path, query=query)
        self.sent += 1
        if settle:
            time.sleep(settle)  # background handlers run beside the token's queue
        self.sync()
        with self._cond:
            return json.dumps(self.updates[start:], default=str)

    def restore_cookie(self) -> None:
        """Send the cookie again, as the browser does after a hydrate reset client storage (update_vars_internal)."""
        if self.cookie:
            self.emit(f"{ROOT_STATE}.reflex___state____update_vars_internal_state.update_vars_internal",
                      {"vars": {COOKIE_VAR: self.cookie}})
            self.sync()

    def find_var(self, suffix: str) -> Any:
        """The last value the server sent for a var whose qualified name ends with `suffix`."""
        found = None
        with self._cond:
            for update in self.updates:
                for state, changes in (update.get("delta") or {}).items():
                    for key, value in changes.items():
                        if f"{state}.{key}".endswith(suffix) or f"{state}.{key}".endswith(suffix + "_rx_state_"):
                            found = value
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort
            self.sio.disconnect()


def sign_in(base_url: str, email: str, password: str) -> str:
    """Sign in over the websocket (AuthState.sign_in, as the login form does); return the session cookie."""
    from hr_portal.auth.state import AuthState

    client = ForgedClient(base_url, path="/login")
    try:
        client.call(f"{AuthState.get_full_name()}.sign_in", {"form": {"email": email, "password": password}},
                    path="/login")
        deadline = time.monotonic() + client.timeout
        while not (token := client.find_var("session_token")) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.close()
    assert token, f"sign-in of {email} over the websocket gave no session cookie"
    return token


# ------------------------------------------------------------------------------------ database


@dataclass
class Fingerprint:
    """Digests of every row outside `exclude_org` (the outsider's own organization, where it may act)."""

    engine: sa.Engine
    exclude_org: int | None = None
    tables: list[sa.Table] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in VOLATILE_TABLES]

    def take(self) -> dict[str, str]:
        """One digest per table of every row (ordered by primary key)."""
        out = {}
        with self.engine.connect() as conn:
            for table in self.tables:
                cols = [table.c[c] for c in STABLE_COLUMNS.get(table.name, table.c.keys())]
                query = sa.select(*cols).order_by(*table.primary_key.columns)
                if self.exclude_org is not None:
                    org_col = table.c.get("organization_id")
                    if org_col is not None:
                        query = query.where(sa.or_(org_col.is_(None), org_col != self.exclude_org))
                    elif table.name == "organizations":
                        query = query.where(table.c.id != self.exclude_org)
                    elif "user_id" in table.c:  # reset tokens, refresh families of the outsider's users
                        users = sa.Table("users", SQLModel.metadata)
                        outsiders = sa.select(users.c.id).where(users.c.organization_id == self.exclude_org)
                        query = query.where(table.c.user_id.not_in(outsiders))
                # the driver's raw rows: no type processing (parsing every timestamp dominated the cost)
                sql = str(query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
                rows = conn.exec_driver_sql(sql).fetchall()
                out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out

    @staticmethod
    def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
        return sorted(name for name in before if before[name] != after.get(name))
