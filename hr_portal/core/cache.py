"""Shared cache: Redis when HR_REDIS_URL is set, otherwise an in-process store (single process only)."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

from hr_portal.core.config import get_settings


@lru_cache
def redis_client():
    url = get_settings().redis_url
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def backend_name() -> str:
    return "ok" if redis_client() is not None else "memory"


def ping() -> bool:
    client = redis_client()
    if client is None:
        return True
    try:
        return bool(client.ping())
    except Exception:
        return False


class _MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[int, float]] = {}

    def get(self, key: str) -> int:
        with self._lock:
            count, expires = self._data.get(key, (0, 0.0))
            return count if expires > time.monotonic() else 0

    def incr(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, expires = self._data.get(key, (0, now + window))
            if expires <= now:
                count, expires = 0, now + window
            count += 1
            self._data[key] = (count, expires)
            if len(self._data) > 100_000:
                self._data = {k: v for k, v in self._data.items() if v[1] > now}
            return count, max(1, int(expires - now))


_memory = _MemoryCounter()


def hit(key: str, window_seconds: int) -> tuple[int, int]:
    """Count one hit of `key` in a fixed window; returns (count, seconds until the window resets).
    Fails open to the in-process counter when Redis is unreachable."""
    client = redis_client()
    if client is not None:
        try:
            pipe = client.pipeline()
            full = f"hr:rl:{key}"
            pipe.incr(full)
            pipe.expire(full, window_seconds, nx=True)
            pipe.ttl(full)
            count, _, ttl = pipe.execute()
            return int(count), max(1, int(ttl))
        except Exception:
            pass
    return _memory.incr(key, window_seconds)


def current(key: str) -> int:
    """The count of `key` in its current window (0 when none)."""
    client = redis_client()
    if client is not None:
        try:
            value = client.get(f"hr:rl:{key}")
            return int(value or 0)
        except Exception:
            pass
    return _memory.get(key)


def reset_memory() -> Any:
    _memory._data.clear()


def check_rate(bucket: str, key: str, limit_per_minute: int) -> None:
    """Raise RateLimited (with Retry-After) when `key` made more than `limit_per_minute` calls in the
    current minute. A limit of 0 disables the check."""
    if limit_per_minute <= 0:
        return
    count, reset_in = hit(f"{bucket}:{key}", 60)
    if count > limit_per_minute:
        from hr_portal.core.errors import RateLimited

        raise RateLimited("Too many attempts. Try again in a minute.", headers={"Retry-After": str(reset_in)})
