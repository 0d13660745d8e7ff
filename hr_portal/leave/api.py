"""Legacy /api/v1/leave endpoints (shared/API_CONTRACT.md, Leave). Thin: translate, call the service.

Applying, deciding and cancelling authenticate and run the service in one worker thread and one transaction
(`core.api_support.run_unit`, committed before the answer is sent): one thread hop instead of three. The
token is verified first (`AccessClaims`), so a bad token is 401 before the body is looked at.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile, status
from pydantic import Field

from hr_portal.core import files
from hr_portal.core.api_support import AccessClaims, CurrentActor, PageDep, SessionDep, ok, paginated, run_unit
from hr_portal.core.schemas import CamelModel, DbId, IsoDate
from hr_portal.leave import service
from hr_portal.leave.models import LeaveStatus

router = APIRouter(prefix="/leave", tags=["leave"])


class ApplyBody(CamelModel):
    leave_type_id: DbId
    start_date: IsoDate
    end_date: IsoDate
    # Legacy clients send one flag: the first day (the only day, for a one-day leave) is a half day.
    half_day: bool = False
    # Additions: half a day at the start and/or at the end of a longer leave.
    half_day_start: bool = False
    half_day_end: bool = False
    reason: str = Field(default="", max_length=2000)
    # Addition: a supporting document uploaded first with POST /leave/attachments.
    attachment_id: str | None = Field(default=None, max_length=40)


class DecideBody(CamelModel):
    status: Literal["approved", "rejected"]
    comment: str | None = Field(default=None, max_length=1000)


@router.get("/types")
def leave_types(session: SessionDep, actor: CurrentActor) -> dict:
    return ok([t.dump() for t in service.types_public(session=session, actor=actor)])


@router.get("/balance")
def leave_balance(session: SessionDep, actor: CurrentActor,
                  employee_id: Annotated[DbId | None, Query(alias="employeeId")] = None,
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict:
    rows = service.balances(session=session, actor=actor, employee_id=employee_id, year=year)
    return ok([r.model_dump(mode="json", by_alias=True, include={
        "leave_type_id", "leave_type_name", "entitled", "taken", "pending", "available"}) for r in rows])


@router.post("/attachments", status_code=status.HTTP_201_CREATED)
def upload_attachment(session: SessionDep, actor: CurrentActor,
                      file: Annotated[UploadFile, File(description="PDF, PNG or JPEG, at most HR_UPLOAD_MAX_BYTES")]
                      ) -> dict:
    """Upload a supporting document (multipart field `file`), then send its `id` as `attachmentId` with
    `POST /leave`. Checked by content: 415 for anything but PDF/PNG/JPEG, 413 when too large."""
    data = file.file.read(files.max_bytes() + 1)
    return ok(service.upload_attachment(session=session, actor=actor, filename=file.filename, data=data),
              "Attachment uploaded")


@router.post("", status_code=status.HTTP_201_CREATED)
async def apply_leave(request: Request, claims: AccessClaims, body: ApplyBody) -> dict:
    leave = await run_unit(request, claims, lambda session, actor: service.apply_leave(
        session=session, actor=actor, leave_type_id=body.leave_type_id, start_date=body.start_date,
        end_date=body.end_date, half_day_start=body.half_day or body.half_day_start, half_day_end=body.half_day_end,
        reason=body.reason, attachment_id=body.attachment_id))
    return ok(leave.dump(), "Leave requested")


@router.get("")
def list_leave(session: SessionDep, actor: CurrentActor, page: PageDep,
               status_: Annotated[LeaveStatus | None, Query(alias="status")] = None,
               employee_id: Annotated[DbId | None, Query(alias="employeeId")] = None,
               leave_type_id: Annotated[DbId | None, Query(alias="leaveTypeId")] = None,
               start_date: Annotated[IsoDate | None, Query(alias="startDate")] = None,
               end_date: Annotated[IsoDate | None, Query(alias="endDate")] = None) -> dict:
    items, total = service.list_requests(
        session=session, actor=actor, status=status_.value if status_ else None, employee_id=employee_id,
        leave_type_id=leave_type_id, start_date=start_date, end_date=end_date, offset=page.offset, limit=page.limit)
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.get("/{leave_id}")
def get_leave(leave_id: DbId, session: SessionDep, actor: CurrentActor) -> dict:
    return ok(service.get_request(session=session, actor=actor, leave_id=leave_id).dump())


@router.put("/{leave_id}/approve")
async def decide_leave(request: Request, claims: AccessClaims, leave_id: DbId, body: DecideBody) -> dict:
    leave = await run_unit(request, claims, lambda session, actor: service.decide(
        session=session, actor=actor, leave_id=leave_id, status=body.status, comment=body.comment))
    return ok(leave.dump(), f"Leave {leave.status}" if leave.status != "pending" else "Approved; waiting for HR")


@router.delete("/{leave_id}")
async def cancel_leave(request: Request, claims: AccessClaims, leave_id: DbId) -> dict:
    leave = await run_unit(request, claims, lambda session, actor: service.cancel_leave(
        session=session, actor=actor, leave_id=leave_id))
    return ok(leave.dump(), "Leave cancelled")
