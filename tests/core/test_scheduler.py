"""Scheduled jobs run exactly once per occurrence, record their runs, and report failures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from hr_portal.core import scheduler
from hr_portal.core.scheduler import JobRun, job

CALLS: list[str] = []


@job("tests.count_calls", cron={"minute": "*/5"}, description="Counts its calls (tests)")
def _count_calls(*, session, now) -> int:
    CALLS.append(now.isoformat())
    return 3


@job("tests.always_fails", cron={"hour": 1}, description="Raises (tests)")
def _always_fails(*, session, now) -> int:
    raise RuntimeError("boom in job")


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def test_occurrence_is_floored_to_the_trigger_resolution():
    spec = scheduler.REGISTRY["tests.count_calls"]
    a = spec.occurrence_for(datetime(2026, 11, 26, 9, 5, 0, 120000, tzinfo=UTC))
    b = spec.occurrence_for(datetime(2026, 11, 26, 9, 5, 0, 980000, tzinfo=UTC))
    assert a == b == datetime(2026, 11, 26, 9, 5, tzinfo=UTC)


def test_a_scheduled_run_records_start_end_outcome_and_items(db):
    now = datetime(2026, 11, 26, 9, 5, 1, tzinfo=UTC)
    run = scheduler.run_job("tests.count_calls", now=now)
    assert run is not None and run.status == "succeeded" and run.items == 3
    stored = db.exec(select(JobRun).where(JobRun.job_id == "tests.count_calls")).one()
    assert stored.finished_at is not None and stored.trigger == "schedule"
    assert len(CALLS) == 1


def test_the_same_occurrence_never_runs_twice(db):
    now = datetime(2026, 11, 26, 9, 10, 0, tzinfo=UTC)
    assert scheduler.run_job("tests.count_calls", now=now) is not None
    assert scheduler.run_job("tests.count_calls", now=now.replace(second=40)) is None
    assert len(CALLS) == 1


@pytest.mark.race
def test_two_schedulers_racing_on_one_occurrence_run_it_once(db):
    now = datetime(2026, 11, 26, 9, 15, 0, tzinfo=UTC)
    results: list = []
    barrier = threading.Barrier(8)

    def fire():
        barrier.wait()
        results.append(scheduler.run_job("tests.count_calls", now=now))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    assert len(CALLS) == 1
    assert len(db.exec(select(JobRun).where(JobRun.job_id == "tests.count_calls")).all()) == 1


def test_a_failing_job_is_recorded_as_failed_with_its_error(db):
    run = scheduler.run_job("tests.always_fails", now=datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    assert run.status == "failed"
    assert "boom in job" in run.error


def test_manual_runs_are_recorded_with_who_asked(db, people):
    admin = people["admin"]
    run = scheduler.run_job("tests.count_calls", trigger="manual", user_id=admin.user.id)
    assert run.trigger == "manual" and run.triggered_by_user_id == admin.user.id


def test_core_jobs_are_registered():
    jobs = scheduler.load_jobs()
    assert {"core.deliver_mail", "core.purge_expired_tokens"} <= set(jobs)


@pytest.mark.parametrize(("cron", "text"), [
    ({"minute": "*"}, "Every minute"),
    ({"minute": "*/5"}, "Every 5 minutes"),
    ({"hour": 3, "minute": 17}, "Daily at 03:17 UTC"),
    ({"day_of_week": "mon", "hour": 7, "minute": 0}, "Weekly (mon) at 07:00 UTC"),
    ({"day": 1, "hour": 0, "minute": 5}, "Monthly on day 1 at 00:05 UTC"),
    ({"second": "*/30"}, "Cron (UTC): second=*/30"),
])
def test_schedules_are_shown_in_words(cron, text):
    assert scheduler.JobSpec("x", _count_calls, cron, "").schedule_text == text
