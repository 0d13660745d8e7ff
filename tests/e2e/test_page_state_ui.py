"""One page's data per tab (hr_portal/ui/session.py `_enter_page`), over the real websocket: opening a page
resets the page state of the page left behind, the live watcher of that page stops instead of reloading
into it, and coming back loads the page again. Driven by the forged-event client (tests/security/forge.py),
which reads every delta the server sends."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid

import httpx

from tests.e2e.helpers import DEMO_PASSWORD
from tests.security.forge import ForgedClient
from tests.security.forge import sign_in as ws_sign_in

ON_LOAD = "reflex___state____state.reflex___state____on_load_internal_state.on_load_internal"


class Tab(ForgedClient):
    """A forged tab whose every event (the sync marker too) carries the page it is on, as a browser's do:
    an event from another path moves the tab's router there, which stops the page's live watcher."""

    def __init__(self, base_url: str, *, path: str, **kwargs) -> None:
        self.path = path
        super().__init__(base_url, path=path, **kwargs)

    def emit(self, name: str, payload: dict | None = None, *, path: str | None = None, query: dict | None = None):
        super().emit(name, payload, path=path or self.path, query=query)

    def open(self, path: str) -> None:
        """Navigate: the page's on_load handlers, as the browser's router runs them."""
        self.path = path
        self.call(ON_LOAD, {}, path=path)


def _api(base_url: str, email: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
    token = client.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD}).json()["data"]["accessToken"]
    return client, {"Authorization": f"Bearer {token}"}


def _apply_leave(api: httpx.Client, auth: dict[str, str], reason: str) -> int:
    types = api.get("/leave/types", headers=auth).json()["data"]
    unpaid = next(t for t in types if t["name"] == "Unpaid")
    for _ in range(30):  # a free weekday (other tests may hold some dates)
        day = dt.date.today() + dt.timedelta(days=random.randint(20, 300))
        if day.weekday() >= 5:
            continue
        r = api.post("/leave", headers=auth, json={"leaveTypeId": unpaid["id"], "startDate": day.isoformat(),
                                                   "endDate": day.isoformat(), "reason": reason})
        if r.status_code == 201:
            return r.json()["data"]["id"]
    raise AssertionError("could not apply for leave")


def _rows_sent(client: ForgedClient, state: str) -> list[list]:
    """Every value of `<state>.rows` the server sent, in order."""
    with client._cond:
        return [changes[key] for update in client.updates for name, changes in (update.get("delta") or {}).items()
                if name.endswith(state) for key in changes if key in ("rows", "rows_rx_state_")]


def _wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_leaving_a_live_page_drops_its_data_and_stops_its_watcher(portal):
    from hr_portal.attendance.state import AttendanceSettingsState
    from hr_portal.leave.state import CalendarState

    calendar, settings = CalendarState.get_full_name(), AttendanceSettingsState.get_full_name()
    cookie = ws_sign_in(portal.base_url, "hr@acme.example", DEMO_PASSWORD)
    tab = Tab(portal.base_url, cookie=cookie, path="/leave/calendar")
    api, auth = _api(portal.base_url, "employee@acme.example")
    created: list[int] = []
    try:
        assert _wait_for(lambda: any(_rows_sent(tab, calendar))), "the calendar did not load"

        # control: while the calendar is open, its watcher reloads it when a request arrives
        sent = len(_rows_sent(tab, calendar))
        created.append(_apply_leave(api, auth, "E2E state " + uuid.uuid4().hex[:6]))
        assert _wait_for(lambda: len(_rows_sent(tab, calendar)) > sent), "the live calendar did not reload"

        tab.open("/attendance/settings")  # the on_load chain may still run after the sync marker: wait for it
        assert _wait_for(lambda: tab.find_var(f"{settings}.people_options")), "the settings page did not load"
        assert _rows_sent(tab, calendar)[-1] == [], "the calendar's rows were not dropped"

        # the calendar's watcher stops at its next wake-up instead of filling the dropped state again
        created.append(_apply_leave(api, auth, "E2E state " + uuid.uuid4().hex[:6]))
        sent = len(_rows_sent(tab, calendar))
        time.sleep(6)  # past the watcher's pause between reloads (ui/live.py MIN_RELOAD_SECONDS)
        tab.sync()
        assert len(_rows_sent(tab, calendar)) == sent, "a watcher of a page left behind reloaded it"

        # back on the calendar: loaded again, and followed live again
        tab.open("/leave/calendar")
        assert _wait_for(lambda: _rows_sent(tab, calendar)[-1]), "the calendar did not load again"
        assert tab.find_var(f"{settings}.people_options") == [], "the settings page's data was not dropped"
        sent = len(_rows_sent(tab, calendar))
        created.append(_apply_leave(api, auth, "E2E state " + uuid.uuid4().hex[:6]))
        assert _wait_for(lambda: len(_rows_sent(tab, calendar)) > sent), "the calendar is no longer live"
    finally:
        for leave_id in created:
            api.delete(f"/leave/{leave_id}", headers=auth)
        api.close()
        tab.close()
