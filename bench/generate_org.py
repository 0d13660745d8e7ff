"""Build a large organization in PostgreSQL for the dashboard and report benchmarks (not part of `make test`).

    createdb -h 127.0.0.1 -U postgres bench_reports
    .venv/bin/python bench/generate_org.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_reports \\
        --employees 20000 --days 850 --leave-requests 100000

The database is dropped and rebuilt by the real Alembic migrations (so its name must contain "bench"),
then filled with COPY (psycopg) into the real tables, respecting their constraints and indexes:

- one organization, 4 companies in 4 time zones (each with its default 09:00-17:30 shift and public
  holidays), --departments departments, --employees people in a reporting tree (CEO, department
  heads, team leads of ~25, employees); ~8% have left (inactive, with their deactivation in the
  audit log, as the employees module writes it); joining dates spread over the last six years;
- one attendance record per person and working day of the last --days days (after joining, before
  leaving), ~95% of the working days not on leave, ~8% late, ~1% half days: about 10 million rows
  for 20,000 people and 850 days (people join over time and ~8% leave, so 730 days give 8.6 million);
  the punch log is not generated (no report reads it); then the per-day rollup the attendance report
  reads (`attendance_day_summary`, whose triggers are disabled during the COPY) is built in one pass;
- --leave-requests leave requests (never overlapping per person, inside one calendar year, costed in
  working days of the person's company), ~80% approved, the rest pending, rejected or cancelled,
  with the matching ledger (yearly allocations and a `taken` line per approved request);
- a few hundred pending attendance corrections; login-less accounts for the CEO (admin), two HR
  managers and every manager, so bench/bench_reports.py can act as each role.

Sizes are parameters: `--employees 2000 --days 60 --leave-requests 10000` takes seconds.
Prints the row counts and timings (copied into docs/performance.md).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COMPANIES = [("Bench Europe GmbH", "Europe/Berlin", "DE"), ("Bench Americas Inc.", "America/Chicago", "US"),
             ("Bench UK Ltd", "Europe/London", "GB"), ("Bench India Pvt Ltd", "Asia/Kolkata", "IN")]
FIRST = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ida", "Jon", "Kai", "Lea", "Max", "Nia", "Otto",
         "Pia", "Quinn", "Rosa", "Sam", "Tia", "Uwe", "Vera", "Will", "Xena", "Yuri", "Zoe", "Anna", "Bruno", "Carla",
         "Dario", "Elena", "Farid", "Greta", "Hanna", "Ivan", "Jana", "Karim", "Lina", "Marco", "Nora", "Omar", "Priya"]
LAST = ["Schmidt", "Weber", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf",
        "Neumann", "Schwarz", "Braun", "Kaya", "Nguyen", "Patel", "Okafor", "Silva", "Rossi", "Dubois", "Novak",
        "Jensen", "Tanaka", "Garcia", "Lopez", "Mensah", "Haddad", "Kowalski", "Larsen", "Berg", "Costa", "Dahl"]
TYPES = [("Annual", True, 24.0, "blue"), ("Sick", True, 10.0, "orange"), ("Unpaid", False, 0.0, "gray"),
         ("Compensatory", True, 0.0, "green")]
EMPLOYMENT = ["full_time"] * 16 + ["part_time"] * 2 + ["contract", "intern"]


def configure(url: str) -> None:
    os.environ.update({
        "HR_ENV": "test", "HR_DATABASE_URL": url, "HR_REDIS_URL": "", "HR_BCRYPT_ROUNDS": "4",
        "HR_SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop", "HR_SCHEDULER_ENABLED": "false",
        "HR_OUTBOX_DIR": tempfile.mkdtemp(prefix="bench-outbox-"), "HR_SMTP_HOST": "",
    })


def ensure_database(url: str) -> None:
    """Create the scratch database when it does not exist yet (a fresh machine has only `test`)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": target.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
                print(f"created database {target.database}")
    finally:
        admin.dispose()


def reset_and_migrate() -> None:
    from sqlalchemy import text

    from hr_portal.cli import migrate
    from hr_portal.core.db import get_engine, reset_engine

    with get_engine().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    reset_engine()
    migrate()


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


