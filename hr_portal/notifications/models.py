"""Notifications: the in-app inbox, per-kind channel preferences, once-only delivery keys, the
birthday/anniversary opt-out, and the retry queue of failed event listeners."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field as PField
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hr_portal.auth.models import Role
from hr_portal.core.models import enum_type, ts_field
from hr_portal.core.schemas import CamelModel


class Channel(enum.StrEnum):
    in_app = "in_app"
    email = "email"
    both = "both"
    off = "off"  # only for kinds that allow opting out (reminders, digest, celebrations)

    @property
    def in_app_on(self) -> bool:
        return self in (Channel.in_app, Channel.both)

    @property
    def email_on(self) -> bool:
        return self in (Channel.email, Channel.both)


CHANNEL_LABELS = {"in_app": "In the app", "email": "Email", "both": "App and email", "off": "Off"}


@dataclass(frozen=True)
class KindSpec:
    key: str
    label: str
    description: str
    default: Channel
    allow_off: bool
    roles: frozenset[Role]


_ALL = frozenset(Role)
_HR = frozenset({Role.admin, Role.hr_manager})

# What users can be notified about, with the default channel. Kinds that ask someone to act (a request
# to approve, a decision) cannot be switched off, only moved between the app and email.
KINDS: dict[str, KindSpec] = {k.key: k for k in [
    KindSpec("leave_request", "Leave requests to approve",
             "Someone asks for leave and you are their approver (or a delegate).", Channel.both, False, _ALL),
    KindSpec("leave_decision", "Decisions on my leave", "Your leave request was approved or rejected.",
             Channel.both, False, _ALL),
    KindSpec("leave_cancelled", "Withdrawn leave", "A request you approve was cancelled by the requester.",
             Channel.in_app, True, _ALL),
    KindSpec("correction_request", "Attendance corrections to approve",
             "Someone in your team asks to correct their check-in or check-out times.", Channel.both, False, _ALL),
    KindSpec("correction_decision", "Decisions on my corrections",
             "Your attendance correction was approved or rejected.", Channel.both, False, _ALL),
    KindSpec("approval_reminder", "Reminders about waiting requests",
             "Requests waiting for your decision for several days (escalations reach HR).", Channel.both, False, _ALL),
    KindSpec("checkin_reminder", "Check-in reminder", "You have not checked in some minutes after your shift began.",
             Channel.both, True, _ALL),
    KindSpec("checkout_reminder", "Check-out reminder",
             "You are still checked in shortly before the day is closed automatically.", Channel.both, True, _ALL),
    KindSpec("weekly_digest", "Weekly HR digest", "Monday summary: joiners, leavers, leave, pending approvals.",
             Channel.email, True, _HR),
    KindSpec("celebration", "Team birthdays and work anniversaries",
             "A note when someone in your team has a birthday or a work anniversary.", Channel.in_app, True, _ALL),
]}


def kinds_for(role: Role) -> list[KindSpec]:
    return [k for k in KINDS.values() if role in k.roles]


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read_created", "user_id", "read_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=1000)
    link: str = Field(default="", max_length=300)
    read_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()


class NotificationPreference(SQLModel, table=True):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_pref_user_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=40)
    channel: Channel = Field(sa_type=enum_type(Channel))
    updated_at: datetime = ts_field()


class NotificationKey(SQLModel, table=True):
    """One row per (recipient, occurrence key), e.g. ('checkin:2026-11-26'): a reminder or note is delivered
    once even when a job runs again (run now, a retried occurrence, two processes)."""

    __tablename__ = "notification_keys"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    key: str = Field(primary_key=True, max_length=120)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_at: datetime = ts_field()


class CelebrationOptOut(SQLModel, table=True):
    """People who do not want their birthday or work anniversary announced to their team."""

    __tablename__ = "celebration_opt_outs"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_at: datetime = ts_field()


class ListenerFailure(SQLModel, table=True):
    """An event listener that raised: kept with its event and payload, retried by a job with backoff."""

    __tablename__ = "listener_failures"
    __table_args__ = (Index("ix_listener_failures_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", index=True)
    event_name: str = Field(max_length=80)
    listener: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending | done | failed
    attempts: int = 1
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_attempt_at: datetime = ts_field()
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


# ---------------------------------------------------------------- schemas (camelCase on the wire)


class NotificationPublic(CamelModel):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    link: str
    read: bool
    read_at: str | None
    created_at: str


class PreferencePublic(CamelModel):
    kind: str
    label: str
    description: str
    channel: Channel
    options: list[Channel]


class PreferenceUpdate(CamelModel):
    kind: str = PField(min_length=1, max_length=40)
    channel: Channel


class OutboxMailPublic(CamelModel):
    id: int
    to: str
    subject: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
    next_attempt_at: str | None
