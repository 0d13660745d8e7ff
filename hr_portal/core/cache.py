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


def reset_memory() -> Any:
    _memory._data.clear()
