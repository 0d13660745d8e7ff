"""The tab-state lease with Redis (HR_STATE_LEASE, Reflex's opportunistic lock): what rxconfig.py exports, and a
tab leased by one worker process handed to another on request, with the first one's changes."""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from hr_portal.core.config import Settings, reflex_environment

REDIS_URL = os.environ.get("HR_TEST_REDIS_URL", "").strip()


def make(**kwargs) -> Settings:
    return Settings(_env_file=None, **kwargs)


def test_the_lease_is_on_with_redis_unless_turned_off():
    assert reflex_environment(make(redis_url="")) == {}  # one process, state in memory: nothing to lease
    assert reflex_environment(make(redis_url="redis://127.0.0.1:6379/0")) == {"REFLEX_OPLOCK_ENABLED": "true"}
    assert reflex_environment(make(redis_url="redis://127.0.0.1:6379/0", state_lease=False)) == {
        "REFLEX_OPLOCK_ENABLED": "false"}


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (HR_TEST_REDIS_URL)")
def test_a_tab_leased_by_one_process_goes_to_another_with_its_changes(monkeypatch):
    """Two state managers on one Redis stand for two worker processes. A keeps the tab after its event (the
    lease: a long one here, 30 s); B's event for the same tab must not wait for it to run out: B asks, A writes
    the tab back and lets go, and B sees what A changed. Then the other way round."""
    from redis.asyncio import Redis
    from reflex.istate.manager.redis import StateManagerRedis
    from reflex.istate.manager.token import BaseStateToken

    from hr_portal.attendance.state import MyAttendanceState

    for name, value in reflex_environment(make(redis_url=REDIS_URL)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REFLEX_OPLOCK_HOLD_TIME", "30000ms")
    token = BaseStateToken(ident=f"lease-test-{secrets.token_hex(8)}", cls=MyAttendanceState)

    async def field(state) -> str:
        return (await state.get_state(MyAttendanceState)).corr_reason

    async def write(manager, value: str) -> str:
        async with manager.modify_state(token) as state:
            before = await field(state)
            (await state.get_state(MyAttendanceState)).corr_reason = value
        return before

    async def scenario() -> None:
        a = StateManagerRedis(redis=Redis.from_url(REDIS_URL), lock_expiration=60_000)
        b = StateManagerRedis(redis=Redis.from_url(REDIS_URL), lock_expiration=60_000)
        try:
            assert a._oplock_enabled and b._oplock_enabled
            for manager in (a, b):  # a worker's first event starts its listener; leases come after
                await manager._ensure_lock_task_subscribed()
            assert await write(a, "typed in A") == ""
            assert token.lock_key in a._local_leases  # A holds the tab; Redis has not seen "typed in A" yet
            assert await write(a, "typed in A again") == "typed in A"  # A's next event: its own copy
            # Well inside the 30 s lease and the 60 s lock: only the hand-off can make this finish in time.
            assert await asyncio.wait_for(write(b, "typed in B"), timeout=15) == "typed in A again"
            assert token.lock_key not in a._local_leases
            assert await asyncio.wait_for(write(a, "back in A"), timeout=15) == "typed in B"
        finally:
            await a.close()  # flushes what each still holds, as a worker's shutdown does
            await b.close()
        reader = StateManagerRedis(redis=Redis.from_url(REDIS_URL), lock_expiration=60_000)
        try:
            assert await field(await reader.get_state(token)) == "back in A"
        finally:
            await reader.close()

    # Its own thread: a browser test earlier in the run may have left an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
