"""API concurrency: bursts of concurrent authenticated list requests against the legacy API (not part
of `make test`). Measures the connection-pool deadlock fix (core/api_support.py, admission gate).

    psql -h 127.0.0.1 -U postgres -c 'create database api_conc_bench'
    .venv/bin/python bench/api_concurrency.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/api_conc_bench
    .venv/bin/python bench/api_concurrency.py --database-url sqlite:////tmp/api_conc_bench.db

The script migrates and seeds the database (demo organization), starts `create_api()` under granian
(one worker, the server Reflex runs in production) from --code-dir (default: this checkout; point it
at an export of an older commit, e.g. `git archive <rev> | tar -x -C /tmp/old`, to measure "before"),
signs in as the demo HR manager and fires, for each burst size, that many concurrent
`GET /api/v1/employees?limit=20` (and /leave, /notifications) at once. Each request has a 25 s client
timeout (below the 30 s pool timeout, so a deadlock shows as timeouts). Prints one Markdown row per
burst: outcomes, wall time, requests per second, p50/p95/max latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["/api/v1/employees?limit=20", "/api/v1/leave", "/api/v1/notifications"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def start_server(code_dir: Path, env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    subprocess.run([sys.executable, "-m", "hr_portal.cli", "migrate"], cwd=code_dir, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "hr_portal.cli", "seed"], cwd=code_dir, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = _free_port()
    granian = Path(sys.executable).with_name("granian")
    log = log_path.open("wb")
    command = [str(granian), "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--log-level", "warning", "hr_portal.api:create_api"]
    proc = subprocess.Popen(command, cwd=code_dir, env=env, stdout=log,  # noqa: S603 (our own command line)
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"server did not start; see {log_path}")
        time.sleep(0.2)


async def burst(base: str, headers: dict[str, str], n: int, timeout: float) -> tuple[Counter, float, list[float]]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=httpx.Timeout(timeout, connect=timeout)) as client:
        async def one(i: int) -> str:
            t0 = time.perf_counter()
            try:
                status = str((await client.get(PATHS[i % len(PATHS)])).status_code)
            except httpx.TimeoutException:
                status = "timeout"
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append((time.perf_counter() - t0) * 1000)
            return status

        t0 = time.perf_counter()
        outcomes = await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    return Counter(outcomes), wall, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a scratch database (migrated and seeded)")
    parser.add_argument("--code-dir", default=str(ROOT), help="the checkout whose API is served")
    parser.add_argument("--bursts", default="10,50,100,200", help="comma-separated burst sizes")
    parser.add_argument("--rounds", type=int, default=2, help="bursts of each size (after one warm-up)")
    parser.add_argument("--timeout", type=float, default=25.0)
    parser.add_argument("--api-db-concurrency", type=int, default=0,
                        help="HR_API_DB_CONCURRENCY for the server (0: derived from the pool; a shared PostgreSQL "
                             "with little max_connections headroom needs a smaller gate)")
    args = parser.parse_args()

    code_dir = Path(args.code_dir).resolve()
    env = {**os.environ, "HR_DATABASE_URL": args.database_url, "HR_ENV": "development", "HR_REDIS_URL": "",
           "HR_SECRET_KEY": "bench-only-" + "k" * 40, "HR_RATE_LIMIT_PER_MINUTE": "0",
           "HR_LOGIN_RATE_LIMIT_PER_MINUTE": "0", "HR_SCHEDULER_ENABLED": "false", "PYTHONPATH": str(code_dir),
           "HR_API_DB_CONCURRENCY": str(args.api_db_concurrency)}
    log_path = Path(tempfile.gettempdir()) / f"api_concurrency_bench_{os.getpid()}.log"
    proc, base = start_server(code_dir, env, log_path)
    try:
        r = httpx.post(f"{base}/api/v1/auth/login", json={"email": "hr@acme.example", "password": "Portal-demo-2026"},
                       timeout=30)
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}
        asyncio.run(burst(base, headers, 5, args.timeout))  # warm-up
        print(f"code: {code_dir}  database: {args.database_url.split('://')[0]}  "
              f"HR_API_DB_CONCURRENCY={args.api_db_concurrency}")
        print("| burst | outcomes | wall | req/s | p50 | p95 | max |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for n in [int(x) for x in args.bursts.split(",")]:
            for _ in range(args.rounds):
                counts, wall, lat = asyncio.run(burst(base, headers, n, args.timeout))
                outcome = ", ".join(f"{v} x {k}" for k, v in sorted(counts.items()))
                print(f"| {n} | {outcome} | {wall:.2f} s | {n / wall:.0f} | {percentile(lat, .5):.0f} ms "
                      f"| {percentile(lat, .95):.0f} ms | {max(lat):.0f} ms |", flush=True)
                if "timeout" in counts:
                    time.sleep(35)  # let the stuck requests fail before the next burst
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
