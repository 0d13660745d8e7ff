"""Counting the SQL statements a piece of code runs on the app's engine (any thread), for the tests that
hold a hot path to its cost. Transaction control (SQLite's `BEGIN IMMEDIATE`, core/db.py) is not counted."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from sqlalchemy import event

from hr_portal.core.db import get_engine


@contextlib.contextmanager
def statements(*, this_thread: bool = False) -> Iterator[list[str]]:
    """With `this_thread`, only the calling thread's (not, say, the mail delivery a commit starts)."""
    seen: list[str] = []
    me = threading.get_ident()

    def before(conn, cursor, statement, parameters, context, executemany):
        if this_thread and threading.get_ident() != me:
            return
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
