"""Check-in endpoint under load, against a running portal (not part of `make test`).

    HR_DATABASE_URL=<the server's> HR_SECRET_KEY=<the server's> .venv/bin/python bench/attendance_bench.py \
        --base-url http://127.0.0.1:3000 --rate 30 --duration 60

Run the server with HR_RATE_LIMIT_PER_MINUTE=0: the bench is thousands of clients behind one
address, and the duplicates phase is 200 requests of one person (with the default per-client limit
of 60/minute most of those would be 429s, which proves nothing about the database).

1. Setup: a fresh organization with --employees people is written straight into the server's
   database, and each person's bearer token is minted with the auth service (the same database and
   secret key as the server, so the server accepts them) instead of signing in thousands of times.
2. Burst: an open-loop schedule fires POST /attendance/check-in at --rate requests per second for
   --duration seconds (each request is sent on time, whatever the latency of the earlier ones, so
   slow responses are not hidden). By default there are rate x duration people and each checks in
   once (every request is a real first check-in: INSERT of the day's record). With --checkout-after S
   fewer people are cycled and each successful check-in is followed S seconds later by that person's
   POST /attendance/check-out (later rounds then take the conditional UPDATE that re-opens the day),
   which doubles the write load. Reports p50/p95/p99/max latency and errors per endpoint.
3. Duplicates: --duplicates concurrent check-ins of one person: exactly one 201, the rest 409, and
   exactly one open record in the database.

Prints a Markdown summary (and --json FILE writes the raw figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(latencies_ms: list[float]) -> dict[str, float]:
    return {"count": len(latencies_ms), "p50": percentile(latencies_ms, 0.50), "p95": percentile(latencies_ms, 0.95),
            "p99": percentile(latencies_ms, 0.99), "max": max(latencies_ms) if latencies_ms else float("nan"),
            "mean": statistics.fmean(latencies_ms) if latencies_ms else float("nan")}


# ------------------------------------------------------------------------------------------ setup


def create_people(n: int, password: str) -> tuple[int, list[str]]:
    """A fresh organization (company in UTC) with n employees; returns (org id, access tokens)."""
    import bcrypt
    from sqlmodel import Session

    import hr_portal.models  # noqa: F401
    from hr_portal.auth.models import Role, User
    from hr_portal.core.db import get_engine
    from hr_portal.employees.models import Employee
    from hr_portal.org.models import Company, Organization

    tag = uuid.uuid4().hex[:8]
    pw_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    with Session(get_engine()) as s:
        org = Organization(name=f"Bench {tag}")
        s.add(org)
        s.flush()
        company = Company(organization_id=org.id, name=f"Bench {tag} Ltd", timezone="UTC", weekly_off_days="")
        s.add(company)
        s.flush()
        users = [User(organization_id=org.id, email=f"bench-{tag}-{i}@bench.example", password_hash=pw_hash,
                      role=Role.employee) for i in range(n)]
        s.add_all(users)
        s.flush()
        s.add_all([Employee(organization_id=org.id, company_id=company.id, user_id=u.id, employee_code=f"B-{i:05d}",
                            first_name="Bench", last_name=f"Person {i}", email=u.email)
                   for i, u in enumerate(users)])
        from hr_portal.auth.service import issue_tokens

        tokens = [issue_tokens(s, u).access_token for u in users]
        s.commit()
        return org.id, tokens


# ------------------------------------------------------------------------------------------ phases


async def burst(client: httpx.AsyncClient, tokens: list[str], *, rate: float, duration: float, hold: float) -> dict:
    checkin_ms: list[float] = []
    checkout_ms: list[float] = []
    statuses: Counter = Counter()
    out_statuses: Counter = Counter()
    errors: list[str] = []
    tasks: list[asyncio.Task] = []
    busy: set[int] = set()  # people with a check-out still pending
    skipped = 0

    async def check_out(i: int) -> None:
        await asyncio.sleep(hold)
        t0 = time.perf_counter()
        try:
            r = await client.post("/api/v1/attendance/check-out", headers={"Authorization": f"Bearer {tokens[i]}"})
            out_statuses[r.status_code] += 1
            if r.status_code == 200:
                checkout_ms.append((time.perf_counter() - t0) * 1000)
        except httpx.HTTPError as exc:
            out_statuses["exception"] += 1
            errors.append(f"check-out: {type(exc).__name__}: {exc}")
        finally:
            busy.discard(i)

    async def check_in(i: int) -> None:
        t0 = time.perf_counter()
        try:
            r = await client.post("/api/v1/attendance/check-in", headers={"Authorization": f"Bearer {tokens[i]}"},
                                  json={"notes": "bench"})
        except httpx.HTTPError as exc:
            statuses["exception"] += 1
            errors.append(f"check-in: {type(exc).__name__}: {exc}")
            busy.discard(i)
            return
        statuses[r.status_code] += 1
        if r.status_code == 201:
            checkin_ms.append((time.perf_counter() - t0) * 1000)
            if hold > 0:
                await check_out(i)
        else:
            errors.append(f"check-in {r.status_code}: {r.text[:200]}")
            busy.discard(i)

    total = int(rate * duration)
    start = time.perf_counter()
    person = 0
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        for _ in range(len(tokens)):  # next person who is not still waiting for a check-out
            person = (person + 1) % len(tokens)
            if person not in busy:
                break
        else:
            skipped += 1
            continue
        busy.add(person)
        tasks.append(asyncio.create_task(check_in(person)))
    sent_in = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return {"rate": rate, "duration": duration, "sent": total - skipped, "skipped": skipped,
            "send_seconds": round(sent_in, 2), "achieved_rate": round((total - skipped) / sent_in, 2),
            "check_in": summarize(checkin_ms), "check_in_statuses": dict(statuses),
            "check_out": summarize(checkout_ms), "check_out_statuses": dict(out_statuses),
            "errors": errors[:20], "error_count": len(errors)}


async def duplicates(client: httpx.AsyncClient, token: str, n: int, organization_id: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Event()

    async def one() -> int | str:
        await gate.wait()
        try:
            r = await client.post("/api/v1/attendance/check-in", headers=headers)
            return r.status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    gate.set()
    results = Counter(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - t0

    from sqlalchemy import text

    from hr_portal.core.db import get_engine

    with get_engine().connect() as conn:  # the duplicate person is the organization's last one
        open_rows = conn.execute(text(
            "SELECT count(*) FROM attendance_records WHERE check_out IS NULL AND employee_id = "
            "(SELECT max(id) FROM employees WHERE organization_id = :o)"), {"o": organization_id}).scalar()
    return {"concurrent": n, "statuses": {str(k): v for k, v in results.items()}, "open_records": open_rows,
            "seconds": round(elapsed, 2), "ok": results.get(201) == 1 and results.get(409) == n - 1 and open_rows == 1}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--rate", type=float, default=30.0, help="check-ins per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--employees", type=int, default=0, help="default: rate x duration (one check-in each)")
    parser.add_argument("--checkout-after", dest="hold", type=float, default=0.0,
                        help="seconds between a check-in and its check-out (0: no check-outs)")
    parser.add_argument("--duplicates", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    password = "Bench-pass-2026"
    args.employees = args.employees or int(args.rate * args.duration)
    org_id, tokens = create_people(args.employees + 1, password)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=args.base_url, timeout=30, limits=limits, trust_env=False) as client:
        (await client.get("/api/v1/health")).raise_for_status()
        result = {"base_url": args.base_url, "employees": args.employees}
        result["burst"] = await burst(client, tokens[:-1], rate=args.rate, duration=args.duration, hold=args.hold)
        print_burst(result["burst"], args)
        await asyncio.sleep(5)  # let the server drain before the duplicates
        result["duplicates"] = await duplicates(client, tokens[-1], args.duplicates, org_id)

    d = result["duplicates"]
    print(f"\n## {d['concurrent']} concurrent duplicate check-ins of one person\n")
    print(f"statuses {d['statuses']}, open records {d['open_records']}, {d['seconds']} s -> "
          f"{'OK: exactly one success' if d['ok'] else 'FAILED'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if d["ok"] and result["burst"]["error_count"] == 0 else 1


def print_burst(b: dict, args) -> None:
    ci, co = b["check_in"], b["check_out"]
    extra = f", check-out {args.hold:g} s after each" if args.hold > 0 else ", one check-in each, no check-outs"
    print(f"\n## Check-in burst: {b['sent']} check-ins at {b['achieved_rate']}/s for {b['send_seconds']} s "
          f"({args.employees} people{extra})\n")
    print("| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | statuses |")
    print("|---|---|---|---|---|---|---|")
    print(f"| POST /attendance/check-in | {ci['count']} | {ci['p50']:.1f} | {ci['p95']:.1f} | {ci['p99']:.1f} | "
          f"{ci['max']:.1f} | {b['check_in_statuses']} |")
    print(f"| POST /attendance/check-out | {co['count']} | {co['p50']:.1f} | {co['p95']:.1f} | {co['p99']:.1f} | "
          f"{co['max']:.1f} | {b['check_out_statuses']} |")
    print(f"\nErrors: {b['error_count']}" + (f" (first: {b['errors'][0]})" if b["errors"] else ""), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
