"""Time every dashboard and report service call against a database built by bench/generate_org.py.

    .venv/bin/python bench/bench_reports.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports --runs 15

Each call runs once to warm up, then --runs times, each in its own session and transaction (as the UI
runs it); prints p50 / p95 / max wall-clock milliseconds and the p50 CPU time of this process as a
Markdown table (copied into docs/performance.md), with the load average at the start and the end.
The actors are the generated organization's CEO (admin), an HR manager, a department head (a manager
with ~500 people below them), a team lead (~25 reports) and an employee. CSV exports run --export-runs
times (the monthly sheet export covers every active person of the organization).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure(url: str) -> None:
    os.environ.update({
        "HR_ENV": "test", "HR_DATABASE_URL": url, "HR_REDIS_URL": "", "HR_SCHEDULER_ENABLED": "false",
        "HR_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
        "HR_OUTBOX_DIR": tempfile.mkdtemp(prefix="bench-outbox-"), "HR_SMTP_HOST": "",
    })


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def actors():
    from sqlalchemy import func
    from sqlmodel import Session, select

    from hr_portal.auth.models import Role, User
    from hr_portal.core.authz import Actor
    from hr_portal.core.db import get_engine
    from hr_portal.employees.models import Employee, EmployeeStatus

    with Session(get_engine()) as s:
        org = s.exec(select(func.max(Employee.organization_id))).one()

        def by_role(role: Role) -> tuple[int, int]:
            return s.exec(select(User.id, Employee.id).join(Employee, Employee.user_id == User.id).where(
                User.organization_id == org, User.role == role, User.is_active == True)  # noqa: E712
                .order_by(Employee.id)).first()

        admin, hr = by_role(Role.admin), by_role(Role.hr_manager)
        # A department head reports to the CEO; a team lead to the head, with the most reports.
        head = s.exec(select(User.id, Employee.id).join(Employee, Employee.user_id == User.id).where(
            Employee.manager_id == admin[1], User.role == Role.manager).order_by(Employee.id)).first()
        reports = (select(Employee.manager_id, func.count().label("n")).where(Employee.status == EmployeeStatus.active)
                   .group_by(Employee.manager_id).subquery())
        lead = s.exec(select(User.id, Employee.id, reports.c.n).join(Employee, Employee.user_id == User.id)
                      .join(reports, reports.c.manager_id == Employee.id)
                      .where(Employee.manager_id == head[1]).order_by(reports.c.n.desc(), Employee.id)).first()
        emp = s.exec(select(Employee.id).where(Employee.organization_id == org, Employee.manager_id == lead[1],
                                               Employee.status == EmployeeStatus.active).limit(1)).one()
        from hr_portal.employees.service import reports_subquery

        below = s.exec(select(func.count()).select_from(Employee).where(
            Employee.id.in_(reports_subquery(head[1])), Employee.status == EmployeeStatus.active)).one()
    return org, {
        "admin": Actor(user_id=admin[0], organization_id=org, role=Role.admin, employee_id=admin[1]),
        "hr": Actor(user_id=hr[0], organization_id=org, role=Role.hr_manager, employee_id=hr[1]),
        f"manager (head, {below} people)": Actor(user_id=head[0], organization_id=org, role=Role.manager,
                                                             employee_id=head[1]),
        f"manager (lead, {lead[2]} reports)": Actor(user_id=lead[0], organization_id=org, role=Role.manager,
                                                    employee_id=lead[1]),
        "employee": Actor(user_id=-1, organization_id=org, role=Role.employee, employee_id=emp),
    }


def timed(fn: Callable, runs: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and this process's CPU time (ms) of each run after a warm-up (the CPU time leaves out
    the database server's work and the time spent waiting for a core on a loaded machine)."""
    from sqlmodel import Session

    from hr_portal.core.db import get_engine

    samples, cpu, result = [], [], None
    for i in range(runs + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        with Session(get_engine(), expire_on_commit=False) as s:
            result = fn(s)
            s.rollback()
        if i:  # the first run warms up caches and SQLAlchemy's statement cache
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    return samples, cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--export-runs", type=int, default=2)
    parser.add_argument("--only", default="", help="run only calls whose label contains this text")
    parser.add_argument("--skip", default="", help="skip calls whose label contains this text")
    args = parser.parse_args()
    configure(args.database_url)

    import hr_portal.models  # noqa: F401
    from hr_portal.dashboard import service as dashboard
    from hr_portal.reports import service as reports

    _org, who = actors()
    today = date.today()
    manager_head = next(k for k in who if "head" in k)
    manager_lead = next(k for k in who if "lead" in k)

    def f(days: int, **kw):
        return reports.make_filters(start=today - timedelta(days=days - 1), end=today,
                                    max_days=reports.MAX_HEADCOUNT_DAYS, **kw)

    month = today.replace(day=1)
    calls: list[tuple[str, str, Callable, int]] = []
    for role in ("employee", manager_lead, manager_head, "hr", "admin"):
        calls.append(("Home dashboard", role, lambda s, a=who[role]: dashboard.home(session=s, actor=a), args.runs))
    for role in ("hr", manager_head):
        a = who[role]
        calls += [
            ("Headcount, 12 months", role,
             lambda s, a=a: reports.headcount_report(session=s, actor=a, filters=f(365)), args.runs),
            ("Headcount, 24 months", role,
             lambda s, a=a: reports.headcount_report(session=s, actor=a, filters=f(730)), args.runs),
            ("Attendance, 30 days", role,
             lambda s, a=a: reports.attendance_report(session=s, actor=a, filters=f(30)), args.runs),
            ("Attendance, 90 days", role,
             lambda s, a=a: reports.attendance_report(session=s, actor=a, filters=f(90)), args.runs),
            ("Attendance, 365 days", role,
             lambda s, a=a: reports.attendance_report(session=s, actor=a, filters=f(365)), args.runs),
            ("Monthly sheet, page 1 (50 people)", role,
             lambda s, a=a: reports.monthly_sheet(session=s, actor=a, month=month), args.runs),
            ("Monthly sheet, last page", role,
             lambda s, a=a: reports.monthly_sheet(session=s, actor=a, month=month, page=10_000), args.runs),
            ("Leave, this year", role,
             lambda s, a=a: reports.leave_report(session=s, actor=a, filters=reports.make_filters(
                 start=today.replace(month=1, day=1), end=today)), args.runs),
            ("Today across the scope", role, lambda s, a=a: reports.today_counts(session=s, actor=a), args.runs),
        ]
    hr = who["hr"]
    calls += [
        ("Attendance, 30 days, one department", "hr",
         lambda s: reports.attendance_report(session=s, actor=hr, filters=f(30, department_id=_a_department(s))),
         args.runs),
        ("CSV: headcount 24 months", "hr",
         lambda s: reports.headcount_csv(session=s, actor=hr, filters=f(730)), args.export_runs),
        ("CSV: attendance 90 days", "hr",
         lambda s: reports.attendance_csv(session=s, actor=hr, filters=f(90)), args.export_runs),
        ("CSV: leave this year", "hr",
         lambda s: reports.leave_csv(session=s, actor=hr, filters=reports.make_filters(
             start=today.replace(month=1, day=1), end=today)), args.export_runs),
        ("Attendance, 365 days, one company", "hr",
         lambda s: reports.attendance_report(session=s, actor=hr, filters=f(365, company_id=_a_company(s))),
         args.runs),
        ("CSV: attendance 365 days", "hr",
         lambda s: reports.attendance_csv(session=s, actor=hr, filters=f(365)), args.export_runs),
        ("CSV: monthly sheet, whole organization (this month)", "hr",
         lambda s: reports.monthly_sheet_csv(session=s, actor=hr, month=month), args.export_runs),
        ("CSV: monthly sheet, whole organization (last month)", "hr",
         lambda s: reports.monthly_sheet_csv(session=s, actor=hr, month=(month - timedelta(days=1)).replace(day=1)),
         args.export_runs),
        ("CSV: monthly sheet, whole organization, first chunk (1,000 people)", "hr",
         lambda s: next(iter(reports.monthly_sheet_csv_stream(session=s, actor=hr, month=month)[1])),
         args.export_runs),
        ("CSV: monthly sheet, department head's people", manager_head,
         lambda s: reports.monthly_sheet_csv(session=s, actor=who[manager_head], month=month), args.export_runs),
    ]
    print(f"Runs per call: {args.runs} (exports: {args.export_runs}), after one warm-up run. Times in ms. "
          f"Load average at start: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}.\n")
    print("| call | as | p50 | p95 | max | CPU p50 |\n|---|---|---:|---:|---:|---:|")
    for label, role, fn, runs in calls:
        if (args.only and args.only not in label) or (args.skip and args.skip in label):
            continue
        samples, cpu, _ = timed(fn, runs)
        print(f"| {label} | {role} | {statistics.median(samples):.0f} | {percentile(samples, 0.95):.0f} | "
              f"{max(samples):.0f} | {statistics.median(cpu):.0f} |", flush=True)
    print(f"\nLoad average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}.")
    return 0


def _a_company(session) -> int:
    from sqlmodel import select

    from hr_portal.org.models import Company

    return session.exec(select(Company.id).order_by(Company.id)).first()


def _a_department(session) -> int:
    from sqlmodel import select

    from hr_portal.employees.models import Department

    return session.exec(select(Department.id).order_by(Department.id)).first()


if __name__ == "__main__":
    sys.exit(main())