class Copier:
    """COPY rows into a table as tab-separated text (None -> \\N), flushing in large chunks."""

    def __init__(self, cur, table: str, columns: list[str]):
        self.copy = cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self.buf = io.StringIO()
        self.rows = 0

    def __enter__(self):
        self.ctx = self.copy.__enter__()
        return self

    def add(self, *values) -> None:
        self.buf.write("\t".join("\\N" if v is None else str(v) for v in values))
        self.buf.write("\n")
        self.rows += 1
        if self.rows % 50_000 == 0:
            self.flush()

    def write(self, line: str) -> None:
        """A preformatted line (hot loops)."""
        self.buf.write(line)
        self.rows += 1
        if self.rows % 50_000 == 0:
            self.flush()

    def flush(self) -> None:
        data = self.buf.getvalue()
        if data:
            self.ctx.write(data)
        self.buf = io.StringIO()

    def __exit__(self, *exc):
        self.flush()
        return self.copy.__exit__(*exc)


class bulk_load:  # noqa: N801 - used as a context manager like a function
    """Drop a table's foreign keys and secondary indexes for a bulk COPY, and put them back afterwards:
    re-adding a foreign key validates every row in one pass and re-creating a unique index checks
    uniqueness, so the loaded data still has to satisfy every constraint (the load fails otherwise)."""

    def __init__(self, cur, table: str):
        self.cur, self.table = cur, table

    def __enter__(self):
        cur, table = self.cur, self.table
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'", (table,))
        self.fks = cur.fetchall()
        cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS ("
                    "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))",
                    (table,))
        self.indexes = cur.fetchall()
        for name, _ in self.fks:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        for _name, definition in self.indexes:
            self.cur.execute(definition)
        for name, definition in self.fks:
            self.cur.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
        return False


def holidays_for(country: str, year: int) -> list[tuple[date, str]]:
    fixed = {"DE": [(1, 1, "New Year's Day"), (5, 1, "Labour Day"), (10, 3, "Day of German Unity"),
                    (12, 25, "Christmas Day"), (12, 26, "Boxing Day")],
             "US": [(1, 1, "New Year's Day"), (7, 4, "Independence Day"), (11, 26, "Thanksgiving Day"),
                    (12, 25, "Christmas Day")],
             "GB": [(1, 1, "New Year's Day"), (5, 4, "Early May bank holiday"), (12, 25, "Christmas Day"),
                    (12, 28, "Boxing Day (substitute)")],
             "IN": [(1, 26, "Republic Day"), (8, 15, "Independence Day"), (10, 2, "Gandhi Jayanti"),
                    (11, 1, "Diwali")]}[country]
    return [(date(year, m, d), name) for m, d, name in fixed]


