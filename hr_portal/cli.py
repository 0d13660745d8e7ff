"""Operational commands: `python -m hr_portal.cli migrate | seed | deliver-mail | check`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hr_portal.core.config import ROOT_DIR, get_settings


def migrate() -> None:
    from alembic.config import Config

    from alembic import command

    cfg = Config(str(ROOT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT_DIR / "alembic"))
    command.upgrade(cfg, "heads")
    print(f"Database is at the latest schema ({_safe_url()}).")


def _safe_url() -> str:
    from hr_portal.core.db import get_engine

    return get_engine().url.render_as_string(hide_password=True)


def seed() -> None:
    from hr_portal.core.db import session_scope
    from hr_portal.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo

    with session_scope() as session:
        created = seed_demo(session)
    print("Demo organization created." if created else "Demo organization already present (nothing changed).")
    print("\nDemo accounts (password for all: %s):" % DEMO_PASSWORD)
    for role, email in DEMO_ACCOUNTS:
        print(f"  {role:<11} {email}")
    print(f"\nPortal: {get_settings().base_url}   API docs: {get_settings().base_url}/api/v1/docs\n")


def deliver_mail() -> None:
    from hr_portal.core.mail import deliver_pending

    print(f"Delivered {deliver_pending()} mail(s).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hr_portal.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply Alembic migrations (upgrade head)")
    sub.add_parser("seed", help="create the demo organization once and print the demo accounts")
    sub.add_parser("deliver-mail", help="send mails waiting in the outbox")
    args = parser.parse_args(argv)
    Path(ROOT_DIR / "data").mkdir(exist_ok=True)
    {"migrate": migrate, "seed": seed, "deliver-mail": deliver_mail}[args.cmd]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
