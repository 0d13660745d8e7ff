"""Engine and sessions. SQLite by default (WAL, foreign keys on), PostgreSQL through psycopg 3."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from hr_portal.core.config import get_settings

T = TypeVar("T")


def utcnow() -> datetime:
    """Timezone-aware now in UTC. Stored columns are naive UTC on SQLite, timestamptz on PostgreSQL."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            # Autocommit off at driver level is what SQLAlchemy expects; BEGIN IMMEDIATE below
            # takes the write lock at the start so two writers queue instead of failing late.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    settings = get_settings()
    return create_engine(url, pool_pre_ping=True, pool_size=settings.db_pool_size,
                         max_overflow=settings.db_max_overflow, pool_recycle=1800)


def ui_threads() -> int:
    """Threads for the UI's units of work in one worker process (`HR_UI_THREADS`, see core/config.py).

    Each thread holds at most one pooled connection at a time, and only inside its unit of work, so
    half of the pool leaves the other half to the API's admission gate, jobs and mail."""
    settings = get_settings()
    if settings.ui_threads:
        return settings.ui_threads
    if settings.is_sqlite:
        return min(32, (os.cpu_count() or 1) + 4)  # Python's default: SQLite writes one at a time anyway
    return max(8, min(32, (settings.db_pool_size + settings.db_max_overflow) // 2))


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


def reset_engine() -> None:
    """Forget the cached engine (tests switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _ASYNC_ENGINES.clear()


_ASYNC_ENGINES: dict[asyncio.AbstractEventLoop, Any] = {}


def get_async_engine():
    """PostgreSQL only: the same database through psycopg's asyncio connections, for the units of work run on
    the running event loop (`run_unit`). None on SQLite, or with HR_DB_ASYNC_UI=false.

    An asyncio connection belongs to the loop that opened it, so each loop has its own engine: a worker process
    runs one loop for its whole life; tests start and close many (an engine of a closed loop is dropped)."""
    settings = get_settings()
    if settings.is_sqlite or not settings.db_async_ui:
        return None
    loop = asyncio.get_running_loop()
    engine = _ASYNC_ENGINES.get(loop)
    if engine is None:
        from sqlalchemy.ext.asyncio import create_async_engine

        for old in [k for k in _ASYNC_ENGINES if k.is_closed()]:
            del _ASYNC_ENGINES[old]
        # The same pool settings as the threaded engine's (docs/operations.md counts both). A smaller pool was
        # slower under load: a unit holds its connection while it waits for the loop between round trips, and
        # connections opened on top of a small pool are closed again after each use (a new backend each time).
        engine = _ASYNC_ENGINES[loop] = create_async_engine(
            settings.database_url, pool_pre_ping=True, pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow, pool_recycle=1800)
    return engine


async def run_unit(fn: Callable[[Session], T]) -> T:
    """`fn(session)` in one unit of work (commit, or roll back on error) without blocking the event loop.

    On PostgreSQL the unit runs on the loop itself: SQLAlchemy runs the synchronous `fn` in a greenlet whose
    database round trips are awaited on psycopg's asyncio connection. No thread takes part, so a round trip's
    answer does not wait for the GIL to come back from whatever the loop is running. On SQLite, a thread."""
    engine = get_async_engine()
    if engine is None:
        def work() -> T:
            with session_scope() as session:
                return fn(session)

        return await asyncio.to_thread(work)
    from sqlalchemy.ext.asyncio import AsyncSession

    def unit(session: Session) -> T:
        try:
            result = fn(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        return result

    async with AsyncSession(engine, sync_session_class=Session, expire_on_commit=False) as session:
        return await session.run_sync(unit)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def aware(value: datetime | None) -> datetime | None:
    """Return a UTC-aware datetime (SQLite gives back naive values)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
