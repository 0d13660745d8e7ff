"""Failure injection against real processes: the API served by granian in production mode, a
private PostgreSQL cluster and a private redis-server, each on a free port of its own.

The machine's shared PostgreSQL and Redis are never touched (other engineers and CI use them):
every scenario starts what it breaks. A scenario is skipped, with the reason, only when the
binaries it needs are missing (``initdb``/``pg_ctl``, ``redis-server``, ``granian``) or when, run
as root, there is no unprivileged user to own the PostgreSQL cluster.

- PostgreSQL stopped (immediate shutdown: connections cut) and restarted under load: every request
  gets an answer within the client's bound; during the outage they are 5xx answers in the
  contract's envelope (503 with the failing part named, for health), without stack trace or SQL;
  afterwards the same app process serves again without a restart.
- Redis stopped: the API keeps serving (reads, writes, sign-in), rate limits carry on in process
  memory, token revocation still refuses a logged-out token (it lives in the database).
- The app process killed with SIGKILL during a burst of writes (employee creations on the legacy
  API), on SQLite and on PostgreSQL: every write answered 2xx before the kill is present after
  the restart.

Figures (docs/security.md) are printed at the end of the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
PASSWORD = "Correct-Horse-42"
# Bound for one request: a request that has no answer after this long counts as a hang.
REQUEST_TIMEOUT = 20.0
# Bound for a process (server, database) to come up.
START_TIMEOUT = 60.0

pytestmark = pytest.mark.slow

FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request):
    yield
    if FIGURES:
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print("\nfailure injection: " + ", ".join(f"{k}={v}" for k, v in sorted(FIGURES.items())))


# ------------------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _granian() -> str:
    path = Path(sys.executable).parent / "granian"
    if path.exists():
        return str(path)
    found = shutil.which("granian")
    if not found:
        pytest.skip("granian (the ASGI server in requirements.txt) is not installed")
    return found


class ApiServer:
    """`granian` serving tests/security/failure_app.py in production mode, in its own process group."""

    def __init__(self, workdir: Path, *, database_url: str, redis_url: str = "", **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"api-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HR_")},
            "HR_ENV": "production",
            "HR_SECRET_KEY": secrets.token_urlsafe(48),
            "HR_BASE_URL": self.base_url,
            "HR_DATABASE_URL": database_url,
            "HR_REDIS_URL": redis_url,
            "HR_BCRYPT_ROUNDS": "4",
            "HR_OUTBOX_DIR": str(workdir / "outbox"),
            "HR_SMTP_HOST": "",
            "HR_SCHEDULER_ENABLED": "false",
            "HR_RATE_LIMIT_PER_MINUTE": "0",
            "HR_LOGIN_RATE_LIMIT_PER_MINUTE": "0",
            "HR_RESET_RATE_LIMIT_PER_MINUTE": "0",
            "PYTHONPATH": str(ROOT),
        }
        self.env.update({f"HR_{k.upper()}": v for k, v in settings.items()})
        self.process: subprocess.Popen | None = None

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "hr_portal.cli", "migrate"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True, timeout=120)

    def start(self) -> ApiServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [_granian(), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
             "tests.security.failure_app:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"API server exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(self.base_url + f"{API}/health", timeout=2).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        _wait(answers, START_TIMEOUT, "the API server")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
        elif self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # workers left behind in the group
                os.killpg(self.process.pid, signal.SIGKILL)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb in a temporary directory, trust auth, own port)."""

    def __init__(self) -> None:
        self.bin_dir = self._find_bin_dir()
        self.user = self._unprivileged_user()
        self.dir = Path(tempfile.mkdtemp(prefix="hr-failures-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        os.chmod(self.dir, 0o755)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    @staticmethod
    def _find_bin_dir() -> Path:
        candidates = [Path(p).parent for p in (shutil.which("pg_ctl"), shutil.which("initdb")) if p]
        candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
        for candidate in candidates:
            if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
                return candidate
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")

    @staticmethod
    def _unprivileged_user() -> str | None:
        if os.geteuid() != 0:
            return None
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL as another user")
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        pytest.skip("running as root and no unprivileged user (postgres, nobody) to own a PostgreSQL cluster")

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / tool), *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, timeout=timeout, cwd=self.dir)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=100"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w",
                  "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.skip("redis-server not found")
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

        def pings() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        _wait(pings, START_TIMEOUT, "redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def keys(self, pattern: str) -> list[bytes]:
        import redis

        return redis.Redis(port=self.port, socket_timeout=2).keys(pattern)


@pytest.fixture(scope="module")
def private_postgres():
    pg = PrivatePostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def servers():
    started: list[ApiServer] = []
    yield started
    for server in started:
        server.stop()


# ------------------------------------------------------------------------------ helpers


def register_admin(http: httpx.Client) -> dict[str, str]:
    response = http.post(f"{API}/auth/register", json={
        "organizationName": "Failure Corp", "firstName": "Ada", "lastName": "Admin",
        "email": f"admin-{secrets.token_hex(4)}@example.com", "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['data']['accessToken']}"}


LEAKS = ("Traceback", "psycopg", "sqlalchemy", "OperationalError", "SELECT ", "INSERT ", 'File "', "/hr_portal/")


def assert_clean_failure(response: httpx.Response) -> None:
    """A 5xx in the contract's shape, without internals."""
    assert response.status_code >= 500, response.status_code
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:300]
    body = response.json()
    if response.request.url.path == f"{API}/health":
        assert response.status_code == 503 and body["database"] == "unreachable", body
    else:
        assert body["success"] is False and body["error"]["code"] == "INTERNAL_ERROR", body
    for leak in LEAKS:
        assert leak not in response.text, f"{leak!r} leaked in: {response.text[:300]}"


@dataclass
class LoadResult:
    answers: list[tuple[float, str, int, httpx.Response]] = field(default_factory=list)
    errors: list[tuple[float, str, str]] = field(default_factory=list)


def run_load(server: ApiServer, headers: dict[str, str], stop: threading.Event, result: LoadResult,
             threads: int = 6) -> list[threading.Thread]:
    """Reads and writes in a loop until `stop` is set; every answer and every transport error is kept."""
    requests = [("GET", f"{API}/employees"), ("GET", f"{API}/leave/types"), ("POST", f"{API}/attendance/check-in"),
                ("POST", f"{API}/attendance/check-out"), ("GET", f"{API}/health")]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        with server.client() as http:
            i = offset
            while not stop.is_set():
                method, path = requests[i % len(requests)]
                i += 1
                started = time.monotonic()
                try:
                    response = http.request(method, path, headers=headers)
                    with lock:
                        result.answers.append((started, path, response.status_code, response))
                except httpx.HTTPError as exc:
                    with lock:
                        result.errors.append((started, path, f"{type(exc).__name__}: {exc}"))
                time.sleep(0.02)

    workers = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    return workers


# ------------------------------------------------------------------------------ (a) PostgreSQL restart


def test_postgres_restart_under_load_fails_cleanly_and_recovers(private_postgres, servers, tmp_path):
    server = ApiServer(tmp_path, database_url=private_postgres.create_database("hr_failures"))
    server.migrate()
    servers.append(server.start())
    with server.client() as http:
        headers = register_admin(http)

    stop, result = threading.Event(), LoadResult()
    workers = run_load(server, headers, stop, result)
    time.sleep(1.0)
    outage_start = time.monotonic()
    private_postgres.stop("immediate")  # connections cut, like a crash
    time.sleep(4.0)
    private_postgres.start()
    outage_end = time.monotonic()
    time.sleep(1.0)
    stop.set()
    for w in workers:
        w.join(REQUEST_TIMEOUT + 5)
    assert not any(w.is_alive() for w in workers), "a request hung beyond the client's bound"

    # Every request got an answer (no hang, no dropped connection) ...
    assert not result.errors, result.errors[:5]
    failures = [r for (_t, _p, status, r) in result.answers if status >= 500]
    # ... the outage was really exercised, and each failure was clean.
    assert failures, "no request failed during the outage: the outage was not exercised"
    for response in failures:
        assert_clean_failure(response)
    unexpected = [(p, s, r.text[:200]) for (_t, p, s, r) in result.answers if 300 <= s < 500 and s != 409]
    assert not unexpected, unexpected[:5]

    # The same process recovers on its own: health first, then a run of ordinary requests.
    assert server.alive(), server.log()
    with server.client() as http:
        _wait(lambda: http.get(f"{API}/health").status_code == 200, 60, "health after the restart")
        statuses = [http.get(f"{API}/employees", headers=headers).status_code for _ in range(20)]
        statuses += [http.get(f"{API}/leave/types", headers=headers).status_code for _ in range(10)]
    assert statuses == [200] * 30, statuses

    during = [s for (t, _p, s, _r) in result.answers if outage_start <= t <= outage_end]
    FIGURES["pg_restart_requests"] += len(result.answers)
    FIGURES["pg_restart_clean_5xx"] += len(failures)
    FIGURES["pg_restart_requests_during_outage"] += len(during)
    FIGURES["scenarios_run"] += 1


# ------------------------------------------------------------------------------ (b) Redis stopped


def test_redis_stopped_api_keeps_serving_with_fallbacks(servers, tmp_path):
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    limit = 40
    try:
        server = ApiServer(tmp_path, database_url=f"sqlite:///{tmp_path / 'redis-down.db'}",
                           redis_url=redis_server.url, rate_limit_per_minute=str(limit))
        server.migrate()
        servers.append(server.start())
        with server.client() as http:
            headers = register_admin(http)
            assert http.get(f"{API}/health").json()["cache"] == "ok"
            assert http.get(f"{API}/employees", headers=headers).status_code == 200
            assert redis_server.keys("hr:rl:*"), "rate-limit counters should live in Redis while it is up"

            redis_server.stop()

            # Reads, writes (live-update publish falls back to the process) and sign-in keep working.
            health = http.get(f"{API}/health")
            assert health.status_code == 200 and health.json()["cache"] == "unreachable", health.text
            assert http.get(f"{API}/employees", headers=headers).status_code == 200
            check_in = http.post(f"{API}/attendance/check-in", headers=headers)
            assert check_in.status_code == 201, check_in.text
            assert http.post(f"{API}/attendance/check-out", headers=headers).status_code == 200
            me = http.get(f"{API}/employees", headers=headers).json()["data"][0]["email"]
            login = http.post(f"{API}/auth/login", json={"email": me, "password": PASSWORD})
            assert login.status_code == 200, login.text
            second = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}

            # Token revocation lives in the database: a logged-out token is refused without Redis.
            assert http.post(f"{API}/auth/logout", headers=second).status_code == 200
            assert http.get(f"{API}/employees", headers=second).status_code == 401

            # Rate limits go on in this process's memory (per process, counted from zero).
            statuses = [http.get(f"{API}/employees", headers=headers).status_code for _ in range(limit + 1)]
            assert statuses[-1] == 429 and 200 in statuses, statuses
            limited = http.get(f"{API}/employees", headers=headers)
            assert limited.status_code == 429 and limited.headers.get("retry-after"), limited.text

            # Redis back: the counters move to it again (fresh window there), health says so.
            redis_server.start()
            _wait(lambda: http.get(f"{API}/health").json()["cache"] == "ok", 30, "cache ok again")
            assert http.get(f"{API}/employees", headers=headers).status_code == 200
        assert server.alive(), server.log()
    finally:
        redis_server.stop()
    FIGURES["scenarios_run"] += 1


