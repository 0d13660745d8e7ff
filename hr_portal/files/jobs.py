"""Scheduled: uploads that were never attached to anything (a leave attachment picked, then the request
never sent) are deleted after a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from hr_portal.core import files
from hr_portal.core.scheduler import job


@job("files.purge_unlinked", cron={"minute": 40},
     description="Files: delete uploads not attached to anything within a day")
def purge_unlinked(*, session: Session, now: datetime) -> int:
    return files.purge_unlinked(session, older_than=now - timedelta(days=1))
