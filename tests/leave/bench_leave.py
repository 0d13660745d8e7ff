"""Leave performance figures (docs/performance.md, "Leave"). Not a test: run it by hand against a scratch database.

    HR_DATABASE_URL=sqlite:////tmp/leave_bench.db .venv/bin/python -m tests.leave.bench_leave
    HR_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/leave_bench .venv/bin/python -m tests.leave.bench_leave

It DROPS and rebuilds the schema of that database (migrations), then builds one organization with 500 people
(10 managers x 49 reports + HR), the default leave types, 2,000 requests, and times the hot paths.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time

os.environ.setdefault("HR_ENV", "test")
os.environ.setdefault("HR_BCRYPT_ROUNDS", "4")
os.environ.setdefault("HR_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmn")
os.environ["HR_REDIS_URL"] = ""

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

import hr_portal.models  # noqa: E402,F401
from hr_portal.auth.models import Role  # noqa: E402
from hr_portal.core.config import get_settings  # noqa: E402
from hr_portal.core.db import get_engine, reset_engine  # noqa: E402
from hr_portal.employees.models import Employee  # noqa: E402
from hr_portal.leave import service  # noqa: E402
from hr_portal.leave.models import LeaveLedger, LeaveRequest, LeaveStatus, LedgerKind  # noqa: E402
from tests import factories  # noqa: E402
from tests.leave.helpers import actor_of  # noqa: E402

NOW = dt.datetime(2030, 3, 4, 9, tzinfo=dt.UTC)


def _reset() -> None:
    from hr_portal.cli import migrate

    settings = get_settings()
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    reset_engine()
    migrate()


def timed(label: str, fn, repeat: int = 20) -> None:
    samples = []
    for _ in range(repeat):
        with Session(get_engine(), expire_on_commit=False) as s:
            start = time.perf_counter()
            fn(s)
            samples.append((time.perf_counter() - start) * 1000)
            s.rollback()
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(f"{label:58s} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   (n={repeat})")


def main() -> int:
    _reset()
    print(f"database: {get_settings().database_url.split('@')[-1]}")
    with Session(get_engine(), expire_on_commit=False) as s:
        org = factories.create_organization(s, name="Bench")
        hr = factories.create_person(s, org, role=Role.hr_manager)
        managers, employees = [], []
        for _m in range(10):
            m = factories.create_person(s, org, role=Role.manager, manager=hr)
            managers.append(m)
            for _e in range(49):
                employees.append(factories.create_person(s, org, manager=m, date_of_joining=dt.date(2025, 1, 1)))
        types = service.ensure_default_types(s, org.id)
        s.commit()
    annual = next(t for t in types if t.name == "Annual")
    with Session(get_engine()) as s:
        start = time.perf_counter()
        written = service.run_entitlements(session=s, now=NOW)
        s.commit()
        print(f"{'entitlement job, 500 people x 4 types (first run)':58s} {1000 * (time.perf_counter() - start):7.0f} ms"
              f"   ({written} ledger lines)")
        start = time.perf_counter()
        again = service.run_entitlements(session=s, now=NOW)
        s.commit()
        print(f"{'entitlement job again (nothing to write)':58s} {1000 * (time.perf_counter() - start):7.0f} ms"
              f"   ({again} lines)")
    # 4 requests per employee across the year: two approved (with ledger lines), two pending
    with Session(get_engine()) as s:
        ids = {e.employee_id for e in employees}
        for emp in s.exec(select(Employee).where(Employee.id.in_(ids))).all():
            for k in range(4):
                start_day = dt.date(2030, 3, 4) + dt.timedelta(weeks=6 * k + emp.id % 5)
                status = LeaveStatus.approved if k < 2 else LeaveStatus.pending
                req = LeaveRequest(organization_id=org.id, employee_id=emp.id, leave_type_id=annual.id,
                                   start_date=start_day, end_date=start_day + dt.timedelta(days=1), days=2,
                                   status=status, requester_user_id=emp.user_id)
                s.add(req)
                s.flush()
                if status == LeaveStatus.approved:
                    s.add(LeaveLedger(organization_id=org.id, employee_id=emp.id, leave_type_id=annual.id, year=2030,
                                      entry_date=start_day, kind=LedgerKind.taken, amount=-2,
                                      leave_request_id=req.id))
        s.commit()
    hr_actor, mgr_actor, emp_actor = actor_of(hr), actor_of(managers[0]), actor_of(employees[0])
    print("2,000 requests (1,000 pending); timings per call:")
    timed("leave_days, whole organization, one month (attendance)",
          lambda s: service.leave_days(session=s, organization_id=org.id, employee_ids=None,
                                       start=dt.date(2030, 3, 1), end=dt.date(2030, 3, 31)))
    timed("leave_days, one employee, one year",
          lambda s: service.leave_days(session=s, organization_id=org.id, employee_ids=[employees[0].employee_id],
                                       start=dt.date(2030, 1, 1), end=dt.date(2030, 12, 31)))
    timed("balances (own, 4 types)", lambda s: service.balances(session=s, actor=emp_actor, year=2030))
    timed("ledger (own, Annual)", lambda s: service.ledger(session=s, actor=emp_actor, leave_type_id=annual.id,
                                                              year=2030))
    timed("approval queue, manager (49 reports, ~98 pending)",
          lambda s: service.approval_queue(session=s, actor=mgr_actor, now=NOW), repeat=10)
    timed("approval queue, HR (first 100 of 1,000 pending)",
          lambda s: service.approval_queue(session=s, actor=hr_actor, now=NOW), repeat=10)
    timed("team calendar, manager (50 people, one month)",
          lambda s: service.team_calendar(session=s, actor=mgr_actor, year=2030, month=4), repeat=10)
    timed("quote (cost and balance after, no write)",
          lambda s: service.quote(session=s, actor=emp_actor, leave_type_id=annual.id, start_date="2030-12-01",
                                  end_date="2030-12-05", now=NOW))
    timed("apply (validate, lock, insert; rolled back)",
          lambda s: service.apply_leave(session=s, actor=emp_actor, leave_type_id=annual.id,
                                        start_date="2030-12-01", end_date="2030-12-05", now=NOW))
    with Session(get_engine()) as s:
        pending = s.exec(select(LeaveRequest.id).where(LeaveRequest.status == LeaveStatus.pending,
                                                       LeaveRequest.employee_id.in_(
                                                           select(Employee.id).where(
                                                               Employee.manager_id == managers[0].employee_id)))
                         ).first()
    timed("decide (conditional update + ledger; rolled back)",
          lambda s: service.decide(session=s, actor=mgr_actor, leave_id=pending, status="approved", now=NOW))
    return 0


if __name__ == "__main__":
    sys.exit(main())
