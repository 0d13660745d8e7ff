"""Organizations (tenants) and their companies."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from hr_portal.core.models import ts_field


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = ts_field()


class Company(SQLModel, table=True):
    """A legal entity of an organization: its own time zone and weekly off days."""

    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    # ISO weekday numbers (Monday=1 .. Sunday=7), comma separated.
    weekly_off_days: str = Field(default="6,7", max_length=20)
    country: str = Field(default="", max_length=2)
    created_at: datetime = ts_field()

    @property
    def weekly_offs(self) -> set[int]:
        return {int(d) for d in self.weekly_off_days.split(",") if d.strip()}


class CompanyPublic(SQLModel):
    id: int
    name: str
    timezone: str
    weekly_off_days: list[int]
    country: str
    headcount: int = 0


class Holiday(SQLModel, table=True):
    """A company's public holiday: a one-off date, or recurring every year on the same month and day."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("company_id", "date", name="uq_holiday_company_date"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    date: dt.date
    name: str = Field(max_length=120)
    recurring: bool = False
    created_at: datetime = ts_field()


class CompanyUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    weekly_off_days: list[int] | None = None
    country: str | None = Field(default=None, max_length=2)
