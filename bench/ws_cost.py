"""What one Reflex event costs the server, per kind of event, without queueing (not part of `make test`).

    .venv/bin/python bench/ws_cost.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        --base-url http://127.0.0.1:3911 --web-dir .web-e2e-bench          # a server started by bench/server.py

bench/run.py's scenario 5 measures latency under load, where a slow figure can come from any event of any
session. This sends the same events one at a time from a few sessions (an employee on Home, an HR manager on
the approvals queue and the directory) and reports, per kind: the round trip (median, p90) and the CPU time the
server spent on it, read from /proc before and after (the app's worker processes, PostgreSQL's backends and
Redis, divided by the number of events). Work an event starts that outlives its answer (a live watcher's
reload after a check-in, the next page's on_load) is counted, since the tool waits `--settle` seconds after
each event before the next. Run it on a quiet machine; other processes do not enter the CPU figures, only the
round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench  # noqa: E402
from reflex_client import ReflexSession, compiled_frontend, var_in  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def server_pids(port: int) -> dict[str, list[int]]:
    """The app's processes (the `reflex run` serving `port` and its workers), PostgreSQL's and Redis's."""
    groups: dict[str, list[int]] = {"app": [], "postgres": [], "redis": []}
    roots = set()
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        cmd = _cmdline(pid)
        if "reflex run" in cmd and f"--backend-port {port}" in cmd:
            roots.add(pid)
        elif cmd.startswith("postgres"):
            groups["postgres"].append(pid)
        elif cmd.startswith("redis-server"):
            groups["redis"].append(pid)
    for pid in pids:
        if pid in roots:
            groups["app"].append(pid)
            continue
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in roots:
            groups["app"].append(pid)
    return groups


async def measure(name: str, n: int, settle: float, port: int, one) -> dict:
    # Backends come and go (the pool opens connections): processes are listed before and after, and one that
    # started in between counts whole.
    lat = []
    groups = server_pids(port)
    before = {p: _cpu_of(p) for pids in groups.values() for p in pids}
    errors = 0
    for i in range(n):
        try:
            lat.append(await one(i) * 1000)
        except TimeoutError:
            errors += 1
        await asyncio.sleep(settle)
    later = server_pids(port)
    spent = {}
    for k, pids in later.items():
        spent[k] = sum(max(0.0, _cpu_of(p) - before.get(p, 0.0)) for p in set(pids) | set(groups[k])) * 1000 / n
    return {"name": name, "n": n, "errors": errors, "p50": statistics.median(lat) if lat else float("nan"),
            "p90": bench.pct(lat, .9), **spent}


async def amain(args) -> int:
    bench.configure(args.database_url, args.secret_key)
    data = await asyncio.to_thread(bench.prepare)
    names = bench.state_names()
    schema = compiled_frontend(args.web_dir)
    u = urlparse(args.base_url)
    emp = data["by_role"]["employee"][-1]
    hr = (data["by_role"]["hr_manager"] or data["by_role"]["admin"])[0]
    cookies = bench.ui_sessions([emp.user_id, hr.user_id])
    if not server_pids(u.port)["app"]:
        raise SystemExit(f"no `reflex run` serving port {u.port} found")

    def session(cookie):
        return ReflexSession(u.hostname, u.port, cookie_token=cookie, state_schema=schema[0], hashes=schema[1])

    e = session(cookies[emp.user_id])
    await e.connect("/", timeout=60)
    await e.call(f"{names['checkin']}.load_card", None, var_in(names["checkin"], "card_ready", True), timeout=60)
    h = session(cookies[hr.user_id])
    await h.connect("/leave/approvals", timeout=60)
    await h.wait_for(var_in(names["approvals"], "queue"), 60)
    await asyncio.sleep(2)

    async def trivial(i):
        return await e.call(f"{names['myatt']}.set_corr_reason", {"value": f"c{i}"},
                            var_in(names["myatt"], "corr_reason", f"c{i}"))

    async def punch(i):
        action = "in" if i % 2 == 0 else "out"
        return await e.call(f"{names['checkin']}.punch_{action}", {"geo": None},
                            var_in(names["checkin"], "punch_busy", False))

    async def approvals(_i):
        return await h.navigate("/leave/approvals", var_in(names["approvals"], "queue"), timeout=20)

    async def directory(i):
        if h.path != "/employees":
            await h.navigate("/employees", var_in(names["directory"], "rows"), timeout=60)
            await asyncio.sleep(args.settle)
        return await h.call(f"{names['directory']}.go_page", {"delta": 1 if i % 2 == 0 else -1},
                            var_in(names["directory"], "rows"))

    async def idle(_i):
        return 0.0

    rows = [await measure("nothing (the idle server: watchers, pings, jobs)", args.events, args.settle, u.port, idle)]
    kinds = {"trivial": ("trivial handler (text field setter)", trivial), "punch": ("check in / check out", punch),
             "approvals": ("open approvals queue (navigate, on_load)", approvals),
             "directory": ("open a directory page (go_page)", directory)}
    for key in args.only.split(","):
        name, fn = kinds[key]
        rows.append(await measure(name, args.events, args.settle, u.port, fn))
    await e.close()
    await h.close()
    print(f"\nOne event at a time, {args.events} per kind, {args.settle:g} s apart; load average {bench.loadavg()}. "
          "CPU ms per event: app = the portal's processes (event loop and its threads), PostgreSQL (every backend "
          "on the server: other databases' work counts too), Redis; the first row is the same time without events.\n")
    print("| event | n (timeouts) | round trip p50 ms | p90 ms | app CPU ms | PostgreSQL CPU ms | Redis CPU ms | app CPU ms "
          "over idle |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['n']} ({r['errors']}) | {r['p50']:.1f} | {r['p90']:.1f} | {r['app']:.1f} | {r['postgres']:.1f} | "
              f"{r['redis']:.1f} | {r['app'] - rows[0]['app']:.1f} |")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--base-url", default="http://127.0.0.1:3911")
    p.add_argument("--web-dir", default=str(ROOT / ".web-e2e-bench"))
    p.add_argument("--secret-key", default=bench.DEFAULT_SECRET)
    p.add_argument("--events", type=int, default=60)
    p.add_argument("--only", default="trivial,punch,approvals,directory", help="kinds of event, comma-separated")
    p.add_argument("--settle", type=float, default=0.6,
                   help="seconds between events (follow-up work settles; over 0.5: an opposite punch sooner is ignored)")
    return asyncio.run(amain(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
