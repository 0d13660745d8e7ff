"""Notification settings (HR_NOTIFY_* environment variables; defaults suit most teams)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hr_portal.core.config import ROOT_DIR


class NotifySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HR_NOTIFY_", env_file=ROOT_DIR / ".env", extra="ignore")

    # Remind people not checked in this many minutes after their shift started.
    checkin_reminder_minutes: int = Field(default=15, ge=0, le=720)
    # Remind people still checked in this many minutes before the automatic check-out closes their day.
    checkout_reminder_lead_minutes: int = Field(default=15, ge=1, le=720)
    # Remind approvers of requests waiting this many days; escalate to HR after this many.
    approval_reminder_days: int = Field(default=2, ge=1, le=60)
    approval_escalation_days: int = Field(default=5, ge=1, le=120)
    # Local hour (company time zone) from which birthday and anniversary notes go out.
    celebration_hour: int = Field(default=9, ge=0, le=23)
    # Failed event listeners are retried with backoff this many times in total.
    listener_max_attempts: int = Field(default=5, ge=1, le=20)


@lru_cache
def notify_settings() -> NotifySettings:
    return NotifySettings()
