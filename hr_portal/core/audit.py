"""Audit log: who did what, when, from where. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, SQLModel

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


def record(
    session: Session,
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
) -> AuditLog:
    entry = AuditLog(
        organization_id=organization_id if organization_id is not None else (actor.organization_id if actor else None),
        actor_user_id=user_id if user_id is not None else (actor.user_id if actor else None),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes or {},
        ip=ip if ip is not None else (actor.ip if actor else None),
        user_agent=(user_agent if user_agent is not None else (actor.user_agent if actor else None) or None),
    )
    if entry.user_agent:
        entry.user_agent = entry.user_agent[:300]
    session.add(entry)
    return entry
