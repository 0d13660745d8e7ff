"""Live change notifications: "something under topic X changed", delivered to every app process.

Services call `notify(session, topic, ...)`; the topics are published only after the transaction
commits. Pages that show live data (approval queues, team today, the notification bell) wait on
their topics through `hub().subscribe(...)` and reload from the database when one fires, so no
business data travels through this channel and a lost message costs at most a slower refresh
(waiters also wake up periodically).

With HR_REDIS_URL set, topics go through Redis pub/sub, so a change made in one process (or the
legacy API, or a scheduled job) reaches pages served by every other process. Without Redis they are
delivered in-process (single-process mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable

from sqlmodel import Session

from hr_portal.core import txhooks
from hr_portal.core.cache import redis_client
from hr_portal.core.config import get_settings

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "hr:live:"


def org_topic(organization_id: int, name: str) -> str:
    return f"org:{organization_id}:{name}"


def user_topic(user_id: int, name: str = "inbox") -> str:
    return f"user:{user_id}:{name}"


def notify(session: Session, *topics: str) -> None:
    """Publish `topics` once the outermost transaction commits (never for a rollback; a rolled-back
    savepoint drops the topics queued inside it: core/txhooks.py)."""
    for topic in topics:
        txhooks.defer(session, "live", topic, _after_commit)


def _after_commit(_session: Session, topics: list[str]) -> None:
    if topics:
        hub().publish(dict.fromkeys(topics))


class Subscription:
    def __init__(self, hub: LiveHub, topics: frozenset[str]):
        self._hub, self.topics = hub, topics
        self._event = asyncio.Event()

    def _fire(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when a topic fired since the last wait, False on timeout."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class LiveHub:
    """One per process. Thread-safe publish; subscriptions live on the event loop."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task | None = None
        self._lock = threading.Lock()

    # -- publishing (any thread)
    def publish(self, topics: Iterable[str]) -> None:
        topics = list(topics)
        client = redis_client()
        if client is not None:
            try:
                pipe = client.pipeline(transaction=False)
                for topic in topics:
                    pipe.publish(CHANNEL_PREFIX + topic, "1")
                pipe.execute()
                return
            except Exception:  # fail open: pages still refresh on their periodic wake-up
                log.warning("live: Redis publish failed; delivering in this process only", exc_info=True)
        self._deliver_threadsafe(topics)

    def _deliver_threadsafe(self, topics: list[str]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(topics)
        else:
            loop.call_soon_threadsafe(self._deliver, topics)

    def _deliver(self, topics: Iterable[str]) -> None:
        for topic in topics:
            for sub in list(self._subs.get(topic, ())):
                sub._fire()

    # -- subscribing (event loop)
    @contextlib.asynccontextmanager
    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[Subscription]:
        self._loop = asyncio.get_running_loop()
        if redis_client() is not None:
            self._ensure_listener()
        sub = Subscription(self, frozenset(topics))
        for topic in sub.topics:
            self._subs[topic].add(sub)
        try:
            yield sub
        finally:
            for topic in sub.topics:
                self._subs[topic].discard(sub)
                if not self._subs[topic]:
                    self._subs.pop(topic, None)

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen(), name="live-hub-redis")

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        delay = 0.5
        while True:
            try:
                client = aioredis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=2)
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                    delay = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        channel = message["channel"]
                        channel = channel.decode() if isinstance(channel, bytes) else channel
                        self._deliver([channel[len(CHANNEL_PREFIX):]])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live: Redis subscription lost; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


_hub: LiveHub | None = None


def hub() -> LiveHub:
    global _hub
    if _hub is None:
        _hub = LiveHub()
    return _hub
