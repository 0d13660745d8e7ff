"""End-to-end fixtures: the real app (``reflex run --env prod``) and Playwright Chromium.

``portal`` starts the app once per test session on a free port, against a fresh database
(a temporary SQLite file, or a fresh PostgreSQL database derived from HR_TEST_DATABASE_URL),
and with HR_REDIS_URL taken from HR_TEST_REDIS_URL when that is set.

Isolation from a developer's ``make run``: the frontend is compiled into ``.web-e2e/``
(REFLEX_WEB_WORKDIR) rather than ``.web/``, because Reflex bakes the port into the built
bundle and rebuilds ``<web dir>/build`` in place on every start.

Knobs (environment): HR_E2E_START_TIMEOUT (seconds, default 240), HR_E2E_WEB_DIR,
HR_E2E_REDIS_URL (instead of HR_TEST_REDIS_URL), HR_CHROMIUM_PATH,
HR_E2E_APP_DIR (run a different Reflex app dir; for testing this file).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
RESULTS_DIR = REPO_ROOT / "test-results"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SYSTEM_CHROMIUM = "/usr/bin/chromium"
DEFAULT_TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 800}

_REPORTS = pytest.StashKey[dict]()


# --------------------------------------------------------------------------- marking


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e with ``e2e``."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item so ``page`` can screenshot failures."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


# --------------------------------------------------------------------------- server


@dataclass
class Portal:
    base_url: str
    port: int
    database_url: str
    outbox_dir: Path  # mails the app "sends" (HR_OUTBOX_DIR)
    log_path: Path
    startup_seconds: float
    process: subprocess.Popen

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def _log_tail(path: Path, lines: int = 80) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _fresh_postgres_database(url: str) -> str:
    """Recreate ``<db>_e2e`` next to the test database and return its URL.

    Keeps the e2e server's data apart from the service/API tests that share
    HR_TEST_DATABASE_URL. Falls back to ``url`` itself if the role cannot create
    databases.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_e2e{_worker_suffix()}".lower()
    if not re.fullmatch(r"[a-z0-9_]+", name):
        return url
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:  # pragma: no cover - depends on server privileges
        print(f"e2e: cannot create database {name} ({exc}); using {base.database}")
        return url
    return base.set(database=name).render_as_string(hide_password=False)


