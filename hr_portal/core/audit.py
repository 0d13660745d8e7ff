"""Audit log: who did what, when, from where. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Index, insert
from sqlmodel import Field, Session, SQLModel

from hr_portal.core.db import utcnow
from hr_portal.core.models import ts_field

if TYPE_CHECKING:
    from hr_portal.core.authz import Actor


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_org_created", "organization_id", "created_at"),
        Index("ix_audit_entity", "organization_id", "entity_type", "entity_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=64)
    entity_type: str = Field(default="", max_length=40)
    entity_id: int | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    created_at: datetime = ts_field()


def entry_values(
    *,
    action: str,
    actor: Actor | None = None,
    organization_id: int | None = None,
    user_id: int | None = None,
    entity_type: str = "",
    entity_id: int | None = None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one audit entry: explicit arguments win, else the actor's organization,
    user and client address. The one place that decides what an entry holds (`record`, `record_many`)."""
    agent = user_agent if user_agent is not None else (actor.user_agent if actor else None)
    return {
        "organization_id": organization_id if organization_id is not None else (actor.organization_id if actor else None),
        "actor_user_id": user_id if user_id is not None else (actor.user_id if actor else None),
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "changes": changes or {},
        "ip": ip if ip is not None else (actor.ip if actor else None),
        "user_agent": agent[:300] if agent else None,
        "created_at": created_at or utcnow(),
    }


def record(session: Session, *, action: str, actor: Actor | None = None, **values: Any) -> AuditLog:
    """Add one audit entry to the session (same transaction as the change). Arguments: `entry_values`."""
    entry = AuditLog(**entry_values(action=action, actor=actor, **values))
    session.add(entry)
    return entry


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Write many entries (each from `entry_values`) with one executemany on the table, in the session's
    transaction: for bulk work (CSV import), where building ORM objects would cost more than the insert."""
    if entries:
        session.connection().execute(insert(AuditLog.__table__), entries)
