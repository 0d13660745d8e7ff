"""hr_portal.core.config: HR_* settings, production safety checks, the local secret key file."""

from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError

from hr_portal.core import config
from hr_portal.core.config import Settings, get_settings

STRONG_KEY = "k9Q2-vX7pL0s_Rt4Wm8Zy3Bn6Cd1Ef5Gh"  # 34 characters


def make(**kwargs) -> Settings:
    """Settings from keyword arguments (and the HR_* environment), never from a developer's .env."""
    return Settings(_env_file=None, **kwargs)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Point the local data directory (secret key file, default database) at a temp dir."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    return tmp_path


def test_test_environment_settings_come_from_hr_variables():
    settings = get_settings()
    assert settings.env == "test"
    assert settings.bcrypt_rounds == 4
    assert len(settings.secret_key) == 48


@pytest.mark.parametrize("key", ["", "   ", "changeme", "secret", "development", "x" * 31, "CHANGEME"])
def test_production_refuses_a_missing_short_or_default_secret_key(key, data_dir):
    with pytest.raises(ValidationError, match="HR_SECRET_KEY"):
        make(env="production", secret_key=key)
    assert not (data_dir / ".secret_key").exists()  # never falls back to a generated key


def test_production_refuses_a_missing_key_from_the_environment(monkeypatch, data_dir):
    monkeypatch.setenv("HR_ENV", "production")
    monkeypatch.delenv("HR_SECRET_KEY")
    with pytest.raises(ValidationError):
        make()


def test_production_accepts_a_strong_secret_key():
    settings = make(env="production", secret_key=STRONG_KEY)
    assert settings.is_production and settings.secret_key == STRONG_KEY


def test_development_generates_a_key_file_once_and_reuses_it(data_dir):
    first = make(env="development", secret_key="")
    key_file = data_dir / ".secret_key"
    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    second = make(env="development", secret_key="")
    assert second.secret_key == first.secret_key


def test_development_reuses_an_existing_key_file(data_dir):
    (data_dir / ".secret_key").write_text("previously-generated-key-0123456789abcdef\n")
    assert make(env="development", secret_key="").secret_key == "previously-generated-key-0123456789abcdef"


def test_an_empty_key_file_is_replaced(data_dir):
    (data_dir / ".secret_key").write_text("")
    settings = make(env="development", secret_key="")
    assert settings.secret_key and (data_dir / ".secret_key").read_text().strip() == settings.secret_key


def test_an_explicit_key_is_used_and_no_file_is_written(data_dir):
    assert make(env="development", secret_key="my-own-key").secret_key == "my-own-key"
    assert not (data_dir / ".secret_key").exists()


@pytest.mark.parametrize("rounds", [3, 17])
def test_bcrypt_rounds_out_of_range_are_refused(rounds):
    with pytest.raises(ValidationError, match="HR_BCRYPT_ROUNDS"):
        make(bcrypt_rounds=rounds)


def test_defaults_put_database_and_outbox_under_the_data_dir(data_dir):
    settings = make(database_url="", outbox_dir="")
    assert settings.database_url == f"sqlite:///{data_dir / 'hr_portal.db'}"
    assert settings.is_sqlite
    assert settings.outbox_dir == str(data_dir / "outbox")
    assert not make(database_url="postgresql+psycopg://u@h/db").is_sqlite


@pytest.mark.parametrize("value, expected", [
    ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
    ('["https://a.example", "https://c.example"]', ["https://a.example", "https://c.example"]),
    ("https://a.example", ["https://a.example"]),
])
def test_cors_origins_from_the_environment_accept_a_list_or_json(monkeypatch, value, expected):
    monkeypatch.setenv("HR_CORS_ALLOWED_ORIGINS", value)
    assert make().cors_allowed_origins == expected


def test_cors_origins_default_to_the_base_url():
    settings = make(base_url="https://hr.example.com/", cors_allowed_origins=[])
    assert settings.cors_allowed_origins == ["https://hr.example.com"]


def test_get_settings_is_cached_until_cleared(settings_override):
    assert get_settings() is get_settings()
    before = get_settings()
    after = settings_override(base_url="https://elsewhere.example")
    assert after is not before and get_settings().base_url == "https://elsewhere.example"


def test_postgresql_pool_size_and_overflow_come_from_the_settings(settings_override):
    from hr_portal.core.db import make_engine

    engine = make_engine("postgresql+psycopg://u@127.0.0.1:1/none")  # no connection is opened
    assert (engine.pool.size(), engine.pool._max_overflow) == (10, 20)  # the defaults
    settings_override(db_pool_size=4, db_max_overflow=2)
    engine = make_engine("postgresql+psycopg://u@127.0.0.1:1/none")
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 2)


@pytest.mark.parametrize("values", [{"db_pool_size": 0}, {"db_max_overflow": -1}])
def test_pool_size_below_one_or_negative_overflow_is_refused(values):
    with pytest.raises(ValidationError, match="HR_DB_POOL_SIZE"):
        make(**values)


def test_ui_threads_are_half_the_postgresql_pool_within_bounds_or_as_configured(settings_override):
    from hr_portal.core.db import ui_threads

    pg = "postgresql+psycopg://u@127.0.0.1:1/none"
    settings_override(database_url=pg)
    assert ui_threads() == 15  # (10 + 20) / 2
    settings_override(database_url=pg, db_pool_size=4, db_max_overflow=2)
    assert ui_threads() == 8  # never fewer than 8
    settings_override(database_url=pg, db_pool_size=50, db_max_overflow=50)
    assert ui_threads() == 32  # nor more than 32
    settings_override(database_url=pg, ui_threads=3)
    assert ui_threads() == 3


def test_negative_ui_threads_are_refused():
    with pytest.raises(ValidationError, match="HR_UI_THREADS"):
        make(ui_threads=-1)


def test_the_app_runs_event_handlers_database_work_on_the_sized_executor(settings_override):
    import asyncio

    from hr_portal.core.db import ui_threads
    from hr_portal.hr_portal import _ui_threads_lifespan

    settings_override(database_url="postgresql+psycopg://u@127.0.0.1:1/none", ui_threads=11)

    async def run() -> tuple[int, str]:
        async with _ui_threads_lifespan():
            name = await asyncio.to_thread(lambda: __import__("threading").current_thread().name)
            return asyncio.get_running_loop()._default_executor._max_workers, name

    workers, thread = asyncio.run(run())
    assert workers == ui_threads() == 11
    assert thread.startswith("ui-db")