def _server_env(port: int, database_url: str, workdir: Path, web_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLEX_")}
    env.pop("HR_REDIS_URL", None)
    bun_bin = REPO_ROOT / ".tools" / "node_modules" / ".bin"
    if (bun_bin / "bun").exists():
        env["PATH"] = f"{bun_bin}{os.pathsep}{env.get('PATH', '')}"
        env["REFLEX_USE_SYSTEM_BUN"] = "1"
    base_url = f"http://127.0.0.1:{port}"
    env.update(
        HR_ENV="test",
        HR_DATABASE_URL=database_url,
        HR_SECRET_KEY="e2e-" + secrets.token_hex(16),
        HR_PORT=str(port),
        HR_BASE_URL=base_url,
        HR_OUTBOX_DIR=str(workdir / "outbox"),
        HR_BCRYPT_ROUNDS="4",
        # Every browser test signs in from 127.0.0.1; limits are covered by the service/API tests.
        HR_RATE_LIMIT_PER_MINUTE="100000",
        HR_LOGIN_RATE_LIMIT_PER_MINUTE="100000",
        HR_RESET_RATE_LIMIT_PER_MINUTE="100000",
        # The built frontend connects to REFLEX_API_URL; use the same origin the browser uses.
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
    redis_url = os.environ.get("HR_E2E_REDIS_URL") or os.environ.get("HR_TEST_REDIS_URL")
    if redis_url:
        env["HR_REDIS_URL"] = redis_url
    return env


def _run_setup(args: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> None:
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(args)}\n")
        log.flush()
        result = subprocess.run(
            args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, timeout=300, check=False,
        )
    if result.returncode != 0:
        pytest.fail(
            f"e2e setup failed: {' '.join(args)} (exit {result.returncode})\n"
            f"--- {log_path} ---\n{_log_tail(log_path)}",
            pytrace=False,
        )


def _group_gone(pgid: int, proc: subprocess.Popen, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        proc.poll()  # reap the leader so it does not linger as a zombie
        try:
            os.killpg(pgid, 0)  # any member of the group left?
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def _stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds."""
    pgid = proc.pid  # start_new_session=True: the leader's pid is the group id
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if _group_gone(pgid, proc, wait):
            break
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def _is_up(client: httpx.Client, base_url: str) -> bool:
    try:
        health = client.get(base_url + "/api/v1/health")
        if health.status_code != 200:
            return False
        root = client.get(base_url + "/")
        return root.status_code == 200 and "<html" in root.text[:2000].lower()
    except httpx.HTTPError:
        return False


def _announce(config: pytest.Config, line: str) -> None:
    """Print a line to the terminal even while output capturing is active."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capman is None:
        reporter.write_line(line)
        return
    with capman.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The real app in prod mode, started once per session."""
    app_dir = Path(os.environ.get("HR_E2E_APP_DIR", REPO_ROOT)).resolve()
    workdir = tmp_path_factory.mktemp("portal")
    log_path = workdir / "server.log"
    web_dir = Path(os.environ.get("HR_E2E_WEB_DIR", app_dir / ".web-e2e")).resolve()
    if _worker_suffix():
        web_dir = web_dir.with_name(web_dir.name + _worker_suffix())
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"

    if os.environ.get("HR_TEST_DATABASE_URL"):
        database_url = _fresh_postgres_database(os.environ["HR_TEST_DATABASE_URL"])
    else:
        database_url = f"sqlite:///{workdir / 'e2e.db'}"

    env = _server_env(port, database_url, workdir, web_dir)
    py = sys.executable
    _run_setup([py, "-m", "hr_portal.cli", "migrate"], app_dir, env, log_path)
    _run_setup([py, "-m", "hr_portal.cli", "seed"], app_dir, env, log_path)

    cmd = [
        py, "-m", "reflex", "run", "--env", "prod",
        "--frontend-port", str(port), "--backend-port", str(port),
        "--backend-host", "127.0.0.1", "--loglevel", "info",
    ]
    timeout = float(os.environ.get("HR_E2E_START_TIMEOUT", "240"))
    started = time.monotonic()
    with log_path.open("a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(
            cmd, cwd=app_dir, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while not _is_up(client, base_url):
                if proc.poll() is not None:
                    pytest.fail(
                        f"e2e server exited with {proc.returncode} before becoming ready\n"
                        f"--- {log_path} ---\n{_log_tail(log_path)}",
                        pytrace=False,
                    )
                if time.monotonic() - started > timeout:
                    pytest.fail(
                        f"e2e server not ready after {timeout:.0f}s on {base_url}\n"
                        f"--- {log_path} ---\n{_log_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.5)
        elapsed = time.monotonic() - started
        _announce(request.config, f"e2e: app ready on {base_url} in {elapsed:.1f}s (log: {log_path})")
        yield Portal(base_url, port, database_url, workdir / "outbox", log_path, elapsed, proc)
    finally:
        _stop_group(proc)


# --------------------------------------------------------------------------- browser


def _chromium_executable() -> str | None:
    explicit = os.environ.get("HR_CHROMIUM_PATH")
    if explicit:
        return explicit
    if os.path.exists(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM
    return shutil.which("chromium") or None  # None: Playwright's own download


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=_chromium_executable(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser, portal: Portal):
    """A fresh browser context and page per test; screenshot on failure."""
    from playwright.sync_api import expect

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    context = browser.new_context(viewport=VIEWPORT, base_url=portal.base_url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            RESULTS_DIR.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(RESULTS_DIR / f"{name}.png"), full_page=True)
            except Exception as exc:  # noqa: BLE001 - never mask the real failure
                print(f"e2e: screenshot failed: {exc}")
        context.close()
