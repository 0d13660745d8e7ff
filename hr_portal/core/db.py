"""Engine and sessions. SQLite by default (WAL, foreign keys on), PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from hr_portal.core.config import get_settings


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
