"""Settings: one pydantic-settings object, read from HR_* environment variables and an optional .env."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT_DIR / "data"

_INSECURE_KEYS = {"", "changeme", "secret", "change-me", "dev", "development"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HR_", env_file=ROOT_DIR / ".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    # Database: SQLite file under data/ by default; postgresql+psycopg://user@host/db for PostgreSQL.
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    # Public base URL of the portal: used in mailed links, never taken from a request's Host header.
    base_url: str = "http://localhost:3000"
    port: int = 3000
    # false: this process serves the API and the websocket only (`reflex run --env prod --backend-only`);
    # the frontend is built once (`reflex export --frontend-only`) and served by the reverse proxy, so every
    # process behind it hands out the same build (deploy/, docs/operations.md).
    serve_frontend: bool = True
    # NoDecode: the env value is a comma-separated list or JSON, parsed by _split_origins below.
    cors_allowed_origins: Annotated[list[str], NoDecode] = []
    trusted_proxy_hops: int = 0

    access_token_minutes: int = 24 * 60
    refresh_token_days: int = 7
    ui_session_hours: int = 12
    password_reset_minutes: int = 60
    bcrypt_rounds: int = 12
    jwt_issuer: str = "hr-portal"
    jwt_audience: str = "hr-portal-api"

    # Requests per minute per client IP on /api/v1 (0 disables); failed sign-ins per IP per minute
    # (UI and API); password-reset requests per IP per minute.
    rate_limit_per_minute: int = 60
    login_rate_limit_per_minute: int = 20
    reset_rate_limit_per_minute: int = 5

    # API requests that may hold a database session at once (per process); 0 = derived from the
    # connection pool and the worker-thread pool (core/api_support.py, admission gate).
    api_db_concurrency: int = 0
    # PostgreSQL connections per worker process: kept open, and opened on top of those under load.
    # Every worker has its own pool: size PostgreSQL's max_connections for processes x workers x
    # (pool size + overflow) (docs/operations.md). Not used for SQLite.
    db_pool_size: int = 10
    db_max_overflow: int = 20
    # bcrypt hashes (sign-in, password changes) computed at once per worker process; 0 = derived from
    # the CPU cores and the worker count (core/security.py). More than the cores only slows every
    # other request down (a hash is ~0.25 s of one core at cost 12).
    bcrypt_concurrency: int = 0
    # Threads per worker process for the UI's units of work (Reflex event handlers hand their database
    # work to asyncio's default executor); 0 = derived: half of the PostgreSQL pool (pool + overflow),
    # between 8 and 32, and Python's own default (cores + 4) on SQLite. With Python's default, 6 threads
    # on 2 cores, a morning rush queued every handler behind the others' database round trips.
    ui_threads: int = 0
    # PostgreSQL: the UI's hot units of work (the session check, check-in, the approvals queue, the directory,
    # Home) run on the worker's event loop through psycopg's asyncio connections (core/db.py run_unit) instead
    # of a thread: a database round trip's answer then never waits for the GIL. Their pool is a second one, sized by
    # db_pool_size and db_max_overflow too. Off: every unit of work runs on the threads above.
    db_async_ui: bool = True
    # With Redis: a worker keeps the Redis lock of a browser tab it serves for a few seconds after an event
    # (Reflex's opportunistic lock) and works on its copy of the tab's state in memory, writing it back when
    # the lease ends, when another process asks for the tab (it asks through Redis and gets it at once) or
    # at shutdown. Saves the lock, read and write round trips of every event but the first in a burst. A
    # worker killed without a shutdown loses at most the last few seconds of its tabs' UI state (never
    # data: that is in the database), and those tabs wait for the lock to expire (10 s) before going on.
    state_lease: bool = True

    login_max_failures: int = 5
    login_lock_minutes: int = 15

    # Mail: files under data/outbox/ unless an SMTP host is configured.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: int = 20
    mail_from: str = "HR Portal <no-reply@hr-portal.local>"
    outbox_dir: str = ""

    log_level: str = "INFO"
    # Run scheduled jobs in this process (every process may; each occurrence runs once in total).
    scheduler_enabled: bool = True

    # Uploaded files (profile photos, leave attachments), stored in the database: largest accepted size.
    upload_max_bytes: int = 5 * 1024 * 1024

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value):
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _defaults_and_checks(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{DATA_DIR / 'hr_portal.db'}"
        if not self.cors_allowed_origins:
            origin = self.base_url.rstrip("/")
            self.cors_allowed_origins = [origin]
            # Local use: the same portal is reached as localhost or 127.0.0.1.
            for a, b in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
                if a in origin:
                    self.cors_allowed_origins.append(origin.replace(a, b))
        if not self.outbox_dir:
            self.outbox_dir = str(DATA_DIR / "outbox")
        if self.env == "production":
            if self.secret_key.strip().lower() in _INSECURE_KEYS or len(self.secret_key) < 32:
                raise ValueError(
                    "HR_SECRET_KEY must be set to a random value of at least 32 characters in production "
                    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
                )
        elif not self.secret_key:
            self.secret_key = _local_secret_key()
        if not 4 <= self.bcrypt_rounds <= 16:
            raise ValueError("HR_BCRYPT_ROUNDS must be between 4 and 16")
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            raise ValueError("HR_DB_POOL_SIZE must be at least 1 and HR_DB_MAX_OVERFLOW at least 0")
        if self.bcrypt_concurrency < 0:
            raise ValueError("HR_BCRYPT_CONCURRENCY must be 0 (derived) or more")
        if self.ui_threads < 0:
            raise ValueError("HR_UI_THREADS must be 0 (derived) or more")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _local_secret_key() -> str:
    """Generate a secret once into data/ for local use, so tokens survive restarts."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / ".secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def reflex_environment(settings: Settings) -> dict[str, str]:
    """The REFLEX_* variables that follow from our settings (rxconfig.py exports them unless already set)."""
    if not settings.redis_url:
        return {}
    return {"REFLEX_OPLOCK_ENABLED": "true" if settings.state_lease else "false"}


@lru_cache
def get_settings() -> Settings:
    return Settings()
