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
- Events of one token run one after the other, in the order they reach the per-token queue
  (reflex_base/event/processor/event_processor.py); background handlers run beside it. Events a
  handler returns (a hydrate's on_load chain, ...) join the back of that queue while the handler
  runs, so they may land behind an event the client sent in the meantime.

`sync()` waits until the token's queue holds nothing the client sent before it, nor anything those
events chained: it sends marker events (`OnLoadInternalState.set_is_hydrated`, claiming a query
parameter `zqsync` with a fresh value, so the marker's own delta carries that value and cannot be
mistaken for another update) one after the other, each after the previous one's delta came back.
When a marker's delta arrives, everything queued before that marker reached the server is done,
so each round settles at least one more generation of chained events; rounds go on until one
brings back nothing but its own delta (and at least SYNC_MIN_ROUNDS rounds). This needs no timing
assumption about how long a handler or the state manager (Redis) takes. A write that still lands
later (a background handler) shows up in the next event's database check, never silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio
import sqlalchemy as sa
from sqlmodel import SQLModel

import hr_portal.models  # noqa: F401  (every table on SQLModel.metadata)

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
# The leaf substate's setter: with Redis, State.set_is_hydrated would load and store every substate.
MARKER_EVENT = f"{ROOT_STATE}.reflex___state____on_load_internal_state.set_is_hydrated"
SYNC_PARAM = "zqsync"
SYNC_MIN_ROUNDS = 2  # markers per sync at least (each settles one more generation of chained events)
SYNC_MAX_ROUNDS = 200  # a queue that never drains within this many rounds is a failure, not a wait
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
        self.texts: list[str] = []  # each update as JSON text (what the leak checks search)
        self.sent = 0
        self.sync_rounds = 0  # marker round trips so far (all syncs)
        self._markers = 0
        self._nonce = uuid.uuid4().hex[:12]
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
        update = data if isinstance(data, dict) else {"raw": data}
        text = json.dumps(update, default=str)
        with self._cond:
            self.updates.append(update)
            self.texts.append(text)
            self._cond.notify_all()

    def emit(self, name: str, payload: dict | None = None, *, path: str = "/", query: dict | None = None) -> None:
        self.sio.emit("event", {"name": name, "payload": payload or {}, "router_data": router_data(path, query)},
                      namespace=NAMESPACE)

    def sync(self) -> None:
        """Wait until every event sent so far, and every event they chained, has been processed
        (see the module docstring)."""
        deadline = time.monotonic() + self.timeout
        with self._cond:
            since = len(self.updates)  # updates not yet accounted to a round
        rounds = 0
        while True:
            rounds += 1
            at = self._marker_round(since, deadline)
            with self._cond:
                alone = at == since and len(self.updates) == at + 1
            if alone and rounds >= SYNC_MIN_ROUNDS:
                return
            if rounds >= SYNC_MAX_ROUNDS:
                raise TimeoutError(f"the event queue did not drain within {rounds} marker rounds")
            since = at + 1

    def _marker_round(self, since: int, deadline: float) -> int:
        """Send one marker and wait for its delta; return the index of that update."""
        self._markers += 1
        self.sync_rounds += 1
        value = f"zq{self._nonce}n{self._markers}z"  # unique (a terminator: n1z is not in n12z)
        self.emit(MARKER_EVENT, {"value": True}, query={SYNC_PARAM: value})
        with self._cond:
            checked = since
            while True:
                for i in range(checked, len(self.texts)):
                    if value in self.texts[i]:
                        return i
                checked = len(self.texts)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to the marker event within {self.timeout}s")
                self._cond.wait(left)

    def received(self) -> str:
        """Everything the server sent so far, as JSON text."""
        with self._cond:
            return "[" + ", ".join(self.texts) + "]"

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
            return "[" + ", ".join(self.texts[start:]) + "]"

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
        # The statements are built once: compiling them on every take cost as much as running them.
        self._queries = [(table.name, self._query(table)) for table in self.tables]
        self._postgres = self.engine.dialect.name == "postgresql"
        if self._postgres:
            # One round trip; PostgreSQL digests each table's rows (their text form, in key order) itself.
            self._digest_sql = " UNION ALL ".join(
                f"SELECT '{name}', md5(coalesce(string_agg(r::text, '|' ORDER BY {keys}), '')) FROM ({sql}) AS r"
                for (name, sql), keys in zip(self._queries, (self._keys(t) for t in self.tables), strict=True))

    def _query(self, table: sa.Table) -> str:
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
        return str(query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))

    def _keys(self, table: sa.Table) -> str:
        quote = self.engine.dialect.identifier_preparer.quote
        return ", ".join(f"r.{quote(c.name)}" for c in table.primary_key.columns)

    def take(self) -> dict[str, str]:
        """One digest per table of every row (ordered by primary key)."""
        with self.engine.connect() as conn:
            if self._postgres:
                return dict(conn.exec_driver_sql(self._digest_sql).fetchall())
            # The driver's raw rows as plain tuples: no type processing (parsing every timestamp
            # dominated the cost), and not SQLAlchemy's Row repr, which shortens values over 300
            # characters (a change in the middle of a long text went unseen).
            cursor = conn.connection.driver_connection.cursor()
            try:
                out = {}
                for name, sql in self._queries:
                    cursor.execute(sql)
                    out[name] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
                return out
            finally:
                cursor.close()

    @staticmethod
    def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
        return sorted(name for name in before if before[name] != after.get(name))


# ------------------------------------------------------------------------------------ concurrency


class Gate:
    """Several roles drive the app at once; a database check must never overlap a write the table allows.

    Checked events (``read()``: before/after fingerprints around an event that must change nothing)
    run together; an event the caller may write through (``write()``) runs alone. A change made
    through a checked event is still caught: it shows in its own window (and, as noise, in the
    windows it overlapped). Writers go first once they wait, so they are not starved. ``epoch``
    counts finished writes: a fingerprint taken in an earlier epoch is no "before" any more.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting_writers = 0
        self.epoch = 0

    @contextlib.contextmanager
    def read(self):
        with self._cond:
            while self._writing or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self):
        with self._cond:
            self._waiting_writers += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self.epoch += 1
                self._cond.notify_all()


def run_parallel(work: dict[str, Any]) -> dict[str, Any]:
    """Run each callable in its own thread; return their results by name (the first error is raised)."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def run(name: str, fn) -> None:
        try:
            results[name] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name, fn), name=f"forge-{name}") for name, fn in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
