"""A minimal asyncio Reflex 0.10 websocket client for the benchmarks (not part of `make test`).

What the compiled frontend does (`.web*/utils/state.js`, `utils/context.jsx`) and the backend expects
(`reflex/app.py: EventNamespace`), found by reading the installed reflex 0.10.1:

- Socket.IO (Engine.IO v4) over a websocket at `/_event/?EIO=4&transport=websocket&token=<tab token>`; the
  tab token is a UUID the browser keeps in sessionStorage and the backend links to the socket.
- Everything travels in the Socket.IO namespace `/_event` (packets `40/_event,{...}`, `42/_event,[...]`).
- The first event rides in the Socket.IO CONNECT packet's auth payload:
  `40/_event,{"event": {"name": "reflex___state____state.hydrate_and_load", "payload": {"vars": {<cookie var>: <value>}},
  "router_data": {"pathname": "/", "asPath": "/"}}, "state_schema": <hash>}`; cookies are not read from the
  HTTP headers but sent as client-storage vars (full var name -> value).
- Every later event is `42/_event,["event", {"name": <state full name>.<handler>, "payload": {...}, "router_data": {...}}]`.
- The server answers with `42/_event,["event", {"delta": {<state full name>: {<var>_rx_state_: value}}, "events": [...]}]`,
  one packet per yield. Returned events (on_load handlers, background watchers) travel to the browser,
  which sends them back; names starting with `_` (toast, redirect, call_script) are client-side only.
- Engine.IO pings (`2`) must be answered with `3`.

Uses wsproto (sans-io, installed with python-socketio's simple-websocket) so the bench needs no extra package.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, RejectConnection, Request, TextMessage

NAMESPACE = "/_event"  # rx.Config.get_event_namespace(): Socket.IO packets carry it ("42/_event,[...]")
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
ON_LOAD = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"
COOKIE_VAR = f"{ROOT_STATE}.hr_portal___ui___session____session_state.session_token_rx_state_"


class ReflexSession:
    """One browser tab: a websocket, a tab token, the deltas it has seen."""

    def __init__(self, host: str, port: int, *, cookie_token: str, state_schema: str | None = None,
                 hashes: list[str] | None = None, follow: Callable[[str], bool] | None = None):
        self.host, self.port = host, port
        self.tab_token = str(uuid.uuid4())
        self.cookie_token = cookie_token
        self.state_schema = state_schema
        self.hashes = hashes
        self.path = "/"
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._updates: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._follow = follow or (lambda name: not name.rsplit(".", 1)[-1].startswith("_"))
        self._waiters: list[tuple[Callable[[dict], bool], asyncio.Future]] = []
        self.errors: list[str] = []
        self.closed = False
        self.bytes_in = 0
        self.values: dict[str, dict[str, Any]] = {}  # the latest value of every var seen, per state

    # ------------------------------------------------------------------ transport
    async def connect(self, path: str = "/", timeout: float = 30.0) -> float:
        """Open the socket and hydrate `path`; returns seconds until the hydrate delta arrived."""
        self.path = path
        t0 = time.perf_counter()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        target = f"/_event/?EIO=4&transport=websocket&token={self.tab_token}"
        self._send_raw(self._ws.send(Request(host=f"{self.host}:{self.port}", target=target,
                                             subprotocols=["0.10.1"], extra_headers=[
                                                 (b"origin", f"http://{self.host}:{self.port}".encode())])))
        await self._handshake()
        self._task = asyncio.create_task(self._pump())
        await self._expect_text(lambda t: t.startswith("0"), timeout)  # Engine.IO open
        payload: dict[str, Any] = {"vars": {COOKIE_VAR: self.cookie_token}}
        if self.hashes:  # the first hydrate of a tab: only what differs from the compiled defaults comes back
            payload["hashes"] = self.hashes
        auth = {"event": self._event(HYDRATE, payload, path)}
        if self.state_schema:
            auth["state_schema"] = self.state_schema
        # The first update is the hydrate's (with the compiled hashes sent, it may omit the root state).
        hydrated = self.wait_for(lambda u: "delta" in u, timeout)
        self._send_text(f"40{NAMESPACE}," + json.dumps(auth))
        await hydrated
        return time.perf_counter() - t0

    async def _handshake(self) -> None:
        while True:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("closed during the websocket handshake")
            self._ws.receive_data(data)
            for ev in self._ws.events():
                if isinstance(ev, AcceptConnection):
                    return
                if isinstance(ev, RejectConnection):
                    raise ConnectionError(f"websocket rejected: {ev.status_code}")

    def _send_raw(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)

    def _send_text(self, text: str) -> None:
        self._send_raw(self._ws.send(TextMessage(data=text)))

    _texts: asyncio.Queue | None = None

    async def _expect_text(self, pred: Callable[[str], bool], timeout: float) -> str:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._raw_waiter = (pred, fut)
        return await asyncio.wait_for(fut, timeout)

    _raw_waiter: tuple[Callable[[str], bool], asyncio.Future] | None = None

    def _process(self, buf: list[str]) -> bool:
        """Handle the frames wsproto has buffered; False once the server closed."""
        for ev in self._ws.events():
            if isinstance(ev, TextMessage):
                buf.append(ev.data)
                if ev.message_finished:
                    self._on_text("".join(buf))
                    buf.clear()
            elif isinstance(ev, Ping):
                self._send_raw(self._ws.send(ev.response()))
            elif isinstance(ev, CloseConnection):
                return False
            elif isinstance(ev, BytesMessage):
                pass
        return True

    async def _pump(self) -> None:
        buf: list[str] = []
        try:
            # The Engine.IO open packet often arrives in the same read as the HTTP 101: handle what the
            # handshake left in wsproto's buffer before waiting for more (else it waits for the next ping).
            if not self._process(buf):
                return
            while True:
                data = await self._reader.read(262144)
                if not data:
                    break
                self.bytes_in += len(data)
                self._ws.receive_data(data)
                if not self._process(buf):
                    return
                await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.closed = True
            for _pred, fut in self._waiters:
                if not fut.done():
                    fut.set_exception(ConnectionError("socket closed"))

    def _on_text(self, text: str) -> None:
        if self._raw_waiter is not None and self._raw_waiter[0](text):
            pred, fut = self._raw_waiter
            self._raw_waiter = None
            if not fut.done():
                fut.set_result(text)
            return
        if text == "2":  # Engine.IO ping
            self._send_text("3")
            return
        if text.startswith("42" + NAMESPACE + ","):
            name, *args = json.loads(text[len(NAMESPACE) + 3:])
            if name == "event" and args:
                self._on_update(args[0])
        elif text.startswith("44"):
            self.errors.append(f"connect error: {text[2:200]}")

    def _on_update(self, update: dict) -> None:
        for state, delta in (update.get("delta") or {}).items():
            self.values.setdefault(state, {}).update(delta)
        for ev in update.get("events") or []:
            if self._follow(ev.get("name", "")):
                self.send(ev["name"], ev.get("payload") or {})
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(update):
                fut.set_result(update)
                self._waiters.remove((pred, fut))

    # ------------------------------------------------------------------ events
    def _event(self, name: str, payload: dict | None, path: str | None = None) -> dict[str, Any]:
        path = path or self.path
        ev: dict[str, Any] = {"name": name, "router_data": {"pathname": path, "asPath": path}}
        if payload:
            ev["payload"] = payload
        return ev

    def send(self, name: str, payload: dict | None = None, *, path: str | None = None) -> None:
        self._send_text(f"42{NAMESPACE}," + json.dumps(["event", self._event(name, payload, path)]))

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 30.0):
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return asyncio.wait_for(fut, timeout)

    async def call(self, name: str, payload: dict | None, done: Callable[[dict], bool], *, path: str | None = None,
                   timeout: float = 30.0) -> float:
        """Send one event and wait until an update satisfies `done`; returns seconds."""
        waiter = self.wait_for(done, timeout)
        t0 = time.perf_counter()
        self.send(name, payload, path=path)
        await waiter
        return time.perf_counter() - t0

    async def navigate(self, path: str, done: Callable[[dict], bool], timeout: float = 30.0) -> float:
        """What a client-side link click does: on_load_internal for the new path (the page's on_load runs next)."""
        self.path = path
        return await self.call(ON_LOAD, None, done, path=path, timeout=timeout)

    async def close(self) -> None:
        if self._writer is None:
            return
        with contextlib.suppress(Exception):  # the server may have closed first: closing anyway
            self._send_raw(self._ws.send(CloseConnection(code=1000)))
            await self._writer.drain()
        if self._task:
            self._task.cancel()
        self._writer.close()
        self.closed = True


def compiled_frontend(web_dir) -> tuple[str | None, list[str] | None]:
    """The state schema hash and the initial state hashes a compiled frontend sends on connect."""
    import re
    from pathlib import Path

    try:
        text = (Path(web_dir) / "utils" / "context.jsx").read_text()
    except OSError:
        return None, None
    schema = re.search(r'stateSchema = "([0-9a-f]+)"', text)
    hashes = re.search(r"initialStateHashes = (\[[^\]]*\])", text)
    return (schema.group(1) if schema else None), (json.loads(hashes.group(1)) if hashes else None)


def var_in(state: str, var: str, value: Any = ...) -> Callable[[dict], bool]:
    """Predicate: an update whose delta for `state` carries `var` (with `value`, when given)."""
    key = f"{var}_rx_state_"

    def pred(update: dict) -> bool:
        delta = (update.get("delta") or {}).get(state)
        if not delta or key not in delta:
            return False
        return value is ... or delta[key] == value

    return pred