def generate(url: str, n_employees: int, n_days: int, n_requests: int, n_departments: int, seed: int) -> dict:
    import psycopg
    from sqlalchemy.engine import make_url

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime.now(UTC)
    today = now.date()
    first_day = today - timedelta(days=n_days)
    horizon = today + timedelta(days=60)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        t = time.perf_counter()
        cur.execute("INSERT INTO organizations (name, created_at) VALUES ('Bench Corporation', now()) RETURNING id")
        org = cur.fetchone()[0]
        companies = []
        for name, tz, country in COMPANIES:
            cur.execute("INSERT INTO companies (organization_id, name, timezone, weekly_off_days, country, created_at)"
                        " VALUES (%s, %s, %s, '6,7', %s, now()) RETURNING id", (org, name, tz, country))
            companies.append((cur.fetchone()[0], ZoneInfo(tz), country))
        shifts = {}
        for cid, _tz, _c in companies:
            cur.execute("INSERT INTO attendance_shifts (organization_id, company_id, name, start_time, end_time, "
                        "grace_minutes, half_day_hours, auto_checkout_minutes, is_default, created_at, updated_at) "
                        "VALUES (%s, %s, 'Standard', '09:00', '17:30', 10, 4.0, 60, true, now(), now()) RETURNING id",
                        (org, cid))
            shifts[cid] = cur.fetchone()[0]
        holidays: dict[int, set[date]] = {}
        for cid, _tz, country in companies:
            holidays[cid] = set()
            for year in range(first_day.year - 1, horizon.year + 1):
                for day, name in holidays_for(country, year):
                    holidays[cid].add(day)
                    cur.execute("INSERT INTO holidays (organization_id, company_id, date, name, recurring, created_at)"
                                " VALUES (%s, %s, %s, %s, false, now())", (org, cid, day, name))
        dept_company = {}
        for i in range(n_departments):
            cid = companies[i % len(companies)][0]
            cur.execute("INSERT INTO departments (organization_id, company_id, name, archived, created_at) "
                        "VALUES (%s, %s, %s, false, now()) RETURNING id", (org, cid, f"Department {i + 1:03d}"))
            dept_company[cur.fetchone()[0]] = cid
        dept_ids = list(dept_company)
        type_ids = {}
        for name, paid, yearly, color in TYPES:
            cur.execute(
                "INSERT INTO leave_types (organization_id, name, paid, allow_half_day, yearly_entitlement, accrual, "
                "prorate_on_joining, carry_forward_cap, min_notice_days, count_non_working_days, allow_negative, "
                "color, archived, created_at, updated_at) VALUES (%s, %s, %s, true, %s, %s, true, 0, 0, false, %s, "
                "%s, false, now(), now()) RETURNING id",
                (org, name, paid, yearly, "upfront" if yearly else "none", not paid, color))
            type_ids[name] = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM employees")
        emp_base = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM users")
        user_base = cur.fetchone()[0]

        # ---- people: CEO, department heads, team leads (~25 reports each), employees
        people = []  # (id, company, dept, manager, role, joined, left_at or None)
        per_dept = max(1, (n_employees - 1) // n_departments)
        next_id = emp_base + 1
        ceo = next_id
        people.append([ceo, companies[0][0], dept_ids[0], None, "admin", today - timedelta(days=6 * 365), None])
        next_id += 1
        for d in dept_ids:
            head = next_id
            next_id += 1
            people.append([head, dept_company[d], d, ceo, "manager", today - timedelta(days=rng.randint(900, 2100)),
                           None])
            leads, count = [], 1
            while count < per_dept and next_id - emp_base <= n_employees:
                if len(leads) == 0 or count % 26 == 1:
                    leads.append(next_id)
                    role, manager = "manager", head
                else:
                    role, manager = "employee", leads[-1]
                joined = today - timedelta(days=int(rng.triangular(0, 6 * 365, 4 * 365)))
                people.append([next_id, dept_company[d], d, manager, role, joined, None])
                next_id += 1
                count += 1
        while next_id - emp_base <= n_employees:  # the rest: the first department's employees
            people.append([next_id, dept_company[dept_ids[0]], dept_ids[0], people[2][0], "employee",
                           today - timedelta(days=rng.randint(0, 2000)), None])
            next_id += 1
        # ~8% leavers (employees only, never a manager): left in the last --days days
        for p in people:
            if p[4] == "employee" and rng.random() < 0.08:
                low = max(p[5] + timedelta(days=30), first_day)
                if low < today:
                    left_day = low + timedelta(days=rng.randint(0, (today - low).days))
                    p[6] = datetime.combine(left_day, clock(16, 0), tzinfo=UTC)
        # a few hygiene problems: no department, no manager
        for p in rng.sample(people[1:], k=min(len(people) - 1, max(1, n_employees // 1000))):
            if p[4] == "employee":
                p[2] = None
        timings["setup"] = time.perf_counter() - t

        t = time.perf_counter()
        hr_ids = {people[1][0], people[2][0]} if len(people) > 2 else set()
        with Copier(cur, "users", ["id", "organization_id", "email", "password_hash", "role", "is_active",
                                   "failed_login_count", "token_version", "created_at"]) as users:
            for p in people:
                if p[4] in ("admin", "manager") or p[0] in hr_ids:
                    role = "hr_manager" if p[0] in hr_ids and p[4] != "admin" else p[4]
                    uid = user_base + p[0] - emp_base
                    users.add(uid, org, f"person{p[0]}@bench.example", None, role, p[6] is None, 0, 1, ts(now))
                    p.append(uid)
                else:
                    p.append(None)
        cols = ["id", "organization_id", "company_id", "department_id", "manager_id", "user_id", "employee_code",
                "first_name", "last_name", "email", "designation", "employment_type", "status", "date_of_joining",
                "date_of_birth", "created_at", "updated_at"]
        with Copier(cur, "employees", cols) as emps:
            for p in people:
                emp_id, cid, dept, manager, role, joined, left_at, uid = p
                emps.add(emp_id, org, cid, dept, manager, uid, f"BN-{emp_id:06d}", rng.choice(FIRST), rng.choice(LAST),
                         f"person{emp_id}@bench.example",
                         {"admin": "Chief Executive Officer", "manager": "Manager"}.get(role, "Specialist"),
                         rng.choice(EMPLOYMENT), "inactive" if left_at else "active", joined,
                         date(1965, 1, 1) + timedelta(days=rng.randint(0, 13000)), ts(now), ts(left_at or now))
        with Copier(cur, "audit_log", ["organization_id", "actor_user_id", "action", "entity_type", "entity_id",
                                       "changes", "created_at"]) as audit:
            for p in people:
                if p[6] is not None:
                    audit.add(org, None, "employee.deactivated", "employee", p[0],
                              '{"status": ["active", "inactive"]}', ts(p[6]))
        timings["people"] = time.perf_counter() - t

        # ---- calendar: working days per company, UTC start of each local day
        kinds: dict[int, dict[date, bool]] = {}
        local_midnight: dict[tuple[int, date], datetime] = {}
        for cid, tz, _c in companies:
            kinds[cid] = {}
            day = first_day - timedelta(days=400)
            while day <= horizon + timedelta(days=400):
                kinds[cid][day] = day.isoweekday() < 6 and day not in holidays[cid]
                if first_day <= day < today:
                    local_midnight[(cid, day)] = datetime.combine(day, clock(0, 0), tzinfo=tz).astimezone(UTC)
                day += timedelta(days=1)

        # ---- leave requests (no overlaps per person, within one year) and the ledger
        t = time.perf_counter()
        leave_days: dict[int, set[date]] = {}
        active = [p for p in people]
        per_person = max(1, n_requests // max(1, len(active)))
        extra = n_requests - per_person * len(active)
        req_cols = ["organization_id", "employee_id", "leave_type_id", "start_date", "end_date", "half_day_start",
                    "half_day_end", "days", "reason", "status", "step", "steps_required", "created_at", "updated_at",
                    "decided_at", "cancelled_at"]
        approved: list[tuple[int, int, date, float]] = []
        made = 0
        with bulk_load(cur, "leave_requests"), Copier(cur, "leave_requests", req_cols) as reqs:
            for index, p in enumerate(active):
                emp_id, cid, joined, left_at = p[0], p[1], p[5], p[6]
                want = per_person + (1 if index < extra else 0)
                lo = max(first_day, joined)
                hi = min(horizon, left_at.date() if left_at else horizon)
                if hi <= lo + timedelta(days=10):
                    continue
                span = (hi - lo).days
                slots = sorted(rng.sample(range(0, span - 5), k=min(want, max(1, (span - 5) // 12))))
                taken: set[date] = set()
                last_end = lo - timedelta(days=1)
                for offset in slots:
                    start = lo + timedelta(days=offset)
                    if start <= last_end + timedelta(days=1):
                        continue
                    while not kinds[cid].get(start, True):
                        start += timedelta(days=1)
                    length = rng.choice([1, 1, 1, 2, 2, 3, 5, 5, 10])
                    end, days = start, 0.0
                    day = start
                    while days < length:
                        if kinds[cid].get(day, True):
                            days += 1
                            end = day
                        day += timedelta(days=1)
                    if end.year != start.year or end > hi:
                        continue
                    half = length == 1 and rng.random() < 0.15
                    if half:
                        days = 0.5
                    type_name = rng.choices(["Annual", "Sick", "Unpaid", "Compensatory"], [70, 22, 5, 3])[0]
                    future = start > today
                    status = ("pending" if future and rng.random() < 0.4 else
                              rng.choices(["approved", "rejected", "cancelled"], [88, 7, 5])[0])
                    if not future and status == "approved" and rng.random() < 0.02:
                        status = "pending"
                    created = datetime.combine(start - timedelta(days=rng.randint(3, 30)), clock(9), tzinfo=UTC)
                    decided = ts(created + timedelta(hours=6)) if status in ("approved", "rejected") else None
                    reqs.add(org, emp_id, type_ids[type_name], start, end, half, False, days, "Bench", status,
                             1, 1, ts(created), ts(created), decided,
                             ts(created + timedelta(days=1)) if status == "cancelled" else None)
                    made += 1
                    last_end = end
                    if status == "approved":
                        approved.append((emp_id, type_ids[type_name], start, days))
                        d = start
                        while d <= end:
                            if kinds[cid].get(d, True):
                                taken.add(d)
                            d += timedelta(days=1)
                leave_days[emp_id] = taken
        with bulk_load(cur, "leave_ledger"), Copier(cur, "leave_ledger", ["organization_id", "employee_id", "leave_type_id", "year", "entry_date",
                                          "kind", "amount", "reason", "period_key", "created_at"]) as ledger:
            for p in people:
                for year in range(first_day.year, horizon.year + 1):
                    if p[5].year > year or (p[6] is not None and p[6].year < year):
                        continue
                    for name, _paid, yearly, _c in TYPES:
                        if yearly:
                            ledger.add(org, p[0], type_ids[name], year, max(date(year, 1, 1), p[5]), "allocation",
                                       yearly, f"{year} entitlement", f"alloc:{year}", ts(now))
            for emp_id, type_id, start, days in approved:
                ledger.add(org, emp_id, type_id, start.year, start, "taken", -days, "Leave", None, ts(now))
        timings["leave"] = time.perf_counter() - t

        # ---- attendance: one record per person and worked day
        t = time.perf_counter()
        rec_cols = ["organization_id", "employee_id", "work_date", "check_in", "check_out", "open_since",
                    "work_seconds", "status", "is_late", "shift_id", "system_closed", "corrected", "created_at",
                    "updated_at"]
        days_all = [first_day + timedelta(days=i) for i in range((today - first_day).days)]
        rand = rng.random
        randint = rng.randint
        # The per-day rollup's row triggers are off during the COPY; the rollup is built in one pass after it.
        cur.execute("ALTER TABLE attendance_records DISABLE TRIGGER trg_attendance_day_summary_ins")
        with bulk_load(cur, "attendance_records"), Copier(cur, "attendance_records", rec_cols) as recs:
            for p in people:
                emp_id, cid, joined, left_at = p[0], p[1], p[5], p[6]
                last = left_at.date() if left_at else today
                on_leave = leave_days.get(emp_id, set())
                prefix = f"{org}\t{emp_id}\t"
                suffix = f"\t{shifts[cid]}\tf\tf\t"
                workdays = kinds[cid]
                for day in days_all:
                    if day < joined or day >= last or not workdays[day] or day in on_leave or rand() < 0.05:
                        continue
                    midnight = local_midnight[(cid, day)]
                    roll = rand()
                    if roll < 0.08:
                        arrive, status, late = 9 * 60 + 11 + randint(0, 50), "late", "t"
                    else:
                        arrive, status, late = 8 * 60 + 20 + randint(0, 50), "present", "f"
                    stay = randint(480, 570)
                    if roll > 0.99:
                        stay, status = randint(120, 230), "half_day"
                    start = str(midnight + timedelta(minutes=arrive))
                    end = str(midnight + timedelta(minutes=arrive + stay))
                    recs.write(f"{prefix}{day}\t{start}\t{end}\t\\N\t{stay * 60}\t{status}\t{late}{suffix}"
                               f"{start}\t{end}\n")
            rows = recs.rows
        cur.execute("ALTER TABLE attendance_records ENABLE TRIGGER trg_attendance_day_summary_ins")
        timings["attendance"] = time.perf_counter() - t

        t = time.perf_counter()
        from hr_portal.reports.models import DAY_SUMMARY_REBUILD

        cur.execute("DELETE FROM attendance_day_summary")
        cur.execute(DAY_SUMMARY_REBUILD)
        summary_rows = cur.rowcount
        timings["day_summary"] = time.perf_counter() - t

        t = time.perf_counter()
        corr = 0
        with Copier(cur, "attendance_corrections", ["organization_id", "employee_id", "work_date", "check_in",
                                                    "check_out", "reason", "status", "created_at"]) as cc:
            for p in rng.sample(people, k=min(len(people), max(5, n_employees // 50))):
                if p[6] is not None:
                    continue
                day = today - timedelta(days=randint(2, 20))
                if not kinds[p[1]].get(day):
                    continue
                start = datetime.combine(day, clock(8, 0), tzinfo=UTC)
                cc.add(org, p[0], day, ts(start), ts(start + timedelta(hours=9)), "Forgot to check out", "pending",
                       ts(now))
                corr += 1
        conn.commit()
        timings["corrections"] = time.perf_counter() - t

    t = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    timings["vacuum_analyze"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    return {"organization_id": org, "employees": len(people), "leavers": sum(1 for p in people if p[6]),
            "attendance_records": rows, "leave_requests": made, "approved_requests": len(approved),
            "corrections": corr, "day_summary_rows": summary_rows, "days": n_days, "timings": {k: round(v, 1) for k, v in timings.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL of a scratch database named *bench*")
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=850,
                        help="days of attendance history before today (850: about 10 million records for 20,000)")
    parser.add_argument("--leave-requests", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1] or not args.database_url.startswith("postgresql"):
        parser.error("use a scratch PostgreSQL database whose name contains 'bench' (it is dropped and rebuilt)")
    if args.employees < 10 or args.days < 1:
        parser.error("--employees must be at least 10 and --days at least 1")
    configure(args.database_url)
    ensure_database(args.database_url)
    t = time.perf_counter()
    reset_and_migrate()
    migrate_s = time.perf_counter() - t
    result = generate(args.database_url, args.employees, args.days, args.leave_requests, args.departments, args.seed)
    result["timings"]["migrate"] = round(migrate_s, 1)
    print("| what | value |\n|---|---|")
    for key, value in result.items():
        if key != "timings":
            print(f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |")
    for key, value in result["timings"].items():
        print(f"| time: {key} | {value} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
