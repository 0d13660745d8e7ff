"""The production shape: the shipped reverse-proxy configuration (deploy/nginx.conf) serving the
frontend built once, in front of two backend-only app processes.

As in the Dockerfile: `reflex export --frontend-only` builds the frontend once (for the proxy's public
address), the processes run `reflex run --env prod --backend-only` with HR_SERVE_FRONTEND=false, and
nginx runs the file as deployed with only its upstream addresses, listen port and document root
replaced by this test's (each replacement must match exactly once, so a change to the file's shape
fails here rather than going untested). Shows: pages (with the app's security headers), every chunk
they load, the legacy API and the Reflex websocket all work through the proxy with no session
stickiness; requests are spread over both processes; a signed-in browser keeps working, without
signing in again, when either process behind the proxy stops.

Runs in the PostgreSQL + Redis pass (the production shape: state in Redis, sessions in PostgreSQL).
nginx comes from Debian (`make nginx`); without it the test is skipped locally and fails under CI.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from hr_portal.core.http import CSP
from tests.e2e.conftest import REPO_ROOT, _free_port, _log_tail, _run_setup, _server_env, _stop_group
from tests.e2e.helpers import register_org, sign_in
from tests.e2e.test_multiprocess import _fresh_database

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
MIME_TYPES = "/etc/nginx/mime.types"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (os.environ.get("HR_TEST_DATABASE_URL") and
                            (os.environ.get("HR_E2E_REDIS_URL") or os.environ.get("HR_TEST_REDIS_URL"))),
                       reason="needs PostgreSQL and Redis (HR_TEST_DATABASE_URL and HR_TEST_REDIS_URL)"),
]


class Backend:
    """One `reflex run --env prod --backend-only` process (what each portal container runs)."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_path: Path):
        self.name, self.port, self.env, self.log_path = name, port, env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
               "--backend-port", str(self.port), "--backend-host", "127.0.0.1"]
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until(lambda: _ok(f"http://127.0.0.1:{self.port}/api/v1/health"), timeout, self.proc,
                    f"{self.name} did not start", self.log_path)

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(check, timeout: float, proc: subprocess.Popen, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what}\n{_log_tail(log_path)}", pytrace=False)
        time.sleep(0.3)


