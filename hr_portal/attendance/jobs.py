"""Scheduled jobs of attendance (see hr_portal/core/scheduler.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hr_portal.attendance import service
from hr_portal.core.scheduler import job


@job("attendance.auto_checkout", cron={"minute": "*/5"},
     description="Close forgotten check-outs at shift end once the shift's tolerance has passed (flagged for review)")
def auto_checkout(*, session: Session, now: datetime) -> int:
    return service.auto_close_open_records(session=session, now=now)
