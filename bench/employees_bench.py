"""Employees at scale: the directory and the list endpoint with 20,000 people, CSV import and export.

Builds a fresh organization of N employees (bulk inserts, not per-row ORM) in a dedicated database,
then times, after warm-up, p50/p95/max over --runs requests:

- GET /api/v1/employees: first page, a deep (last) page, a name search, an email search, filters;
  as admin (whole organization) and as a manager (scoped);
- the service call the directory page makes (list_employees, 25 rows);
- CSV export of the whole directory; CSV import of --import-rows new people (preview, then apply).

Usage (the database is dropped and rebuilt, so it must be a scratch database whose name contains "bench"):

    createdb -h 127.0.0.1 -U postgres bench_employees
    .venv/bin/python bench/employees_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_employees
    .venv/bin/python bench/employees_bench.py --database-url sqlite:////tmp/bench_employees.db

Results go to stdout as a Markdown table (copied into docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure(url: str) -> None:
    """Settings come from the environment: set them before anything imports hr_portal."""
    outbox = tempfile.mkdtemp(prefix="bench-outbox-")
    os.environ.update({
        "HR_ENV": "test", "HR_DATABASE_URL": url, "HR_REDIS_URL": "", "HR_BCRYPT_ROUNDS": "4",
        "HR_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop", "HR_OUTBOX_DIR": outbox,
        "HR_RATE_LIMIT_PER_MINUTE": "0",  # measure the endpoint, not the rate limiter
        "HR_SMTP_HOST": "",
    })


def reset_database(url: str) -> None:
    from sqlalchemy import text

    from hr_portal.core.db import get_engine, reset_engine

    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    else:
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    reset_engine()


FIRST = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ida", "Jon", "Kai", "Lea", "Max", "Nia", "Otto",
         "Pia", "Quinn", "Rosa", "Sam", "Tia", "Uwe", "Vera", "Will", "Xena", "Yuri", "Zoe", "Anna", "Bruno", "Carla",
         "Dario", "Elena", "Farid", "Greta", "Hanna", "Ivan", "Jana", "Karim", "Lina", "Marco", "Nora"]
LAST = ["Schmidt", "Weber", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf",
        "Neumann", "Schwarz", "Braun", "Kaya", "Nguyen", "Patel", "Okafor", "Silva", "Rossi", "Dubois", "Novak",
        "Jensen", "Tanaka", "Garcia", "Lopez", "Mensah", "Haddad", "Kowalski", "Larsen", "Berg", "Costa", "Dahl"]


def build(n: int) -> dict:
    """One organization, 2 companies, 20 departments and n people in a tree (CEO, 20 heads, team leads of
    ~10). Users and employees are inserted with executemany in chunks; ids are assigned here."""
    from datetime import date, timedelta

    from sqlalchemy import insert, text
    from sqlmodel import Session

    from hr_portal.auth.models import Role, User
    from hr_portal.core.db import get_engine, utcnow
    from hr_portal.core.security import hash_password
    from hr_portal.employees.models import Department, Employee, EmploymentType
    from hr_portal.org.models import Company, Organization

    rng = random.Random(20000)
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as s:
        org = Organization(name="Bench Corp")
        s.add(org)
        s.flush()
        companies = [Company(organization_id=org.id, name=name, timezone=tz) for name, tz in
                     (("Bench GmbH", "Europe/Berlin"), ("Bench Inc.", "America/Chicago"))]
        s.add_all(companies)
        s.flush()
        depts = [Department(organization_id=org.id, company_id=companies[i % 2].id, name=f"Department {i + 1:02d}")
                 for i in range(20)]
        s.add_all(depts)
        s.commit()
        org_id, company_ids, dept_ids = org.id, [c.id for c in companies], [d.id for d in depts]

    pw = hash_password("Bench-pass-2026")
    now = utcnow()
    users, employees = [], []
    roles: dict[int, Role] = {}
    for i in range(1, n + 1):
        if i == 1:
            manager, role = None, Role.admin
        elif i <= 21:
            manager, role = 1, Role.manager  # department heads
        elif i <= 21 + (n - 21) // 10:
            manager, role = 2 + (i % 20), Role.manager  # team leads under the heads
        else:
            manager, role = 22 + (i % max(1, (n - 21) // 10)), Role.employee
        roles[i] = role
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{i}@bench.example".lower()
        users.append({"id": i, "organization_id": org_id, "email": email, "role": role.value, "is_active": True,
                      "failed_login_count": 0, "token_version": 1, "created_at": now,
                      "password_hash": pw if i <= 2 else None})
        employees.append({
            "id": i, "organization_id": org_id, "company_id": company_ids[i % 2], "department_id": dept_ids[i % 20],
            "manager_id": manager, "user_id": i, "employee_code": f"B-{i:06d}", "first_name": first,
            "last_name": last, "email": email, "phone": f"+49 30 {rng.randint(1000000, 9999999)}",
            "designation": rng.choice(["Engineer", "Analyst", "Designer", "Specialist", "Consultant"]),
            "employment_type": rng.choice(list(EmploymentType)).value,
            "status": "inactive" if i > 21 and rng.random() < 0.05 else "active",
            "date_of_joining": date(2015, 1, 1) + timedelta(days=rng.randint(0, 4000)),
            "created_at": now, "updated_at": now,
        })
    started = time.perf_counter()
    with engine.begin() as conn:
        for chunk in range(0, n, 5000):
            conn.execute(insert(User), users[chunk:chunk + 5000])
            conn.execute(insert(Employee), employees[chunk:chunk + 5000])
        if engine.dialect.name == "postgresql":
            for table in ("users", "employees"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    print(f"inserted {n:,} users and employees in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return {"org_id": org_id, "admin_email": users[0]["email"], "manager_email": users[1]["email"],
            "sample_email": users[n // 2]["email"]}


def timings(fn: Callable[[], object], runs: int, warmup: int = 3) -> tuple[float, float, float, float]:
    """Wall-clock p50, p95, max and the median CPU time of this process (ms). On a busy machine the wall
    time includes waiting for a CPU; with SQLite (in-process) the CPU time is close to what an idle
    machine would take."""
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, samples[-1], statistics.median(cpu)


def import_csv(n: int, manager_email: str) -> bytes:
    lines = ["firstName,lastName,email,designation,department,managerEmail,employmentType,dateOfJoining"]
    rng = random.Random(10000)
    for i in range(n):
        manager = manager_email if i < 100 else f"imported.{rng.randint(0, 99)}@bench.example"
        lines.append(f"{rng.choice(FIRST)},{rng.choice(LAST)},imported.{i}@bench.example,Associate,"
                     f"Department {1 + i % 20:02d},{manager},full_time,2026-0{1 + i % 9}-1{i % 9}")
    return ("\n".join(lines) + "\n").encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("the database is dropped and rebuilt: use a scratch database whose name contains 'bench'")
    configure(args.database_url)

    from fastapi.testclient import TestClient
    from sqlmodel import Session, select

    from hr_portal.api import create_api
    from hr_portal.auth import service as auth_service
    from hr_portal.cli import migrate
    from hr_portal.core.db import get_engine, session_scope
    from hr_portal.employees import import_export, service
    from hr_portal.employees.models import EmployeeQuery

    reset_database(args.database_url)
    migrate()
    info = build(args.employees)
    engine = get_engine()
    with Session(engine) as s:
        admin = auth_service.actor_for(s, auth_service.get_user_by_email(s, info["admin_email"]))
        manager = auth_service.actor_for(s, auth_service.get_user_by_email(s, info["manager_email"]))

    client = TestClient(create_api())

    def token(email: str) -> dict:
        r = client.post("/api/v1/auth/login", json={"email": email, "password": "Bench-pass-2026"})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}

    h_admin, h_manager = token(info["admin_email"]), token(info["manager_email"])
    total = client.get("/api/v1/employees", headers=h_admin).json()["pagination"]["total"]
    last_page = -(-total // 20)

    def api(params: dict, headers: dict = h_admin) -> Callable[[], object]:
        def call():
            r = client.get("/api/v1/employees", params=params, headers=headers)
            assert r.status_code == 200, r.text
        return call

    def directory_as(actor, query: EmployeeQuery, page: int = 1) -> Callable[[], object]:
        def call():
            with session_scope() as s:
                service.list_employees(session=s, actor=actor, query=query, page=page, limit=25)
        return call

    def directory(query: EmployeeQuery, page: int = 1) -> Callable[[], object]:
        return directory_as(admin, query, page)

    sample = info["sample_email"]
    cases = [
        ("API list, first page (20)", api({"page": 1})),
        (f"API list, last page ({last_page:,})", api({"page": last_page})),
        ("API search by name ('ann')", api({"search": "ann"})),
        ("API search by email", api({"search": sample})),
        ("API filters (department, active, by joining date desc)",
         api({"departmentId": 3, "status": "active", "sortBy": "dateOfJoining", "sortOrder": "desc"})),
        ("API list as a manager (scoped)", api({"page": 1}, h_manager)),
        ("Directory service as a manager (scoped)", directory_as(manager, EmployeeQuery(status="active"))),
        ("Directory service, first page (25, active)", directory(EmployeeQuery(status="active"))),
        ("Directory service, page 700 (25, active)", directory(EmployeeQuery(status="active"), page=700)),
        ("Directory service, search 'schmidt'", directory(EmployeeQuery(search="schmidt", status="active"))),
        ("Directory service, search two words 'ada weber'", directory(EmployeeQuery(search="ada weber"))),
    ]
    rows = []
    for label, fn in cases:
        p50, p95, worst, cpu = timings(fn, args.runs)
        rows.append((label, p50, p95, worst, cpu))
        print(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, cpu {cpu:.1f} ms", file=sys.stderr)

    started = time.perf_counter()
    with session_scope() as s:
        _, exported = import_export.export_csv(session=s, actor=admin, query=EmployeeQuery())
    export_s = time.perf_counter() - started
    imported = None
    if args.import_rows:
        content = import_csv(args.import_rows, info["manager_email"])
        started = time.perf_counter()
        with session_scope() as s:  # timings include the commit
            summary = import_export.preview_import(session=s, actor=admin, filename="bench.csv", content=content)
        preview_s = time.perf_counter() - started
        started = time.perf_counter()
        committed: list[float] = []
        with Session(engine, expire_on_commit=False) as s:
            result = import_export.apply_import(session=s, actor=admin, import_id=summary["id"], send_welcome=True,
                                                on_committed=lambda _summary: committed.append(time.perf_counter()))
            # After the commit, other modules' listeners of the import's event run (in this thread).
            s.commit()
        finished = time.perf_counter()
        with Session(engine) as s:
            from sqlalchemy import func

            from hr_portal.leave.models import LeaveLedger
            ledger_lines = s.exec(select(func.count()).select_from(LeaveLedger)).one()
        imported = (summary, result, preview_s, committed[0] - started, finished - committed[0], ledger_lines)

    dialect = engine.dialect.name
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n#### {dialect}: {args.employees:,} employees, {args.runs} runs each "
          f"(load average {load} on {os.cpu_count()} CPUs at the end)\n")
    print("| operation | p50 | p95 | max | CPU p50 (this process) |")
    print("|---|---:|---:|---:|---:|")
    for label, p50, p95, worst, cpu in rows:
        print(f"| {label} | {p50:.1f} ms | {p95:.1f} ms | {worst:.1f} ms | {cpu:.1f} ms |")
    print("\n| one-off | time |\n|---|---:|")
    print(f"| CSV export of the whole directory ({exported:,} rows) | {export_s:.2f} s |")
    if imported:
        summary, result, preview_s, apply_s, after_s, ledger_lines = imported
        print(f"| CSV import preview, {args.import_rows:,} new rows ({summary['error']} errors) | {preview_s:.2f} s |")
        print(f"| CSV import apply, {result['result']['created']:,} created (accounts, employees, audit, welcome "
              f"mails; one transaction incl. commit) | {apply_s:.2f} s |")
        print(f"| after the commit: other modules' listeners of `employees.imported` (leave entitlements: "
              f"{ledger_lines:,} ledger lines) | {after_s:.2f} s |")
    with Session(engine) as s:
        n = len(s.exec(select(service.Employee.id)).all())
    print(f"\n(organization size after the import: {n:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