# ------------------------------------------------------------------------------ (c) SIGKILL during writes


def _burst_then_kill(server: ApiServer, headers: dict[str, str]) -> tuple[dict[int, str], int]:
    """Create employees from several threads; SIGKILL the server mid-burst. Returns the acknowledged
    writes {id: email} and the number of requests that got no answer."""
    acked: dict[int, str] = {}
    unanswered = 0
    lock = threading.Lock()
    killed = threading.Event()

    def writer(n: int) -> None:
        nonlocal unanswered
        with server.client() as http:
            i = 0
            while not killed.is_set():
                i += 1
                email = f"burst-{n}-{i}-{secrets.token_hex(3)}@example.com"
                try:
                    response = http.post(f"{API}/employees", headers=headers,
                                         json={"firstName": "Burst", "lastName": f"W{n}x{i}", "email": email})
                except httpx.HTTPError:
                    with lock:
                        unanswered += 1
                    continue
                if 200 <= response.status_code < 300:
                    with lock:
                        acked[response.json()["data"]["id"]] = email

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    _wait(lambda: len(acked) >= 40, 60, "40 acknowledged writes", interval=0.05)
    server.kill(signal.SIGKILL)
    killed.set()
    for t in threads:
        t.join(REQUEST_TIMEOUT + 5)
    return dict(acked), unanswered


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_sigkill_during_write_burst_loses_no_acknowledged_write(database, servers, tmp_path, request):
    if database == "postgresql":
        pg = request.getfixturevalue("private_postgres")
        url = pg.create_database("hr_sigkill")
    else:
        url = f"sqlite:///{tmp_path / 'sigkill.db'}"
    server = ApiServer(tmp_path, database_url=url)
    server.migrate()
    servers.append(server.start())
    with server.client() as http:
        headers = register_admin(http)

    acked, unanswered = _burst_then_kill(server, headers)
    assert not server.alive()
    assert acked, "no write was acknowledged before the kill"

    restarted = ApiServer(tmp_path, database_url=url)
    restarted.env["HR_SECRET_KEY"] = server.env["HR_SECRET_KEY"]  # same secret: the token stays valid
    restarted.port, restarted.base_url = server.port, server.base_url
    servers.append(restarted.start())
    missing = []
    with restarted.client() as http:
        for employee_id, email in acked.items():
            response = http.get(f"{API}/employees/{employee_id}", headers=headers)
            if response.status_code != 200 or response.json()["data"]["email"] != email:
                missing.append((employee_id, email, response.status_code))
    assert not missing, f"{len(missing)} acknowledged writes lost after SIGKILL: {missing[:5]}"
    FIGURES[f"sigkill_{database}_writes_checked"] += len(acked)
    FIGURES[f"sigkill_{database}_unanswered_at_kill"] += unanswered
    FIGURES["scenarios_run"] += 1
