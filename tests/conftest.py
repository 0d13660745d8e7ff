"""Shared fixtures for every module's service and API tests.

Environment (set at import time, before anything reads the settings):

- ``HR_ENV=test``, ``HR_BCRYPT_ROUNDS=4`` (fast hashing), a fixed ``HR_SECRET_KEY``
  (:data:`TEST_SECRET_KEY`), ``HR_BASE_URL`` = :data:`TEST_BASE_URL`, no SMTP (mail goes to
  ``HR_OUTBOX_DIR``, a temporary directory).
- Database: ``HR_TEST_DATABASE_URL`` when set (CI: ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
  else a SQLite file in a temporary directory. Under pytest-xdist each worker gets its own
  PostgreSQL database (``<db>_gw0`` ...) when the role may create databases.
- Redis: ``HR_TEST_REDIS_URL`` when set (a dedicated db number such as ``/15``: it is flushed at
  session start and after each test), else none (the in-process cache). Rate-limit counters (Redis
  or in-process) are reset after each test.
  The settings these tests rely on are pinned here, so a developer's ``.env`` cannot change them.

Database lifecycle:

- Once per session (lazily, only for tests that use the database): the schema is dropped
  (PostgreSQL: ``DROP SCHEMA public CASCADE``) and rebuilt by the real Alembic migrations
  (``hr_portal.cli.migrate()``), so the migrations are exercised on both databases.
- After each test that used ``db`` or ``client``: every table is emptied with DELETEs in reverse
  dependency order (faster than TRUNCATE for small tables; FK cycles broken first, see
  ``truncate_all_tables``). Services commit on their own in places and race tests use real
  separate connections, so a rolled-back outer transaction would not isolate tests. Ids are not
  reset: never assume them.

Fixtures: ``db`` (a Session), ``client`` (TestClient on ``create_api()``), ``org``/``other_org``
(an organization with a company), ``people`` (one person per role in ``org``), ``outbox`` (a
per-test mail outbox directory), ``settings_override`` (change HR_* settings for one test).
Builders and API helpers live in ``tests/factories.py``.

Nothing here is autouse, so the browser tests in ``tests/e2e`` (their own server and database)
are unaffected.

SQLite caveat: every transaction takes the write lock (``BEGIN IMMEDIATE``, see
``hr_portal/core/db.py``). A test holding an open transaction in ``db`` blocks API calls and
other threads: ``db.commit()`` (or ``db.rollback()``) before calling the API or starting threads.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TEST_SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnop"
TEST_BASE_URL = "https://hr.portal.test"
assert len(TEST_SECRET_KEY) == 48

_TMP = Path(tempfile.mkdtemp(prefix="hr-portal-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _test_database_url() -> str:
    url = os.environ.get("HR_TEST_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{_TMP / 'test.db'}"
    if _WORKER and url.startswith("postgresql"):
        return _worker_postgres_database(url)
    return url


def _worker_postgres_database(url: str) -> str:
    """Under xdist, give each worker its own database next to the test database."""
    import re

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{_WORKER}".lower()
    if not re.fullmatch(r"[a-z0-9_]+", name):
        return url
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:  # pragma: no cover - depends on server privileges
        return url
    return base.set(database=name).render_as_string(hide_password=False)


_TEST_ENV = {
    "HR_ENV": "test",
    "HR_BCRYPT_ROUNDS": "4",
    "HR_SECRET_KEY": TEST_SECRET_KEY,
    "HR_BASE_URL": TEST_BASE_URL,
    "HR_OUTBOX_DIR": str(_TMP / "outbox"),
    "HR_DATABASE_URL": _test_database_url(),
    "HR_REDIS_URL": os.environ.get("HR_TEST_REDIS_URL", "").strip(),
    "HR_SMTP_HOST": "",
    "HR_SMTP_USER": "",
    "HR_TRUSTED_PROXY_HOPS": "0",
    "HR_ACCESS_TOKEN_MINUTES": "1440",
    "HR_REFRESH_TOKEN_DAYS": "7",
    "HR_UI_SESSION_HOURS": "12",
    "HR_PASSWORD_RESET_MINUTES": "60",
    "HR_LOGIN_MAX_FAILURES": "5",
    "HR_LOGIN_LOCK_MINUTES": "15",
    "HR_JWT_ISSUER": "hr-portal",
    "HR_JWT_AUDIENCE": "hr-portal-api",
    # Rate limits off by default (one TestClient is one "client" for every test); the rate-limit
    # tests switch them on with settings_override.
    "HR_RATE_LIMIT_PER_MINUTE": "0",
    "HR_LOGIN_RATE_LIMIT_PER_MINUTE": "0",
    "HR_RESET_RATE_LIMIT_PER_MINUTE": "0",
    "HR_SCHEDULER_ENABLED": "false",
}
os.environ.update(_TEST_ENV)

# Imported only now: nothing may read the settings before the environment above is in place.
from sqlalchemy import inspect as sa_inspect  # noqa: E402
from sqlalchemy import or_, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import hr_portal.models  # noqa: E402,F401  (registers every table on SQLModel.metadata)
from hr_portal.core import cache  # noqa: E402
from hr_portal.core.config import get_settings  # noqa: E402
from hr_portal.core.db import get_engine, reset_engine  # noqa: E402
from tests import factories  # noqa: E402


def clear_caches(*, engine: bool = False) -> None:
    """Forget cached settings and Redis client (and the engine when ``engine``) after an env change."""
    get_settings.cache_clear()
    cache.redis_client.cache_clear()
    if engine:
        reset_engine()


clear_caches(engine=True)


# ------------------------------------------------------------------------------ schema and cleanup


def _drop_everything() -> None:
    settings = get_settings()
    if settings.is_sqlite:
        reset_engine()  # close every pooled connection to the file first
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    with get_engine().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    reset_engine()


def _flush_redis() -> None:
    client = cache.redis_client()
    if client is not None:
        client.flushdb()


@pytest.fixture(scope="session")
def migrated_database() -> str:
    """A clean database at the latest Alembic revision (once per session). Returns its URL."""
    from hr_portal.cli import migrate

    global _table_names
    clear_caches(engine=True)
    _drop_everything()
    migrate()
    _table_names = None
    _flush_redis()
    return get_settings().database_url


def _drain_events() -> None:
    """Background event listeners (core/events.py) of this test finish before its tables are emptied."""
    from hr_portal.core import events

    events.drain()


def _wait_for_mail_threads(timeout: float = 5.0) -> None:
    """Background mail delivery (kicked after a commit) must not run into the next test's cleanup."""
    for thread in threading.enumerate():
        if thread.name == "mail-delivery" and thread is not threading.current_thread():
            thread.join(timeout)