def _proxy_config(workdir: Path, listen_port: int, upstream_ports: tuple[int, int], root: Path) -> Path:
    """deploy/nginx.conf with this test's addresses, inside a minimal main configuration."""
    shipped = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    replacements = [
        ("server portal-a:3000 ", f"server 127.0.0.1:{upstream_ports[0]} "),
        ("server portal-b:3000 ", f"server 127.0.0.1:{upstream_ports[1]} "),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
        ("root /usr/share/nginx/html;", f"root {root};"),
    ]
    for old, new in replacements:
        assert shipped.count(old) == 1, f"deploy/nginx.conf changed shape: {old!r} is not there exactly once"
        shipped = shipped.replace(old, new)
    (workdir / "portal.conf").write_text(shipped)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / sub).mkdir(exist_ok=True)
    main = workdir / "nginx.conf"
    main.write_text(f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};  # as the nginx image's main configuration does around conf.d/
    default_type application/octet-stream;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    log_format upstreams '$request_method $uri $status $upstream_addr';
    access_log {workdir}/access.log upstreams;
    include {workdir}/portal.conf;
}}
""")
    return main


def _upstreams(access_log: Path, prefix: str) -> set[int]:
    """Ports of the app processes that answered requests whose path starts with `prefix`."""
    ports: set[int] = set()
    for line in access_log.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[1].startswith(prefix):
            ports |= {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", parts[3])}
    return ports


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (make nginx)", pytrace=False)
        pytest.skip("nginx is not installed (make nginx)")
    workdir = tmp_path_factory.mktemp("proxy")
    database_url = _fresh_database(os.environ["HR_TEST_DATABASE_URL"], "_proxy")
    proxy_port = _free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    web_dir = REPO_ROOT / ".web-e2e-proxy"
    secret = "proxy-" + secrets.token_hex(24)
    backends = []
    for name in ("a", "b"):
        port = _free_port()
        env = _server_env(port, database_url, workdir / name, web_dir)
        # What a deployment behind the proxy sets: the public address (the built frontend connects its
        # websocket there), one trusted proxy hop, one secret for both processes, no frontend.
        env.update(HR_SECRET_KEY=secret, HR_BASE_URL=proxy_url, REFLEX_API_URL=proxy_url,
                   REFLEX_DEPLOY_URL=proxy_url, HR_TRUSTED_PROXY_HOPS="1", HR_SERVE_FRONTEND="false",
                   REFLEX_CHECK_LATEST_VERSION="false")
        (workdir / name).mkdir(parents=True, exist_ok=True)
        backends.append(Backend(name, port, env, workdir / f"{name}.log"))
    env = backends[0].env
    log = backends[0].log_path
    _run_setup([sys.executable, "-m", "hr_portal.cli", "migrate"], REPO_ROOT, env, log)
    # The build, once, as the Dockerfile does it.
    _run_setup([sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"],
               REPO_ROOT, {**env, "HR_SERVE_FRONTEND": "true"}, workdir / "export.log")
    nginx_dir = workdir / "nginx"
    nginx_dir.mkdir()
    config = _proxy_config(nginx_dir, proxy_port, (backends[0].port, backends[1].port),
                           web_dir / "build" / "client")
    nginx = None
    try:
        for backend in backends:
            backend.start()
        nginx = subprocess.Popen([NGINX, "-p", str(nginx_dir), "-c", str(config), "-g", "daemon off;"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until(lambda: _ok(proxy_url + "/api/v1/health") and _ok(proxy_url + "/login"), 30, nginx,
                    "nginx did not start", nginx_dir / "error.log")
        yield proxy_url, backends, nginx_dir / "access.log"
    finally:
        if nginx is not None:
            _stop_group(nginx)
        for backend in backends:
            backend.stop()


def _settings_page(browser, proxy_url: str, account: dict):
    page = browser.new_context(base_url=proxy_url).new_page()
    page.context.set_default_timeout(20_000)
    sign_in(page, account["email"], account["password"])
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    return page


def _set_time_zone(page, zone: str) -> None:
    page.get_by_role("button", name=re.compile(r"^Edit ")).first.click()
    page.get_by_label("Time zone").click()
    page.get_by_role("option", name=zone).click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name=zone)).to_be_visible()


def test_pages_come_from_the_one_build_with_every_chunk_and_the_apps_security_headers(proxied):
    proxy_url, _, _ = proxied
    with httpx.Client(base_url=proxy_url, timeout=10.0, trust_env=False) as client:
        for path in ("/login", "/", "/employees/42", "/no-such-page"):  # prerendered, dynamic, unknown
            page = client.get(path, follow_redirects=True)
            assert page.status_code == 200, (path, page.status_code)
            assert page.headers["content-security-policy"] == CSP
            assert page.headers["x-frame-options"] == "DENY"
            chunks = set(re.findall(r'/assets/[\w.-]+\.(?:js|css)', page.text))
            assert chunks, path
            for chunk in chunks:
                got = client.get(chunk)
                assert got.status_code == 200 and "immutable" in got.headers["cache-control"], chunk
                kind = "text/css" if chunk.endswith(".css") else "application/javascript"
                assert got.headers["content-type"].startswith(kind), (chunk, got.headers["content-type"])
        assert client.get("/assets/no-such-chunk.js").status_code == 404


def test_pages_api_and_websocket_work_through_the_proxy_and_reach_both_processes(browser, proxied):
    proxy_url, (a, b), access_log = proxied
    account = register_org(proxy_url)  # the legacy API through the proxy
    page = _settings_page(browser, proxy_url, account)  # page, sign-in and events over the proxied websocket
    try:
        _set_time_zone(page, "Africa/Nairobi")
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            for _ in range(8):
                assert client.get(proxy_url + "/api/v1/health").status_code == 200
            me = client.get(f"{proxy_url}/api/v1/employees/{account['user']['employeeId']}",
                            headers={"Authorization": f"Bearer {account['accessToken']}"})
            assert me.status_code == 200, me.text
            assert me.json()["data"]["email"] == account["email"]
    finally:
        page.context.close()
    time.sleep(0.5)  # nginx writes a websocket's access line when it closes
    assert _upstreams(access_log, "/api/") == {a.port, b.port}
    assert _upstreams(access_log, "/_event") <= {a.port, b.port}
    assert _upstreams(access_log, "/_event"), "no websocket went through the proxy"


def test_a_signed_in_browser_keeps_working_when_either_process_behind_the_proxy_stops(browser, proxied):
    proxy_url, backends, _ = proxied
    account = register_org(proxy_url)
    page = _settings_page(browser, proxy_url, account)
    try:
        for stopped, zone in ((backends[0], "Asia/Tokyo"), (backends[1], "Europe/Paris")):
            stopped.stop()  # whichever process held the websocket, one of the two rounds takes it away
            try:
                _set_time_zone(page, zone)  # the socket reconnects through the proxy to the other process
                page.reload()
                expect(page.get_by_role("heading", name="Companies")).to_be_visible()
                expect(page.get_by_role("cell", name=zone)).to_be_visible()
                expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
            finally:
                stopped.start()
    finally:
        page.context.close()
