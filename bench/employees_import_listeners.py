"""What an import's new people cost the leave module after the commit: one `employee.created` per person
(the single-create path, once per person) against one `employees.imported` for all of them.

Runs on a database that bench/employees_bench.py has filled and imported into (its "imported.N@bench.example"
people): deletes their leave ledger lines, writes them again per person, deletes them, writes them again
as a batch, and prints both times and line counts (which must match).

    .venv/bin/python bench/employees_import_listeners.py --database-url sqlite:////tmp/bench_employees.db --people 2000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--people", type=int, default=2000)
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("ledger lines are deleted and rewritten: use the bench database (its name contains 'bench')")
    os.environ.update({"HR_ENV": "test", "HR_DATABASE_URL": args.database_url, "HR_REDIS_URL": "",
                       "HR_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
                       "HR_SCHEDULER_ENABLED": "false"})

    from sqlalchemy import delete, func
    from sqlmodel import Session, select

    import hr_portal.models  # noqa: F401
    from hr_portal.core.db import get_engine
    from hr_portal.employees.models import Employee
    from hr_portal.leave import service
    from hr_portal.leave.models import LeaveLedger

    engine = get_engine()
    with Session(engine) as s:
        ids = list(s.exec(select(Employee.id).where(Employee.email.like("imported.%@bench.example"))
                          .order_by(Employee.id).limit(args.people)).all())
        if not ids:
            parser.error("no imported people: run bench/employees_bench.py on this database first")
        org = s.get(Employee, ids[0]).organization_id

    def reset() -> None:
        with Session(engine) as s:
            for i in range(0, len(ids), 500):
                s.exec(delete(LeaveLedger).where(LeaveLedger.employee_id.in_(ids[i:i + 500])))
            s.commit()

    def lines() -> int:
        with Session(engine) as s:
            return sum(s.exec(select(func.count()).select_from(LeaveLedger).where(
                LeaveLedger.employee_id.in_(ids[i:i + 500]))).one() for i in range(0, len(ids), 500))

    for mode in ("employee.created per person", "employees.imported once"):
        reset()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        if mode.startswith("employee.created"):
            for employee_id in ids:
                service.on_employee_created({"organization_id": org, "employee_id": employee_id})
        else:
            service.on_employees_imported({"organization_id": org, "employee_ids": ids})
        print(f"| {engine.dialect.name} | {mode} | {len(ids):,} | {lines():,} | "
              f"{time.perf_counter() - started:.2f} s | {load:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
