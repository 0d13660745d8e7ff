"""Start the portal for the benchmark suite: `reflex run --env prod` on PostgreSQL + Redis (not part of `make test`).

    .venv/bin/python bench/server.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/11 --port 3911          # foreground; Ctrl-C stops it

Started the way tests/e2e/conftest.py starts the app: the prod frontend is compiled into a web dir of
the bench's own (default `.web-e2e-bench`, REFLEX_WEB_WORKDIR), the server runs in its own process group (it
ignores SIGTERM without a terminal) and is stopped by signalling that group. Production settings
(HR_ENV=production, bcrypt cost 12, Reflex's default worker count with Redis: 2 x cores + 1), except
the per-client API limit, which is off: the bench is thousands of clients behind one address.
`bench/run.py --start-server` uses `start()` / `stop()` from here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SECRET = "bench-only-" + "k" * 40  # the bench mints tokens with the same key (bench/run.py)


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]
    startup_seconds: float


def server_env(*, database_url: str, redis_url: str, port: int, web_dir: Path, secret_key: str,
               workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFLEX_", "HR_"))}
    bun_bin = ROOT / ".tools" / "node_modules" / ".bin"
    if (bun_bin / "bun").exists():
        env["PATH"] = f"{bun_bin}{os.pathsep}{env.get('PATH', '')}"
        env["REFLEX_USE_SYSTEM_BUN"] = "1"
    base_url = f"http://127.0.0.1:{port}"
    env.update(
        HR_ENV="production",
        HR_DATABASE_URL=database_url,
        HR_REDIS_URL=redis_url,
        HR_SECRET_KEY=secret_key,
        HR_PORT=str(port),
        HR_BASE_URL=base_url,
        HR_OUTBOX_DIR=str(workdir / "outbox"),
        HR_RATE_LIMIT_PER_MINUTE="0",
        REFLEX_API_URL=base_url,
        REFLEX_DEPLOY_URL=base_url,
        REFLEX_WEB_WORKDIR=str(web_dir),
        REFLEX_STATES_WORKDIR=str(workdir / "states"),
        REFLEX_UPLOADED_FILES_DIR=str(workdir / "uploads"),
        REFLEX_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
        TERM="dumb",
    )
    return env


def start(*, database_url: str, redis_url: str, port: int = 3911, web_dir: Path | None = None,
          secret_key: str = DEFAULT_SECRET, workdir: Path | None = None, timeout: float = 400.0,
          extra_env: dict[str, str] | None = None) -> Server:
    workdir = workdir or Path(tempfile.gettempdir()) / f"hr-bench-{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    web_dir = (web_dir or ROOT / ".web-e2e-bench").resolve()
    env = server_env(database_url=database_url, redis_url=redis_url, port=port, web_dir=web_dir,
                     secret_key=secret_key, workdir=workdir)
    env.update(extra_env or {})
    log_path = workdir / "server.log"
    py = sys.executable
    with log_path.open("a") as log:
        subprocess.run([py, "-m", "hr_portal.cli", "migrate"], cwd=ROOT, env=env,  # noqa: S603 - fixed argv, no shell
                       stdout=log, stderr=subprocess.STDOUT,
                       check=True, timeout=300)
        cmd = [py, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port),
               "--backend-host", "127.0.0.1", "--loglevel", "warning"]
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env,  # noqa: S603 - fixed argv, no shell
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while True:
            try:
                if (client.get(base_url + "/api/v1/health").status_code == 200
                        and "<html" in client.get(base_url + "/").text[:2000].lower()):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {log_path}")
            if time.monotonic() - started > timeout:
                stop(Server(base_url, proc, log_path, env, 0.0))
                raise RuntimeError(f"server not ready after {timeout:.0f} s; see {log_path}")
            time.sleep(0.5)
    return Server(base_url, proc, log_path, env, time.monotonic() - started)


def stop(server: Server, grace: float = 10.0) -> None:
    pgid = server.process.pid  # start_new_session: the leader's pid is the group id
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            server.process.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            continue
        break
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=5)


def env_pairs(items: list[str]) -> dict[str, str]:
    """`NAME=VALUE` arguments as a dict (for --env)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--env wants NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--port", type=int, default=3911)
    parser.add_argument("--web-dir", type=Path, default=ROOT / ".web-e2e-bench")
    parser.add_argument("--secret-key", default=DEFAULT_SECRET)
    parser.add_argument("--workers", type=int, default=0,
                        help="GRANIAN_WORKERS (default: Reflex's own count with Redis, 2 x cores + 1)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra variable for the server (repeatable), e.g. REFLEX_OPLOCK_ENABLED=false")
    args = parser.parse_args()
    extra = env_pairs(args.env)
    if args.workers:
        extra["GRANIAN_WORKERS"] = str(args.workers)
    server = start(database_url=args.database_url, redis_url=args.redis_url, port=args.port, web_dir=args.web_dir,
                   secret_key=args.secret_key or secrets.token_urlsafe(48), extra_env=extra)
    print(f"ready on {server.base_url} in {server.startup_seconds:.0f} s (log {server.log_path}); Ctrl-C or SIGTERM "
          "stops it", flush=True)

    def _terminate(_sig, _frame):  # a background job ignores SIGINT: stop on SIGTERM too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        while server.process.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
