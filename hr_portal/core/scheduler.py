"""Scheduled jobs: APScheduler in every app process, each occurrence run exactly once.

Modules declare jobs in `hr_portal/<module>/jobs.py`:

    from hr_portal.core.scheduler import job

    @job("attendance.auto_checkout", cron={"minute": "*/5"}, description="Close forgotten check-outs")
    def auto_checkout(*, session, now) -> int:   # items processed; `now` is UTC-aware
        return attendance_service.auto_close_open_records(session=session, now=now)

Every process runs the same APScheduler schedule (cron in UTC). When an occurrence fires, each
process tries to INSERT a `job_runs` row keyed by (job id, occurrence time); the unique index lets
exactly one of them win, and only the winner runs the job. Runs record start, end, outcome and
items, and an admin can run a job now from the Jobs page.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Index, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, Session, SQLModel, select

from hr_portal.core.config import get_settings
from hr_portal.core.db import session_scope, utcnow
from hr_portal.core.models import ts_field

log = logging.getLogger(__name__)


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "occurrence", name="uq_job_run_occurrence"),
        Index("ix_job_runs_job_started", "job_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=80)
    occurrence: datetime = ts_field(default_now=False)
    trigger: str = Field(default="schedule", max_length=20)  # schedule | manual
    triggered_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    status: str = Field(default="running", max_length=16)  # running | succeeded | failed
    items: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    started_at: datetime = ts_field()
    finished_at: datetime | None = ts_field(nullable=True, default_now=False)


JobFunc = Callable[..., int | None]


@dataclass
class JobSpec:
    id: str
    func: JobFunc
    cron: dict[str, str | int]
    description: str
    runs: list = field(default_factory=list)

    @property
    def granularity(self) -> timedelta:
        return timedelta(seconds=1) if "second" in self.cron else timedelta(minutes=1)

    def occurrence_for(self, fire_time: datetime) -> datetime:
        """The occurrence a fire time belongs to, floored to the trigger's resolution so that every
        process computes the same key for the same occurrence."""
        fire_time = fire_time.astimezone(UTC)
        if "second" in self.cron:
            return fire_time.replace(microsecond=0)
        return fire_time.replace(second=0, microsecond=0)

    @property
    def schedule_text(self) -> str:
        """A readable schedule for the common shapes, the raw cron fields otherwise."""
        c = {k: str(v) for k, v in self.cron.items()}
        keys = set(c)
        if keys == {"minute"} and c["minute"] == "*":
            return "Every minute"
        if keys == {"minute"} and c["minute"].startswith("*/"):
            return f"Every {c['minute'][2:]} minutes"
        if keys == {"minute"} and c["minute"].isdigit():
            return f"Hourly at :{int(c['minute']):02d}"
        at = f"{int(c['hour']):02d}:{int(c.get('minute', 0)):02d} UTC" if c.get("hour", "").isdigit() and \
            c.get("minute", "0").isdigit() else ""
        if at and keys <= {"hour", "minute"}:
            return f"Daily at {at}"
        if at and keys <= {"hour", "minute", "day_of_week"}:
            return f"Weekly ({c['day_of_week']}) at {at}"
        if at and keys <= {"hour", "minute", "day"}:
            return f"Monthly on day {c['day']} at {at}"
        if at and keys <= {"hour", "minute", "day", "month"}:
            return f"Yearly on {c['month']}/{c['day']} at {at}"
        order = ["second", "minute", "hour", "day", "month", "day_of_week"]
        return "Cron (UTC): " + ", ".join(f"{k}={c[k]}" for k in order if k in c)


REGISTRY: dict[str, JobSpec] = {}


def job(job_id: str, *, cron: dict[str, str | int], description: str) -> Callable[[JobFunc], JobFunc]:
    def decorate(func: JobFunc) -> JobFunc:
        REGISTRY[job_id] = JobSpec(id=job_id, func=func, cron=dict(cron), description=description)
        return func

    return decorate


def load_jobs() -> dict[str, JobSpec]:
    """Import every module's jobs.py so the registry is complete."""
    from hr_portal.modules import submodules

    for _ in submodules("jobs"):
        pass
    return REGISTRY


def claim(job_id: str, occurrence: datetime, *, trigger: str = "schedule", user_id: int | None = None) -> int | None:
    """Insert the run row for this occurrence; None when another process already claimed it."""
    try:
        with session_scope() as session:
            run = JobRun(job_id=job_id, occurrence=occurrence, trigger=trigger, triggered_by_user_id=user_id)
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


def run_job(job_id: str, *, occurrence: datetime | None = None, trigger: str = "schedule",
            user_id: int | None = None, now: datetime | None = None) -> JobRun | None:
    """Run one occurrence of a job if this caller wins the claim. Returns the finished run, or None
    when the occurrence was already claimed elsewhere."""
    spec = load_jobs().get(job_id)
    if spec is None:
        raise KeyError(job_id)
    now = now or utcnow()
    occurrence = occurrence or (now if trigger == "manual" else spec.occurrence_for(now))
    run_id = claim(job_id, occurrence, trigger=trigger, user_id=user_id)
    if run_id is None:
        return None
    status, items, error = "succeeded", 0, None
    try:
        with session_scope() as session:
            items = int(spec.func(session=session, now=now) or 0)
    except Exception:
        status, error = "failed", traceback.format_exc(limit=8)[-4000:]
        log.exception("job %s failed", job_id)
    with session_scope() as session:
        run = session.get(JobRun, run_id)
        run.status, run.items, run.error, run.finished_at = status, items, error, utcnow()
        session.add(run)
    return run


def last_runs(session: Session, limit_per_job: int = 1) -> dict[str, list[JobRun]]:
    out: dict[str, list[JobRun]] = {}
    for job_id in load_jobs():
        out[job_id] = list(session.exec(select(JobRun).where(JobRun.job_id == job_id)
                                        .order_by(JobRun.started_at.desc()).limit(limit_per_job)).all())
    return out


# ---------------------------------------------------------------- the APScheduler side

_scheduler = None
_scheduler_lock = threading.Lock()


def _fire(job_id: str) -> None:
    spec = REGISTRY[job_id]
    now = utcnow()
    run_job(job_id, occurrence=spec.occurrence_for(now), now=now)


def start() -> object | None:
    """Start this process's scheduler (idempotent). Disabled with HR_SCHEDULER_ENABLED=false."""
    global _scheduler
    if not get_settings().scheduler_enabled:
        log.info("scheduler disabled (HR_SCHEDULER_ENABLED=false)")
        return None
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    with _scheduler_lock:
        if _scheduler is not None:
            return _scheduler
        scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                                    "misfire_grace_time": 300})
        for spec in load_jobs().values():
            scheduler.add_job(_fire, CronTrigger(timezone=UTC, **spec.cron), args=[spec.id], id=spec.id,
                              name=spec.description, replace_existing=True)
        scheduler.start()
        _scheduler = scheduler
        log.info("scheduler started with %d jobs", len(REGISTRY))
        return scheduler


def shutdown() -> None:
    global _scheduler
    with _scheduler_lock:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None


def next_run_time(job_id: str) -> datetime | None:
    """Next fire time of a job (from this process's scheduler, else computed from its trigger)."""
    from apscheduler.triggers.cron import CronTrigger

    spec = load_jobs().get(job_id)
    if spec is None:
        return None
    if _scheduler is not None:
        j = _scheduler.get_job(job_id)
        if j is not None and j.next_run_time is not None:
            return j.next_run_time
    return CronTrigger(timezone=UTC, **spec.cron).get_next_fire_time(None, utcnow())
