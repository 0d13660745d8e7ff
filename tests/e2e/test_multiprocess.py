"""Two app processes sharing one PostgreSQL and one Redis (the production shape).

Shows: a page served by one process updates live for a change made through the other; scheduled
jobs run once per occurrence although both processes run the scheduler; a signed-in browser keeps
its session when the process serving it restarts. Runs only when HR_TEST_DATABASE_URL (PostgreSQL)
and a Redis URL are set, as in the second pass of .ci/run.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import REPO_ROOT, _free_port, _is_up, _log_tail, _run_setup, _server_env, _stop_group
from tests.e2e.helpers import register_org, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (os.environ.get("HR_TEST_DATABASE_URL") and
                            (os.environ.get("HR_E2E_REDIS_URL") or os.environ.get("HR_TEST_REDIS_URL"))),
                       reason="needs PostgreSQL and Redis (HR_TEST_DATABASE_URL and HR_TEST_REDIS_URL)"),
]


class App:
    def __init__(self, name: str, port: int, env: dict[str, str], log_path: Path):
        self.name, self.port, self.env, self.log_path = name, port, env, log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 240) -> None:
        cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(self.port),
               "--backend-port", str(self.port), "--backend-host", "127.0.0.1"]
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        started = time.monotonic()
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while not _is_up(client, self.base_url):
                if self.proc.poll() is not None or time.monotonic() - started > timeout:
                    pytest.fail(f"{self.name} did not start\n{_log_tail(self.log_path)}", pytrace=False)
                time.sleep(0.5)

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None


def _fresh_database(url: str, suffix: str) -> str:
    """Recreate `<db><suffix>` beside the test database (apart from the other e2e server's)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}{suffix}"
    with psycopg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("multiprocess")
    database_url = _fresh_database(os.environ["HR_TEST_DATABASE_URL"], "_mp")
    secret = "mp-" + secrets.token_hex(24)
    apps = []
    for name in ("a", "b"):
        port = _free_port()
        env = _server_env(port, database_url, workdir / name, REPO_ROOT / f".web-e2e-mp-{name}")
        env["HR_SECRET_KEY"] = secret  # both processes must accept each other's tokens
        env["HR_SCHEDULER_ENABLED"] = "true"  # tests/conftest.py switches it off for the unit tests
        (workdir / name).mkdir(parents=True, exist_ok=True)
        apps.append(App(name, port, env, workdir / f"{name}.log"))
    _run_setup([sys.executable, "-m", "hr_portal.cli", "migrate"], REPO_ROOT, apps[0].env, apps[0].log_path)
    _run_setup([sys.executable, "-m", "hr_portal.cli", "seed"], REPO_ROOT, apps[0].env, apps[0].log_path)
    try:
        for app in apps:
            app.start()
        yield apps[0], apps[1], database_url
    finally:
        for app in apps:
            app.stop()


def _settings_page(browser, app: App, account: dict):
    page = browser.new_context(base_url=app.base_url).new_page()
    sign_in(page, account["email"], account["password"])
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    return page


def test_a_change_through_one_process_shows_live_on_a_page_served_by_the_other(browser, two_apps):
    a, b, _ = two_apps
    account = register_org(a.base_url)
    on_a, on_b = _settings_page(browser, a, account), _settings_page(browser, b, account)
    try:
        on_b.get_by_role("button", name=re.compile(r"^Edit ")).first.click()
        on_b.get_by_label("Time zone").click()
        on_b.get_by_role("option", name="Africa/Nairobi").click()
        on_b.get_by_role("button", name="Save").click()
        expect(on_b.get_by_role("cell", name="Africa/Nairobi")).to_be_visible()
        expect(on_a.get_by_role("cell", name="Africa/Nairobi")).to_be_visible(timeout=10_000)
    finally:
        on_a.context.close()
        on_b.context.close()


def test_each_job_occurrence_runs_once_with_two_schedulers(two_apps):
    import psycopg
    from sqlalchemy.engine import make_url

    _, _, database_url = two_apps
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + 75  # core.deliver_mail fires every minute in both processes
    rows: list = []
    while time.monotonic() < deadline:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT occurrence, status FROM job_runs WHERE job_id = 'core.deliver_mail' "
                                "AND trigger = 'schedule'").fetchall()
        if rows:
            break
        time.sleep(1)
    assert rows, "the every-minute job never ran"
    per_occurrence = Counter(occurrence for occurrence, _ in rows)
    assert set(per_occurrence.values()) == {1}
    assert all(status in ("succeeded", "running") for _, status in rows)


def test_a_signed_in_session_survives_a_restart_of_its_process(browser, two_apps):
    a, _, _ = two_apps
    account = register_org(a.base_url)
    page = browser.new_context(base_url=a.base_url).new_page()
    try:
        sign_in(page, account["email"], account["password"])
        page.get_by_role("link", name="Settings", exact=True).click()
        expect(page.get_by_role("heading", name="Companies")).to_be_visible()
        a.stop()
        a.start()
        page.reload()
        expect(page.get_by_role("heading", name="Companies")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    finally:
        page.context.close()
