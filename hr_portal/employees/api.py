"""Legacy /api/v1/employees endpoints (shared/API_CONTRACT.md). Thin: translate, call the service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile, status

from hr_portal.core import files
from hr_portal.core.api_support import AccessClaims, CurrentActor, PageDep, SessionDep, ok, paginated, run_unit
from hr_portal.employees import service
from hr_portal.employees.models import (
    EmployeeCreate,
    EmployeeQuery,
    EmployeeStatus,
    EmployeeUpdate,
    EmploymentType,
)

router = APIRouter(prefix="/employees", tags=["employees"])

EmployeeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _message(base: str, notes: list[str]) -> str:
    return " ".join([base, *notes]) if notes else base


@router.post("", status_code=status.HTTP_201_CREATED)
def create_employee(body: EmployeeCreate, actor: CurrentActor, session: SessionDep) -> dict:
    result = service.create_employee(session=session, actor=actor, data=body)
    return ok(result.employee.dump(), _message("Employee created.", result.notes))


@router.get("")
async def list_employees(
    request: Request, claims: AccessClaims, paging: PageDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    department_id: Annotated[OptionalId, Query(alias="departmentId")] = None,
    manager_id: Annotated[OptionalId, Query(alias="managerId")] = None,
    status_: Annotated[EmployeeStatus | None, Query(alias="status")] = None,
    employment_type: Annotated[EmploymentType | None, Query(alias="employmentType")] = None,
    company_id: Annotated[OptionalId, Query(alias="companyId")] = None,
    sort_by: Annotated[Literal["firstName", "lastName", "dateOfJoining", "employeeCode", "createdAt"],
                       Query(alias="sortBy")] = "lastName",
    sort_order: Annotated[Literal["asc", "desc"], Query(alias="sortOrder")] = "asc",
) -> dict:
    query = EmployeeQuery(search=search, department_id=department_id, manager_id=manager_id, status=status_,
                          employment_type=employment_type, company_id=company_id, sort_by=sort_by,
                          sort_order=sort_order)

    def read(session, actor) -> dict:
        items, total = service.list_employees(session=session, actor=actor, query=query, page=paging.page,
                                              limit=paging.limit)
        return paginated([e.dump() for e in items], page=paging.page, limit=paging.limit, total=total)

    return await run_unit(request, claims, read)


@router.get("/{employee_id}")
async def get_employee(request: Request, employee_id: EmployeeId, claims: AccessClaims) -> dict:
    return await run_unit(request, claims, lambda session, actor: ok(
        service.get_employee(session=session, actor=actor, employee_id=employee_id).dump()))


@router.put("/{employee_id}")
def update_employee(employee_id: EmployeeId, body: EmployeeUpdate, actor: CurrentActor, session: SessionDep) -> dict:
    result = service.update_employee(session=session, actor=actor, employee_id=employee_id, data=body)
    return ok(result.employee.dump(), _message("Employee updated.", result.notes))


@router.delete("/{employee_id}")
def delete_employee(
    employee_id: EmployeeId, actor: CurrentActor, session: SessionDep,
    move_reports: Annotated[bool, Query(alias="moveReportsToManager")] = False,
) -> dict:
    """Soft delete (status inactive, sign-in refused, history kept). Direct reports must be reassigned
    first (409), or `?moveReportsToManager=true` moves them to the person's own manager."""
    result = service.deactivate_employee(session=session, actor=actor, employee_id=employee_id,
                                         move_reports_to_manager=move_reports)
    return ok(result.employee.dump(), _message("Employee deactivated.", result.notes))


@router.put("/{employee_id}/photo")
def set_photo(employee_id: EmployeeId, actor: CurrentActor, session: SessionDep,
              file: Annotated[UploadFile, File(description="PNG, JPEG or WebP, at most HR_UPLOAD_MAX_BYTES")]) -> dict:
    """Upload or replace a profile photo (multipart field `file`): your own, or anyone's for admin and
    hr_manager. The type is checked by content: 415 for anything but PNG/JPEG/WebP, 413 when too large."""
    data = file.file.read(files.max_bytes() + 1)
    url = service.set_photo(session=session, actor=actor, employee_id=employee_id, filename=file.filename, data=data)
    return ok({"photoUrl": url}, "Photo saved.")


@router.delete("/{employee_id}/photo")
def remove_photo(employee_id: EmployeeId, actor: CurrentActor, session: SessionDep) -> dict:
    service.remove_photo(session=session, actor=actor, employee_id=employee_id)
    return ok({"photoUrl": None}, "Photo removed.")
