"""Counting the SQL statements a piece of code runs on the app's database (any thread, and on PostgreSQL the
event loop's asyncio engine too: core/db.py run_unit), for the tests that hold a hot path to its cost. Transaction control (SQLite's `BEGIN IMMEDIATE`, core/db.py) is not counted."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

from hr_portal.core.db import get_engine


@contextlib.contextmanager
def statements(*, this_thread: bool = False) -> Iterator[list[str]]:
    """With `this_thread`, only the calling thread's (not, say, the mail delivery a commit starts)."""
    seen: list[str] = []
    me = threading.get_ident()

    url = get_engine().url

    def before(conn, cursor, statement, parameters, context, executemany):
        if conn.engine.url != url or (this_thread and threading.get_ident() != me):
            return
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", before)  # every engine, the asyncio ones included
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", before)
