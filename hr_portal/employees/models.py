"""Departments and employees."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from hr_portal.core.models import enum_type, ts_field


class EmploymentType(str, enum.Enum):
    full_time = "full_time"
    part_time = "part_time"
    contract = "contract"
    intern = "intern"


class EmployeeStatus(str, enum.Enum):
    active = "active"
    inactive = "inactive"


class Department(SQLModel, table=True):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_department_org_name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    name: str = Field(max_length=120)
    head_employee_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("employees.id", use_alter=True, name="fk_department_head"), nullable=True),
    )
    archived: bool = False
    created_at: datetime = ts_field()


class Employee(SQLModel, table=True):
    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("organization_id", "employee_code", name="uq_employee_org_code"),
        Index("uq_employee_org_email", "organization_id", func.lower("email"), unique=True),
        Index("ix_employee_org_status_name", "organization_id", "status", "last_name", "first_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="departments.id", index=True)
    manager_id: int | None = Field(default=None, foreign_key="employees.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", unique=True)
    employee_code: str = Field(max_length=32)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    designation: str | None = Field(default=None, max_length=120)
    employment_type: EmploymentType = Field(default=EmploymentType.full_time, sa_type=enum_type(EmploymentType))
    status: EmployeeStatus = Field(default=EmployeeStatus.active, sa_type=enum_type(EmployeeStatus))
    date_of_joining: date | None = None
    date_of_birth: date | None = None
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=60)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
