"""core/db.py `run_unit`: the UI's hot units of work. On PostgreSQL they run on the event loop (SQLAlchemy's
greenlet bridge over psycopg's asyncio connection), on SQLite in a thread; either way one unit of work that
commits, or rolls back on error, and whose after-commit hooks (live topics, events) fire once committed."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import text

from hr_portal.core import db as core_db
from hr_portal.core import live
from hr_portal.core.config import get_settings
from hr_portal.core.db import run_unit, session_scope
from hr_portal.org.models import Organization
from tests.factories import create_organization

POSTGRES = not get_settings().is_sqlite


def _name(org_id: int) -> str:
    with session_scope() as session:
        return session.get(Organization, org_id).name


def test_a_unit_commits_its_work_and_returns_its_result(db):
    org = create_organization(db, name="Before")
    db.commit()

    def rename(session):
        session.get(Organization, org.id).name = "After"
        return "done"

    assert asyncio.run(run_unit(rename)) == "done"
    assert _name(org.id) == "After"


def test_a_failing_unit_rolls_back_and_raises(db):
    org = create_organization(db, name="Kept")
    db.commit()

    def rename_then_fail(session):
        session.get(Organization, org.id).name = "Lost"
        session.flush()
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(run_unit(rename_then_fail))
    assert _name(org.id) == "Kept"


def test_live_topics_go_out_after_the_commit_only(db, monkeypatch):
    published: list[list[str]] = []
    monkeypatch.setattr(live.hub(), "publish", lambda topics: published.append(list(topics)))

    def notify(session, fail: bool):
        live.notify(session, "test:run-unit")
        session.execute(text("SELECT 1"))
        if fail:
            raise RuntimeError("rolled back")

    asyncio.run(run_unit(lambda s: notify(s, False)))
    with pytest.raises(RuntimeError):
        asyncio.run(run_unit(lambda s: notify(s, True)))
    assert published == [["test:run-unit"]]


def test_where_the_unit_runs(db):
    """On PostgreSQL: on the event loop's own thread, with no thread hop. On SQLite: in a worker thread."""
    async def main():
        return threading.get_ident(), await run_unit(lambda _s: threading.get_ident())

    loop_thread, unit_thread = asyncio.run(main())
    assert (unit_thread == loop_thread) is POSTGRES


@pytest.mark.skipif(not POSTGRES, reason="the event-loop path is PostgreSQL's (SQLite runs units in threads)")
def test_a_unit_waiting_on_the_database_does_not_hold_up_the_loop(db):
    """A unit waiting 0.4 s in PostgreSQL leaves the loop free: a second unit and a timer run meanwhile."""
    async def main():
        t0 = time.perf_counter()
        finished: dict[str, float] = {}

        async def slow():
            await run_unit(lambda s: s.execute(text("SELECT pg_sleep(0.4)")))
            finished["slow"] = time.perf_counter() - t0

        async def quick():
            await asyncio.sleep(0.05)
            await run_unit(lambda s: s.execute(text("SELECT 1")).scalar_one())
            finished["quick"] = time.perf_counter() - t0

        await asyncio.gather(slow(), quick())
        return finished

    finished = asyncio.run(main())
    assert finished["quick"] < 0.3 < finished["slow"], finished


@pytest.mark.skipif(not POSTGRES, reason="asyncio engines exist on PostgreSQL only")
def test_each_event_loop_has_its_own_engine(db):
    """An asyncio connection belongs to the loop that opened it: a new loop (a test, a restarted worker) gets an
    engine of its own, and the engines of closed loops are dropped."""
    async def engine_and_answer():
        return core_db.get_async_engine(), await run_unit(lambda s: s.execute(text("SELECT 41 + 1")).scalar_one())

    first, a = asyncio.run(engine_and_answer())
    second, b = asyncio.run(engine_and_answer())
    assert a == b == 42
    assert first is not second
    assert first not in core_db._ASYNC_ENGINES.values()


def test_the_loop_path_can_be_switched_off(db, settings_override):
    """HR_DB_ASYNC_UI=false: every unit runs in a thread, on PostgreSQL too."""
    settings_override(db_async_ui=False)

    async def main():
        assert core_db.get_async_engine() is None
        return threading.get_ident(), await run_unit(lambda _s: threading.get_ident())

    loop_thread, unit_thread = asyncio.run(main())
    assert unit_thread != loop_thread
