"""The Alembic migrations build exactly the schema the models describe (an `alembic check` equivalent)."""

from __future__ import annotations

import os
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import hr_portal.models  # noqa: F401
from alembic import command
from hr_portal.core.config import ROOT_DIR
from hr_portal.core.db import get_engine, reset_engine


def _diff(metadata: MetaData | None = None) -> list:
    with warnings.catch_warnings():
        # Alembic/SQLAlchemy cannot reflect or compare expression indexes (lower(email)) and say so;
        # test_email_uniqueness_ignores_case_in_the_database checks that index by behaviour.
        warnings.filterwarnings("ignore", message=".*[Ee]xpression.*index")
        return _compare(metadata)


def _compare(metadata: MetaData | None) -> list:
    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, metadata if metadata is not None else SQLModel.metadata)


def test_migrated_schema_matches_models(migrated_database):
    assert _diff() == []


def test_database_is_at_every_head_revision(migrated_database):
    """Modules add migrations in parallel branches; `cli migrate` upgrades to all heads."""
    script = ScriptDirectory.from_config(Config(str(ROOT_DIR / "alembic.ini")))
    heads = set(script.get_heads())
    assert heads
    with get_engine().connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == heads


def test_migrations_create_every_model_table(migrated_database):
    tables = set(inspect(get_engine()).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= tables


def test_schema_comparison_detects_a_model_change(migrated_database):
    """Guard for the test above: a column that exists only in the models is reported."""
    changed = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("not_migrated", Integer, nullable=True))
    diff = _diff(changed)
    assert any(d[0] == "add_column" and d[3].name == "not_migrated" for d in diff), diff


def test_email_uniqueness_ignores_case_in_the_database(db, org):
    """uq_users_email_lower (an expression index, invisible to the comparison) really exists."""
    insert = text("INSERT INTO users (organization_id, email, role, is_active, failed_login_count, token_version, "
                  "created_at) VALUES (:org, :email, 'employee', true, 0, 1, CURRENT_TIMESTAMP)")
    db.execute(insert, {"org": org.id, "email": "case@example.com"})
    try:
        db.execute(insert, {"org": org.id, "email": "CASE@example.com"})
        db.flush()
    except IntegrityError:
        db.rollback()
    else:  # pragma: no cover - the failure branch
        db.rollback()
        raise AssertionError("two users with emails differing only in case were stored")


@pytest.fixture
def scratch_database(tmp_path, settings_override):
    """Point the app at a throw-away database of the same kind (a broken downgrade cannot harm the
    shared test database). PostgreSQL: ``<test db>_scratch``, created and dropped here."""
    from sqlalchemy.engine import make_url

    from hr_portal.core.config import get_settings

    url = get_settings().database_url
    if url.startswith("sqlite"):
        settings_override(database_url=f"sqlite:///{tmp_path / 'scratch.db'}")
        yield
        return
    import psycopg

    base = make_url(url)
    name = f"{base.database}_scratch_{os.getpid()}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:  # pragma: no cover - depends on server privileges
        pytest.skip(f"cannot create a scratch database: {exc}")
    settings_override(database_url=base.set(database=name).render_as_string(hide_password=False))
    try:
        yield
    finally:
        reset_engine()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_downgrade_to_base_and_upgrade_again(scratch_database):
    cfg = Config(str(ROOT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT_DIR / "alembic"))
    with warnings.catch_warnings():  # SQLite batch mode reflects tables: same expression-index notice
        warnings.filterwarnings("ignore", message=".*[Ee]xpression.*index")
        command.upgrade(cfg, "heads")
        command.downgrade(cfg, "base")
        assert set(inspect(get_engine()).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "heads")
    assert _diff() == []
