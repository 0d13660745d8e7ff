"""Scheduled leave jobs (exactly once per occurrence across processes, see core/scheduler.py). Each one is
also idempotent by itself: every ledger line it writes carries a period key that is unique per employee
and type, so a re-run or a manual "run now" never writes a line twice."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hr_portal.core.scheduler import job
from hr_portal.leave import service


@job("leave.entitlements", cron={"hour": 0, "minute": 20},
     description="Leave: yearly up-front allocations (1 January, joiners) and monthly accruals")
def entitlements(*, session: Session, now: datetime) -> int:
    return service.run_entitlements(session=session, now=now)


@job("leave.carry_forward", cron={"hour": 0, "minute": 35},
     description="Leave: carry last year's balance into the new year, up to each type's cap")
def carry_forward(*, session: Session, now: datetime) -> int:
    return service.run_carry_forward(session=session, now=now)


@job("leave.expire_carried", cron={"hour": 0, "minute": 50},
     description="Leave: carried days not used by their expiry date lapse")
def expire_carried(*, session: Session, now: datetime) -> int:
    return service.run_expiry(session=session, now=now)