def truncate_all_tables() -> None:
    """Empty every table (fast: plain DELETEs, children first) so the next test starts from nothing.

    Foreign-key cycles (``use_alter`` constraints such as departments.head_employee_id ->
    employees) are broken first by nulling those columns; on SQLite the foreign keys (ON) are
    additionally deferred to COMMIT. DELETE is ~10x faster than TRUNCATE on PostgreSQL for
    these small tables.
    """
    engine = get_engine()
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name in _existing_tables()]
    if not tables:
        return
    statements = []
    for table in tables:
        for fk in table.foreign_key_constraints:
            if fk.use_alter:
                cols = list(fk.columns)
                statements.append(table.update().where(or_(*[c.is_not(None) for c in cols]))
                                  .values({c.name: None for c in cols}))
    statements += [table.delete() for table in tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a leaked transaction fails loudly
            # One round trip for the whole batch (no parameters: literal SQL is safe here).
            sql = ";\n".join(str(st.compile(conn, compile_kwargs={"literal_binds": True})) for st in statements)
            conn.exec_driver_sql(sql)
            return
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for statement in statements:
            conn.execute(statement)


_table_names: set[str] | None = None


def _existing_tables() -> set[str]:
    """Tables in the test database (read once per session, after migrating)."""
    global _table_names
    if _table_names is None:
        _table_names = set(sa_inspect(get_engine()).get_table_names())
    return _table_names


@pytest.fixture
def clean_database(migrated_database: str) -> Iterator[str]:
    """The migrated database; emptied (and caches reset) after the test. ``db`` and ``client`` use it."""
    yield migrated_database
    _drain_events()
    _wait_for_mail_threads()
    clear_caches()  # a test may have changed settings; the next one starts from the test env
    truncate_all_tables()
    cache.reset_memory()  # rate-limit counters start from zero in every test
    _flush_redis()  # (under pytest-xdist the workers share this Redis db: prefer serial runs with Redis)


@pytest.fixture
def db(clean_database: str) -> Iterator[Session]:
    """A Session for service tests (``expire_on_commit=False``). Services commit on their own in
    places; tables are emptied after the test. Commit before calling the API (see module doc)."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(scope="session")
def api_app():
    """The FastAPI app from ``create_api()``, built once per session (building it takes ~0.2 s).
    A test that needs an app built under other settings (e.g. ``env=production``) calls
    ``create_api()`` itself."""
    from hr_portal.api import create_api

    return create_api()


@pytest.fixture
def client(clean_database: str, api_app):
    """A ``TestClient`` on the API app. Unhandled server errors are raised in the test (not turned
    into 500 responses); ``TestClient(api_app, raise_server_exceptions=False)`` to see the 500."""
    from fastapi.testclient import TestClient

    try:
        with TestClient(api_app) as test_client:
            yield test_client
    finally:
        api_app.dependency_overrides.clear()


# ------------------------------------------------------------------------------ data


def _committed(build: Callable[[Session], Any]) -> Any:
    with Session(get_engine(), expire_on_commit=False) as session:
        result = build(session)
        session.commit()
        return result


@pytest.fixture
def org(clean_database: str) -> factories.OrgBundle:
    """An organization with one company (committed)."""
    return _committed(lambda s: factories.create_organization(s, name="Org A"))


@pytest.fixture
def other_org(clean_database: str) -> factories.OrgBundle:
    """A second, unrelated organization (committed), for isolation tests."""
    return _committed(lambda s: factories.create_organization(s, name="Org B"))


@pytest.fixture
def people(org: factories.OrgBundle) -> dict[str, factories.Person]:
    """One person per role in ``org`` ({'admin', 'hr_manager', 'manager', 'employee'}), all with
    password ``factories.PASSWORD``; the employee reports to the manager, who reports to the admin."""
    return _committed(lambda s: factories.create_people(s, org))


@pytest.fixture
def make_person(clean_database: str) -> Callable[..., factories.Person]:
    """``make_person(org, role=Role.manager, ...)``: build and commit one person (see factories.create_person)."""
    return lambda org_bundle, **kw: _committed(lambda s: factories.create_person(s, org_bundle, **kw))


# ------------------------------------------------------------------------------ settings


@pytest.fixture
def settings_override() -> Iterator[Callable[..., Any]]:
    """``settings_override(smtp_host="127.0.0.1", smtp_port=2525)`` sets HR_* variables for this
    test and returns the fresh Settings; everything is restored (and caches cleared) afterwards."""
    saved: dict[str, str | None] = {}
    engine_changed = False

    def apply(**values: Any):
        nonlocal engine_changed
        for key, value in values.items():
            name = f"HR_{key.upper()}"
            saved.setdefault(name, os.environ.get(name))
            if isinstance(value, bool):
                value = "true" if value else "false"
            os.environ[name] = str(value)
            engine_changed |= key.lower() == "database_url"
        clear_caches(engine=engine_changed)
        return get_settings()

    yield apply
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    clear_caches(engine=engine_changed)


@pytest.fixture
def outbox(tmp_path: Path, settings_override) -> Path:
    """A fresh, empty mail outbox directory for this test (HR_OUTBOX_DIR)."""
    path = tmp_path / "outbox"
    settings_override(outbox_dir=str(path))
    return path
