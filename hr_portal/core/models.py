"""Column helpers shared by every module's tables."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field

from hr_portal.core.db import utcnow


def ts_field(*, nullable: bool = False, default_now: bool = True, index: bool = False, **kw: Any) -> Any:
    """A timezone-aware timestamp column (stored as UTC)."""
    column = Column(DateTime(timezone=True), nullable=nullable, index=index)
    if default_now:
        return Field(default_factory=utcnow, sa_column=column, **kw)
    return Field(default=None, sa_column=column, **kw)


def to_iso(value: datetime | None) -> str | None:
    from hr_portal.core.db import aware

    value = aware(value)
    return value.isoformat(timespec="seconds") if value else None


def enum_type(enum_cls: type[enum.Enum]) -> SAEnum:
    """Store an enum as VARCHAR (no native PostgreSQL type, so adding a value needs no type migration)."""
    return SAEnum(enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                  validate_strings=True)
