"""Legacy /api/v1/attendance endpoints (shared/API_CONTRACT.md, Attendance). Thin: translate, call the service.

The five contract endpoints, plus additive ones for clients that decide or list corrections:
GET /attendance/regularization, PUT /attendance/regularization/{id}/approve, DELETE /attendance/regularization/{id}.

Each request authenticates and runs its service call in ONE worker thread with ONE database session
(`_unit`), committed before the response is sent. The shared SessionDep/CurrentActor dependencies hold
a pooled connection from the authentication thread to the endpoint thread and on to the commit
thread; under a burst of more concurrent requests than pool connections (200 duplicate check-ins,
a clock-in rush) every worker thread ends up waiting for a connection that is held by a request
waiting for a thread, until the 30 s pool timeout. Holding the connection only inside one thread
call cannot deadlock. (Measured: docs/performance.md, Attendance.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from sqlmodel import Session

from hr_portal.attendance import service
from hr_portal.attendance.models import AttendanceStatus, CorrectionStatus, PunchSource
from hr_portal.auth import service as auth_service
from hr_portal.core.api_support import PageDep, ok, paginated, request_ip
from hr_portal.core.authz import Actor
from hr_portal.core.db import session_scope
from hr_portal.core.errors import Unauthorized
from hr_portal.core.schemas import CamelModel

router = APIRouter(prefix="/attendance", tags=["attendance"])

T = TypeVar("T")
_http_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")


async def _bearer_token(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_http_bearer)]) -> str:
    """The bearer token, or 401 before anything else is looked at (async: no worker thread)."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("Authentication required: send Authorization: Bearer <accessToken>.")
    return creds.credentials


Bearer = Annotated[str, Depends(_bearer_token)]


async def _unit(request: Request, token: str, work: Callable[[Session, Actor], T]) -> T:
    """Authenticate the bearer token and run `work(session, actor)` in one thread and one transaction."""
    ip, user_agent = request_ip(request), request.headers.get("user-agent")

    def run() -> T:
        with session_scope() as session:
            actor, _claims = auth_service.actor_from_access_token(session=session, token=token, ip=ip,
                                                                  user_agent=user_agent)
            request.state.actor = actor
            return work(session, actor)

    return await run_in_threadpool(run)


class PunchBody(CamelModel):
    notes: str | None = Field(default=None, max_length=1000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accuracy: float | None = Field(default=None, ge=0, le=1_000_000)


class RegularizationBody(CamelModel):
    date: date
    # ISO 8601 timestamps (with an offset; without one they are company-local) or local "HH:MM".
    check_in: str = Field(min_length=1, max_length=40)
    check_out: str = Field(min_length=1, max_length=40)
    reason: str = Field(max_length=500)


class DecideBody(CamelModel):
    status: Literal["approved", "rejected"]
    comment: str | None = Field(default=None, max_length=500)


@router.post("/check-in", status_code=status.HTTP_201_CREATED)
async def check_in(request: Request, creds: Bearer, body: PunchBody | None = None) -> dict:
    body = body or PunchBody()
    record = await _unit(request, creds, lambda session, actor: service.check_in(
        session=session, actor=actor, source=PunchSource.api, latitude=body.latitude, longitude=body.longitude,
        accuracy=body.accuracy, notes=body.notes))
    return ok(record.dump(), "Checked in")


@router.post("/check-out")
async def check_out(request: Request, creds: Bearer, body: PunchBody | None = None) -> dict:
    body = body or PunchBody()
    record = await _unit(request, creds, lambda session, actor: service.check_out(
        session=session, actor=actor, source=PunchSource.api, latitude=body.latitude, longitude=body.longitude,
        accuracy=body.accuracy, notes=body.notes))
    return ok(record.dump(), "Checked out")


@router.get("")
async def list_attendance(request: Request, creds: Bearer, page: PageDep,
                          employee_id: Annotated[int | None, Query(alias="employeeId", ge=1)] = None,
                          start_date: Annotated[date | None, Query(alias="startDate")] = None,
                          end_date: Annotated[date | None, Query(alias="endDate")] = None,
                          status_: Annotated[AttendanceStatus | None, Query(alias="status")] = None) -> dict:
    items, total = await _unit(request, creds, lambda session, actor: service.list_records(
        session=session, actor=actor, employee_id=employee_id, start=start_date, end=end_date,
        status=status_.value if status_ else None, page=page.page, limit=page.limit))
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.post("/regularization", status_code=status.HTTP_201_CREATED)
async def request_regularization(body: RegularizationBody, request: Request, creds: Bearer) -> dict:
    correction = await _unit(request, creds, lambda session, actor: service.request_correction(
        session=session, actor=actor, work_date=body.date, check_in=body.check_in, check_out=body.check_out,
        reason=body.reason))
    return ok(correction.dump(), "Correction requested")


@router.get("/regularization")
async def list_regularizations(request: Request, creds: Bearer, page: PageDep,
                               status_: Annotated[CorrectionStatus | None, Query(alias="status")] = None,
                               employee_id: Annotated[int | None, Query(alias="employeeId", ge=1)] = None) -> dict:
    items, total = await _unit(request, creds, lambda session, actor: service.list_corrections(
        session=session, actor=actor, status=status_.value if status_ else None, employee_id=employee_id,
        page=page.page, limit=page.limit))
    return paginated([i.dump() for i in items], page=page.page, limit=page.limit, total=total)


@router.put("/regularization/{correction_id}/approve")
async def decide_regularization(correction_id: int, body: DecideBody, request: Request, creds: Bearer) -> dict:
    correction = await _unit(request, creds, lambda session, actor: service.decide_correction(
        session=session, actor=actor, correction_id=correction_id, approve=body.status == "approved",
        comment=body.comment))
    return ok(correction.dump(), f"Correction {correction.status.value}")


@router.delete("/regularization/{correction_id}")
async def cancel_regularization(correction_id: int, request: Request, creds: Bearer) -> dict:
    await _unit(request, creds, lambda session, actor: service.cancel_correction(
        session=session, actor=actor, correction_id=correction_id))
    return ok(None, "Correction cancelled")


@router.get("/summary")
async def attendance_summary(request: Request, creds: Bearer,
                             month: Annotated[str | None, Query(max_length=7)] = None,
                             employee_id: Annotated[int | None, Query(alias="employeeId", ge=1)] = None) -> dict:
    parsed = service.parse_month(month) if month else None
    data = await _unit(request, creds, lambda session, actor: service.summary(
        session=session, actor=actor, month=parsed, employee_id=employee_id))
    return ok(data.dump())
