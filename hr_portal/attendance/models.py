"""Attendance: shifts and location rules per company, the punch log, the derived daily record, and
correction requests (regularizations).

Two layers, as in every serious HR tool:
- `AttendancePunch` is the raw log: every check-in/check-out with its time (UTC), source
  (web, api, system, correction), IP, user agent and coordinates. Never edited.
- `AttendanceRecord` is the derived daily record of one employee and work date: first in, last
  out, worked seconds, status (present / late / half day) and flags. One row per employee and
  work date; the partial unique index `uq_attendance_one_open` (WHERE check_out IS NULL) lets the
  database itself refuse a second open check-in, whatever the number of tabs, clicks or workers.
"""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from hr_portal.core.models import enum_type, ts_field
from hr_portal.core.schemas import CamelModel


class AttendanceStatus(enum.StrEnum):
    present = "present"
    late = "late"
    half_day = "half_day"
    absent = "absent"
    on_leave = "on_leave"


class PunchKind(enum.StrEnum):
    check_in = "in"
    check_out = "out"


class PunchSource(enum.StrEnum):
    web = "web"
    api = "api"
    system = "system"
    correction = "correction"


class CorrectionStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


# ---------------------------------------------------------------- settings tables


class Shift(SQLModel, table=True):
    """A company's working hours. One shift per company is its default; employees may be given
    another one (EmployeeShift). A shift whose end is not after its start crosses midnight and
    counts toward the day it starts."""

    __tablename__ = "attendance_shifts"
    __table_args__ = (
        UniqueConstraint("company_id", "name", name="uq_attendance_shift_company_name"),
        # At most one default shift per company, enforced by the database.
        Index("uq_attendance_shift_default", "company_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int = Field(foreign_key="companies.id")
    name: str = Field(max_length=80)
    start_time: dt.time
    end_time: dt.time
    grace_minutes: int = 10
    half_day_hours: float = 4.0
    auto_checkout_minutes: int = 60
    is_default: bool = False
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class AttendancePolicy(SQLModel, table=True):
    """Per-company attendance rules beyond the shift: whether a check-in needs the browser's location."""

    __tablename__ = "attendance_policies"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int = Field(foreign_key="companies.id", unique=True)
    location_required: bool = False
    updated_at: datetime = ts_field()


class AttendanceSite(SQLModel, table=True):
    """An allowed check-in place: center and radius. With sites set, a check-in with coordinates
    outside every site is refused."""

    __tablename__ = "attendance_sites"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    name: str = Field(max_length=120)
    latitude: float
    longitude: float
    radius_m: int = 200
    created_at: datetime = ts_field()


class EmployeeShift(SQLModel, table=True):
    """A per-employee shift instead of the company default."""

    __tablename__ = "attendance_employee_shifts"

    employee_id: int = Field(sa_column=Column(Integer, ForeignKey("employees.id", ondelete="CASCADE"),
                                              primary_key=True))
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    shift_id: int = Field(sa_column=Column(Integer, ForeignKey("attendance_shifts.id", ondelete="CASCADE"),
                                           nullable=False, index=True))
    updated_at: datetime = ts_field()


# ---------------------------------------------------------------- records, punches, corrections


class AttendanceRecord(SQLModel, table=True):
    """The derived daily record of one employee and work date.

    `check_in` is the first check-in, `check_out` the last check-out (NULL while checked in),
    `open_since` the start of the interval that is running now, `work_seconds` the sum of the
    closed intervals. A check-in after a check-out on the same work date re-opens the record.
    """

    __tablename__ = "attendance_records"
    __table_args__ = (
        UniqueConstraint("employee_id", "work_date", name="uq_attendance_employee_date"),
        Index("uq_attendance_one_open", "employee_id", unique=True,
              sqlite_where=text("check_out IS NULL"), postgresql_where=text("check_out IS NULL")),
        Index("ix_attendance_org_date", "organization_id", "work_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    employee_id: int = Field(foreign_key="employees.id")
    work_date: dt.date
    check_in: datetime = ts_field(default_now=False)
    check_out: datetime | None = ts_field(nullable=True, default_now=False)
    open_since: datetime | None = ts_field(nullable=True, default_now=False)
    work_seconds: int = 0
    status: AttendanceStatus = Field(default=AttendanceStatus.present, sa_type=enum_type(AttendanceStatus))
    is_late: bool = False
    shift_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("attendance_shifts.id", ondelete="SET NULL"), nullable=True))
    system_closed: bool = False
    corrected: bool = False
    notes: str | None = Field(default=None, max_length=1000)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class AttendancePunch(SQLModel, table=True):
    """The raw punch log (append-only)."""

    __tablename__ = "attendance_punches"
    __table_args__ = (Index("ix_attendance_punch_employee_at", "employee_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    employee_id: int = Field(foreign_key="employees.id")
    record_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("attendance_records.id", ondelete="SET NULL"), nullable=True, index=True))
    kind: PunchKind = Field(sa_type=enum_type(PunchKind))
    at: datetime = ts_field(default_now=False)
    source: PunchSource = Field(default=PunchSource.web, sa_type=enum_type(PunchSource))
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    site_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("attendance_sites.id", ondelete="SET NULL"), nullable=True))
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = ts_field()


