"""Assembly only: the Reflex app, every module's pages (`<module>/pages.py: register(app)`), the
mounted legacy API (hr_portal/api.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

import reflex as rx

from hr_portal.api import create_api
from hr_portal.core import scheduler
from hr_portal.core.config import get_settings
from hr_portal.core.db import ui_threads
from hr_portal.modules import submodules

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = rx.App(
    api_transformer=create_api(),
    head_components=[rx.el.meta(name="color-scheme", content="light dark")],
)

for pages in submodules("pages"):
    pages.register(app)


@contextlib.asynccontextmanager
async def _ui_threads_lifespan():
    """Size the threads event handlers run their database work in (`run_service`, the session check):
    asyncio's default executor, per worker process (core/db.py `ui_threads`)."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=ui_threads(), thread_name_prefix="ui-db")
    loop.set_default_executor(executor)
    try:
        yield
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


app.register_lifespan_task(_ui_threads_lifespan)


@contextlib.asynccontextmanager
async def _scheduler_lifespan():
    """APScheduler runs in every worker; job_runs makes each occurrence run once (core/scheduler.py)."""
    await asyncio.to_thread(scheduler.start)
    try:
        yield
    finally:
        await asyncio.to_thread(scheduler.shutdown)


app.register_lifespan_task(_scheduler_lifespan)
