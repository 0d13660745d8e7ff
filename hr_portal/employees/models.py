"""Departments, employees, CSV import runs, and the schemas the API and the UI share."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field as PField
from pydantic import ValidationInfo, field_validator
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from hr_portal.auth.models import Role
from hr_portal.core.models import enum_type, ts_field
from hr_portal.core.schemas import CamelModel


class EmploymentType(enum.StrEnum):
    full_time = "full_time"
    part_time = "part_time"
    contract = "contract"
    intern = "intern"


class EmployeeStatus(enum.StrEnum):
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
        # The directory's default order (and the list endpoint's), without a status filter.
        Index("ix_employee_org_name", "organization_id", "last_name", "first_name", "id"),
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
    # Profile photo (core/files.py StoredFile id); visible to everyone in the organization.
    photo_file_id: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class EmployeeImport(SQLModel, table=True):
    """One CSV upload: previewed first (per-row plan kept in `preview`), applied at most once."""

    __tablename__ = "employee_imports"
    __table_args__ = (Index("ix_employee_import_org_created", "organization_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    created_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    filename: str = Field(default="", max_length=200)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="previewed", max_length=16)  # previewed | applied
    total_rows: int = 0
    error_rows: int = 0
    # Counts per planned action and the per-row plan shown in the preview (re-checked on apply).
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    preview: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = ts_field()
    applied_at: datetime | None = ts_field(nullable=True, default_now=False)
    applied_by_user_id: int | None = Field(default=None, foreign_key="users.id")


# ---------------------------------------------------------------- schemas (camelCase on the wire)

_Name = PField(min_length=1, max_length=100)
_Opt40 = PField(default=None, max_length=40)


class _EmployeeFields(CamelModel):
    """Shared validation: strings are trimmed, and blank optional strings mean "none"."""

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value and not cls.model_fields[info.field_name].is_required():
                return None
        return value


class EmployeeCreate(_EmployeeFields):
    first_name: str = _Name
    last_name: str = _Name
    email: str = PField(min_length=3, max_length=254)
    phone: str | None = _Opt40
    employee_code: str | None = PField(default=None, max_length=32)
    department_id: int | None = None
    manager_id: int | None = None
    designation: str | None = PField(default=None, max_length=120)
    date_of_joining: date | None = None
    date_of_birth: date | None = None
    employment_type: EmploymentType = EmploymentType.full_time
    company_id: int | None = None
    role: Role | None = None
    address_line1: str | None = PField(default=None, max_length=200)
    address_line2: str | None = PField(default=None, max_length=200)
    city: str | None = PField(default=None, max_length=100)
    postal_code: str | None = PField(default=None, max_length=20)
    country: str | None = PField(default=None, max_length=60)


class EmployeeUpdate(_EmployeeFields):
    """Partial update: only fields present in the body change (`model_fields_set`); null clears an
    optional field. `status` routes to deactivate/reactivate with the same rules."""

    first_name: str | None = PField(default=None, min_length=1, max_length=100)
    last_name: str | None = PField(default=None, min_length=1, max_length=100)
    email: str | None = PField(default=None, min_length=3, max_length=254)
    phone: str | None = _Opt40
    employee_code: str | None = PField(default=None, max_length=32)
    department_id: int | None = None
    manager_id: int | None = None
    designation: str | None = PField(default=None, max_length=120)
    date_of_joining: date | None = None
    date_of_birth: date | None = None
    employment_type: EmploymentType | None = None
    company_id: int | None = None
    role: Role | None = None
    status: EmployeeStatus | None = None
    address_line1: str | None = PField(default=None, max_length=200)
    address_line2: str | None = PField(default=None, max_length=200)
    city: str | None = PField(default=None, max_length=100)
    postal_code: str | None = PField(default=None, max_length=20)
    country: str | None = PField(default=None, max_length=60)


SORT_FIELDS = ("firstName", "lastName", "dateOfJoining", "employeeCode", "createdAt")


class EmployeeQuery(_EmployeeFields):
    """Directory filters (the list endpoint's query and the directory page)."""

    search: str | None = PField(default=None, max_length=200)
    department_id: int | None = None
    manager_id: int | None = None
    status: EmployeeStatus | None = None
    employment_type: EmploymentType | None = None
    company_id: int | None = None
    sort_by: Literal["firstName", "lastName", "dateOfJoining", "employeeCode", "createdAt"] = "lastName"
    sort_order: Literal["asc", "desc"] = "asc"


class EmployeePublic(CamelModel):
    """The contract's `Employee` (plus optional `managerName`)."""

    id: int
    employee_code: str
    first_name: str
    last_name: str
    email: str
    phone: str | None
    designation: str | None
    department_id: int | None
    department_name: str | None
    manager_id: int | None
    manager_name: str | None = None
    company_id: int
    employment_type: EmploymentType
    status: EmployeeStatus
    date_of_joining: date | None
    created_at: datetime
    updated_at: datetime
    # Addition: the profile photo's URL (GET with the same credentials), None without a photo.
    photo_url: str | None = None


class EmployeeDetail(EmployeePublic):
    """A profile: the public record plus company, account role, and (for HR and the person) personal details."""

    company_name: str | None = None
    role: Role | None = None
    date_of_birth: date | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None


class DepartmentPublic(CamelModel):
    id: int
    name: str
    company_id: int | None
    company_name: str | None = None
    head_employee_id: int | None
    head_name: str | None = None
    archived: bool
    headcount: int = 0


class DepartmentInput(_EmployeeFields):
    name: str | None = PField(default=None, min_length=1, max_length=120)
    company_id: int | None = None
    head_employee_id: int | None = None
