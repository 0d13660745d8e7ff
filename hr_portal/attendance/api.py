"""Legacy /api/v1/attendance endpoints (shared/API_CONTRACT.md, Attendance). Thin: translate, call the service.

The five contract endpoints, plus additive ones for clients that decide or list corrections:
GET /attendance/regularization, PUT /attendance/regularization/{id}/approve, DELETE /attendance/regularization/{id}.

Each request authenticates and runs its service call in one worker thread with one database session
(`core.api_support.run_unit`, committed before the response is sent, behind the API's admission
gate): a punch is one thread hop, the fastest shape for a clock-in rush (docs/performance.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import Field

from hr_portal.attendance import service
from hr_portal.attendance.models import AttendanceStatus, CorrectionStatus, PunchSource
from hr_portal.core.api_support import BearerToken, PageDep, ok, paginated, run_unit
from hr_portal.core.schemas import CamelModel, DbId, IsoDate

router = APIRouter(prefix="/attendance", tags=["attendance"])


class PunchBody(CamelModel):
    notes: str | None = Field(default=None, max_length=1000)
    latitude: float | None = Field(default=None, ge=-90, le=90, strict=True)
    longitude: float | None = Field(default=None, ge=-180, le=180, strict=True)
    accuracy: float | None = Field(default=None, ge=0, le=1_000_000, strict=True)


class RegularizationBody(CamelModel):
    date: IsoDate
    # ISO 8601 timestamps (with an offset; without one they are company-local) or local "HH:MM".
    check_in: str = Field(min_length=1, max_length=40)
    check_out: str = Field(min_length=1, max_length=40)
    reason: str = Field(max_length=500)


class DecideBody(CamelModel):
    status: Literal["approved", "rejected"]
    comment: str | None = Field(default=None, max_length=500)


@router.post("/check-in", status_code=status.HTTP_201_CREATED)
async def check_in(request: Request, creds: BearerToken, body: PunchBody | None = None) -> dict:
    body = body or PunchBody()
    record = await run_unit(request, creds, lambda session, actor: service.check_in(
        session=session, actor=actor, source=PunchSource.api, latitude=body.latitude, longitude=body.longitude,
        accuracy=body.accuracy, notes=body.notes))
    return ok(record.dump(), "Checked in")


@router.post("/check-out")
async def check_out(request: Request, creds: BearerToken, body: PunchBody | None = None) -> dict:
    body = body or PunchBody()
    record = await run_unit(request, creds, lambda session, actor: service.check_out(
        session=session, actor=actor, source=PunchSource.api, latitude=body.latitude, longitude=body.longitude,
        accuracy=body.accuracy, notes=body.notes))
    return ok(record.dump(), "Checked out")


@router.get("")
async def list_attendance(request: Request, creds: BearerToken, page: PageDep,
                          employee_id: Annotated[DbId | None, Query(alias="employeeId")] = None,
                          start_date: Annotated[IsoDate | None, Query(alias="startDate")] = None,
                          end_date: Annotated[IsoDate | None, Query(alias="endDate")] = None,
                          status_: Annotated[AttendanceStatus | None, Query(alias="status")] = None) -> dict:
    items, total = await run_unit(request, creds, lambda session, actor: service.list_records(
        session=session, actor=actor, employee_id=employee_id, start=start_date, end=end_date,
        status=status_.value if status_ else None, page=page.page, limit=page.limit))
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.post("/regularization", status_code=status.HTTP_201_CREATED)
async def request_regularization(body: RegularizationBody, request: Request, creds: BearerToken) -> dict:
    correction = await run_unit(request, creds, lambda session, actor: service.request_correction(
        session=session, actor=actor, work_date=body.date, check_in=body.check_in, check_out=body.check_out,
        reason=body.reason))
    return ok(correction.dump(), "Correction requested")


@router.get("/regularization")
async def list_regularizations(request: Request, creds: BearerToken, page: PageDep,
                               status_: Annotated[CorrectionStatus | None, Query(alias="status")] = None,
                               employee_id: Annotated[DbId | None, Query(alias="employeeId")] = None) -> dict:
    items, total = await run_unit(request, creds, lambda session, actor: service.list_corrections(
        session=session, actor=actor, status=status_.value if status_ else None, employee_id=employee_id,
        page=page.page, limit=page.limit))
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.put("/regularization/{correction_id}/approve")
async def decide_regularization(correction_id: DbId, body: DecideBody, request: Request, creds: BearerToken) -> dict:
    correction = await run_unit(request, creds, lambda session, actor: service.decide_correction(
        session=session, actor=actor, correction_id=correction_id, approve=body.status == "approved",
        comment=body.comment))
    return ok(correction.dump(), f"Correction {correction.status.value}")


@router.delete("/regularization/{correction_id}")
async def cancel_regularization(correction_id: DbId, request: Request, creds: BearerToken) -> dict:
    await run_unit(request, creds, lambda session, actor: service.cancel_correction(
        session=session, actor=actor, correction_id=correction_id))
    return ok(None, "Correction cancelled")


@router.get("/summary")
async def attendance_summary(request: Request, creds: BearerToken,
                             month: Annotated[str | None, Query(max_length=7)] = None,
                             employee_id: Annotated[DbId | None, Query(alias="employeeId")] = None) -> dict:
    parsed = service.parse_month(month) if month else None
    data = await run_unit(request, creds, lambda session, actor: service.summary(
        session=session, actor=actor, month=parsed, employee_id=employee_id))
    return ok(data.dump())