class AttendanceCorrection(SQLModel, table=True):
    """A regularization request: proposed check-in and check-out times for a past work date."""

    __tablename__ = "attendance_corrections"
    __table_args__ = (
        # One pending request per employee and day, enforced by the database.
        Index("uq_attendance_correction_pending", "employee_id", "work_date", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("ix_attendance_correction_org_status", "organization_id", "status", "created_at"),
        Index("ix_attendance_correction_employee", "employee_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    employee_id: int = Field(foreign_key="employees.id")
    work_date: dt.date
    check_in: datetime = ts_field(default_now=False)
    check_out: datetime = ts_field(default_now=False)
    reason: str = Field(max_length=500)
    status: CorrectionStatus = Field(default=CorrectionStatus.pending, sa_type=enum_type(CorrectionStatus))
    record_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("attendance_records.id", ondelete="SET NULL"), nullable=True))
    requested_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    decided_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = ts_field(nullable=True, default_now=False)
    decision_comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = ts_field()


# ---------------------------------------------------------------- API / UI schemas (camelCase)


class AttendancePublic(CamelModel):
    """`Attendance` of the legacy contract (plus additive fields)."""

    id: int
    employee_id: int
    date: dt.date
    check_in: str | None
    check_out: str | None
    work_hours: float
    status: AttendanceStatus
    notes: str | None = None
    late: bool = False
    system_closed: bool = False
    corrected: bool = False


class RegularizationPublic(CamelModel):
    """`Regularization` of the legacy contract (plus additive fields)."""

    id: int
    employee_id: int
    date: dt.date
    check_in: str
    check_out: str
    reason: str
    status: CorrectionStatus
    employee_name: str = ""
    comment: str | None = None
    decided_at: str | None = None
    created_at: str | None = None


class SummaryPublic(CamelModel):
    employee_id: int
    month: str
    working_days: int
    present_days: int
    absent_days: int
    late_days: int
    leave_days: float
    holidays: int
    total_work_hours: float
    average_work_hours: float
    half_days: int = 0


class ShiftIn(SQLModel):
    """Input for creating or changing a shift (UI and service)."""

    name: str = Field(min_length=1, max_length=80)
    start_time: dt.time
    end_time: dt.time
    grace_minutes: int = Field(default=10, ge=0, le=240)
    half_day_hours: float = Field(default=4.0, ge=0, le=24)
    auto_checkout_minutes: int = Field(default=60, ge=0, le=720)
    is_default: bool = False


class SiteIn(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: int = Field(default=200, ge=10, le=100_000)
