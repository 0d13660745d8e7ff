"""Concurrency with real threads and separate connections (SQLite and PostgreSQL): one approval wins,
and concurrent requests never overdraw a balance."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from hr_portal.core.db import get_engine
from hr_portal.core.errors import AppError
from hr_portal.leave import service
from hr_portal.leave.models import LeaveApproval, LeaveLedger, LeaveRequest, LeaveStatus, LedgerKind
from tests.leave.helpers import NOW, run, update_type

pytestmark = pytest.mark.race


def _hammer(n: int, work) -> Counter:
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            result = "ok"
        except AppError as exc:
            result = type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - counted, so the assertion shows it
            result = f"unexpected {type(exc).__name__}: {exc}"[:300]
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_fifty_concurrent_approvals_give_exactly_one(leave_org):
    leave = run(service.apply_leave, actor=leave_org["actors"]["employee"],
                leave_type_id=leave_org["types"]["Annual"].id, start_date="2030-03-11", end_date="2030-03-12", now=NOW)
    approvers = [leave_org["actors"][k] for k in ("manager", "hr_manager", "admin")]
    outcomes = _hammer(50, lambda i: run(service.decide, actor=approvers[i % 3], leave_id=leave.id,
                                         status="approved" if i % 2 == 0 else "rejected", now=NOW))
    assert outcomes["ok"] == 1 and outcomes["Conflict"] == 49, outcomes
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(LeaveApproval)).one() == 1
        status = s.get(LeaveRequest, leave.id).status
        taken = s.exec(select(func.count()).select_from(LeaveLedger).where(LeaveLedger.kind == LedgerKind.taken)).one()
    assert taken == (1 if status == LeaveStatus.approved else 0)


def test_concurrent_requests_never_overdraw_the_balance(leave_org):
    # 5 compensatory days; 12 one-day requests on different days at once: exactly 5 may be accepted.
    comp = leave_org["types"]["Compensatory"].id
    update_type(comp, min_notice_days=0)
    run(service.allocate, actor=leave_org["actors"]["hr_manager"], leave_type_id=comp, amount=5, reason="Overtime",
        employee_ids=[leave_org["people"]["employee"].employee_id], year=2030)
    days = [d.isoformat() for d in (dt.date(2030, 4, 1) + dt.timedelta(days=i) for i in range(20))
            if d.isoweekday() < 6][:12]
    outcomes = _hammer(12, lambda i: run(service.apply_leave, actor=leave_org["actors"]["employee"],
                                         leave_type_id=comp, start_date=days[i], end_date=days[i], now=NOW))
    assert outcomes["ok"] == 5 and outcomes["ValidationFailed"] == 7, outcomes
    with Session(get_engine()) as s:
        reserved = s.exec(select(func.sum(LeaveRequest.days)).where(LeaveRequest.status == LeaveStatus.pending)).one()
    assert reserved == 5


def test_concurrent_overlapping_requests_create_one(leave_org):
    outcomes = _hammer(8, lambda i: run(service.apply_leave, actor=leave_org["actors"]["employee"],
                                         leave_type_id=leave_org["types"]["Annual"].id, start_date="2030-03-11",
                                         end_date="2030-03-13", now=NOW))
    assert outcomes["ok"] == 1 and outcomes["ValidationFailed"] == 7, outcomes


def test_concurrent_job_runs_write_each_period_once(leave_org):
    from hr_portal.leave.models import Accrual, LeaveType

    with Session(get_engine()) as s:
        s.add(LeaveType(organization_id=leave_org["org"].id, name="Monthly", yearly_entitlement=12,
                        accrual=Accrual.monthly))
        s.commit()
    written: list[int] = []
    lock = threading.Lock()

    def work(_i):
        n = run(service.run_entitlements, now=NOW)
        with lock:
            written.append(n)

    _hammer(6, work)
    assert sum(written) == 4 * 3  # four people x January..March, whoever wrote them
