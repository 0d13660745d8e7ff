"""Leave: types (the rules), the balance ledger, requests, their approval steps, delegations."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, Float, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from hr_portal.core.models import enum_type, ts_field
from hr_portal.core.schemas import CamelModel


class Accrual(enum.StrEnum):
    upfront = "upfront"  # the whole year's entitlement on 1 January (or on joining)
    monthly = "monthly"  # one twelfth each month, pro rata in the month of joining
    none = "none"  # no automatic entitlement: days come from allocations only (compensatory leave)


class LedgerKind(enum.StrEnum):
    allocation = "allocation"
    accrual = "accrual"
    carry_forward = "carry_forward"
    taken = "taken"
    cancelled = "cancelled"  # days returned by cancelling an approved leave
    expired = "expired"
    adjustment = "adjustment"


class LeaveStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


class LeaveType(SQLModel, table=True):
    __tablename__ = "leave_types"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_leave_type_org_name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=60)
    paid: bool = True
    allow_half_day: bool = True
    yearly_entitlement: float = Field(default=0.0, sa_column=Column(Float, nullable=False, default=0.0))
    accrual: Accrual = Field(default=Accrual.upfront, sa_type=enum_type(Accrual))
    # Up-front types: a person joining during the year gets the share of the year left.
    prorate_on_joining: bool = True
    # Days of a year's balance carried into the next (0 = none); carried days lapse after N months.
    carry_forward_cap: float = Field(default=0.0, sa_column=Column(Float, nullable=False, default=0.0))
    carry_forward_expiry_months: int | None = None
    max_consecutive_days: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    min_notice_days: int = 0
    reason_required_above_days: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # A supporting document (PDF or image, e.g. a medical certificate) is required above this many days.
    attachment_required_above_days: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # The "sandwich" rule: weekends and holidays between the first and last working day count as leave.
    count_non_working_days: bool = False
    allow_negative: bool = False
    # A second approval step (HR) for requests longer than this many days.
    hr_approval_above_days: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    color: str = Field(default="blue", max_length=20)
    archived: bool = False
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class LeaveLedger(SQLModel, table=True):
    """One line of an employee's balance for a type and leave year. The balance is the sum of the lines."""

    __tablename__ = "leave_ledger"
    __table_args__ = (
        Index("ix_leave_ledger_emp_type_year", "employee_id", "leave_type_id", "year"),
        # Scheduled entries (yearly allocation, monthly accrual, carry-forward, expiry) are written once
        # per period even when several processes run the job: the key makes a second insert fail.
        Index("uq_leave_ledger_period", "employee_id", "leave_type_id", "period_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    employee_id: int = Field(foreign_key="employees.id")
    leave_type_id: int = Field(foreign_key="leave_types.id", index=True)
    year: int
    entry_date: date
    kind: LedgerKind = Field(sa_type=enum_type(LedgerKind))
    amount: float = Field(sa_column=Column(Float, nullable=False))
    reason: str = Field(default="", max_length=300)
    leave_request_id: int | None = Field(default=None, foreign_key="leave_requests.id", index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    period_key: str | None = Field(default=None, max_length=40)
    created_at: datetime = ts_field()


class LeaveRequest(SQLModel, table=True):
    __tablename__ = "leave_requests"
    __table_args__ = (
        Index("ix_leave_req_org_status", "organization_id", "status"),
        Index("ix_leave_req_emp_dates", "employee_id", "start_date", "end_date"),
        Index("ix_leave_req_attachment", "attachment_file_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    employee_id: int = Field(foreign_key="employees.id")
    leave_type_id: int = Field(foreign_key="leave_types.id")
    start_date: date
    end_date: date
    half_day_start: bool = False
    half_day_end: bool = False
    days: float = Field(sa_column=Column(Float, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # A supporting document (core/files.py StoredFile id); readable by whoever may see the request.
    attachment_file_id: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    status: LeaveStatus = Field(default=LeaveStatus.pending, sa_type=enum_type(LeaveStatus))
    # 1 = reporting manager, 2 = HR; steps_required is 2 when the type asks for HR above N days.
    step: int = 1
    steps_required: int = 1
    requester_user_id: int | None = Field(default=None, foreign_key="users.id")
    approver_user_id: int | None = Field(default=None, foreign_key="users.id")
    approver_employee_id: int | None = Field(default=None, foreign_key="employees.id")
    approver_comment: str | None = Field(default=None, max_length=1000)
    decided_at: datetime | None = ts_field(nullable=True, default_now=False)
    cancelled_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()


class LeaveApproval(SQLModel, table=True):
    """One decision on one step of a request. Unique per step: a step is decided exactly once."""

    __tablename__ = "leave_approvals"
    __table_args__ = (UniqueConstraint("leave_request_id", "step", name="uq_leave_approval_step"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    leave_request_id: int = Field(foreign_key="leave_requests.id")
    step: int
    decision: LeaveStatus = Field(sa_type=enum_type(LeaveStatus))
    actor_user_id: int = Field(foreign_key="users.id")
    # Set when the actor decided as the delegate of this (away) approver.
    on_behalf_of_employee_id: int | None = Field(default=None, foreign_key="employees.id")
    comment: str | None = Field(default=None, max_length=1000)
    created_at: datetime = ts_field()


class LeaveDelegation(SQLModel, table=True):
    """While `approver` is away (start..end), `delegate` decides the requests waiting for them."""

    __tablename__ = "leave_delegations"
    __table_args__ = (Index("ix_leave_deleg_delegate", "delegate_employee_id", "start_date", "end_date"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    approver_employee_id: int = Field(foreign_key="employees.id", index=True)
    delegate_employee_id: int = Field(foreign_key="employees.id")
    start_date: date
    end_date: date
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()


# ---------------------------------------------------------------- API / UI schemas (camelCase)


class LeaveTypePublic(CamelModel):
    id: int
    name: str
    paid: bool
    unit: str
    yearly_entitlement: float
    allow_half_day: bool


class LeaveTypeDetail(LeaveTypePublic):
    accrual: str
    prorate_on_joining: bool
    carry_forward_cap: float
    carry_forward_expiry_months: int | None
    max_consecutive_days: float | None
    min_notice_days: int
    reason_required_above_days: float | None
    attachment_required_above_days: float | None = None
    count_non_working_days: bool
    allow_negative: bool
    hr_approval_above_days: float | None
    color: str
    archived: bool


class LeaveTypeInput(CamelModel):
    name: str | None = None
    paid: bool | None = None
    allow_half_day: bool | None = None
    yearly_entitlement: float | None = None
    accrual: Accrual | None = None
    prorate_on_joining: bool | None = None
    carry_forward_cap: float | None = None
    carry_forward_expiry_months: int | None = None
    max_consecutive_days: float | None = None
    min_notice_days: int | None = None
    reason_required_above_days: float | None = None
    attachment_required_above_days: float | None = None
    count_non_working_days: bool | None = None
    allow_negative: bool | None = None
    hr_approval_above_days: float | None = None
    color: str | None = None
    archived: bool | None = None


class LeavePublic(CamelModel):
    id: int
    employee_id: int
    employee_name: str
    leave_type_id: int
    leave_type_name: str
    start_date: date
    end_date: date
    days: float
    half_day: bool
    half_day_start: bool
    half_day_end: bool
    reason: str
    status: str
    step: int
    steps_required: int
    approver_id: int | None
    approver_name: str | None = None
    approver_comment: str | None
    decided_at: str | None
    created_at: str | None
    # Additions: the supporting document, when there is one (GET it with the same bearer token).
    attachment_url: str | None = None
    attachment_name: str | None = None


class BalancePublic(CamelModel):
    leave_type_id: int
    leave_type_name: str
    year: int
    entitled: float
    taken: float
    pending: float
    available: float
    balance: float
    paid: bool
    allow_negative: bool


class LedgerLinePublic(CamelModel):
    id: int
    entry_date: date
    kind: str
    amount: float
    reason: str
    leave_request_id: int | None
    actor_name: str | None
    running_balance: float
