"""Scheduled notification jobs (APScheduler through core/scheduler.py: each occurrence runs once across
processes). Cron times are UTC; each job works out local days per company itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hr_portal.core.scheduler import job
from hr_portal.notifications import reliable, reminders


@job("notifications.checkin_reminders", cron={"minute": "*/5"},
     description="Remind people not checked in some minutes after their shift began (working days, not on leave)")
def checkin_reminders(*, session: Session, now: datetime) -> int:
    return reminders.send_checkin_reminders(session=session, now=now)


@job("notifications.checkout_reminders", cron={"minute": "*/5"},
     description="Remind people still checked in shortly before the automatic check-out closes their day")
def checkout_reminders(*, session: Session, now: datetime) -> int:
    return reminders.send_checkout_reminders(session=session, now=now)


@job("notifications.approval_reminders", cron={"hour": 7, "minute": 30},
     description="Remind approvers of requests waiting for days; escalate old ones to HR")
def approval_reminders(*, session: Session, now: datetime) -> int:
    return reminders.send_approval_reminders(session=session, now=now)


@job("notifications.weekly_digest", cron={"day_of_week": "mon", "hour": 6, "minute": 0},
     description="Weekly HR digest to HR managers and admins")
def weekly_digest(*, session: Session, now: datetime) -> int:
    return reminders.send_weekly_digest(session=session, now=now)


@job("notifications.celebrations", cron={"minute": 5},
     description="Birthday and work-anniversary notes to the team (people can opt out)")
def celebrations(*, session: Session, now: datetime) -> int:
    return reminders.send_celebrations(session=session, now=now)


@job("notifications.retry_listeners", cron={"minute": "*"},
     description="Run failed event listeners again (backoff; gives up after the configured attempts)")
def retry_listeners(*, session: Session, now: datetime) -> int:
    return reliable.retry_failed_listeners(session=session, now=now)
