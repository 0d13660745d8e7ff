"""GET /api/v1/reports/attendance-sheet?month=YYYY-MM[&companyId=&departmentId=]: the monthly attendance sheet
(people x days with status codes and totals) as a streamed CSV download.

The body is sent while it is generated (`reports.service.monthly_sheet_csv_stream`: 1,000 people a chunk), so a
20,000-person organization's sheet never sits whole in the server's memory. Accepts the legacy API's bearer
token or the portal's sign-in cookie (`hr_session`), so a page can link to it. The same rules as the page:
hr_manager and admin see the organization, a manager their team, an employee nothing (403).

The route opens its own database session: the response outlives the request's dependencies, and the
session must stay open until the last chunk is sent (then it is rolled back and closed: nothing is written).
Validation and authorization run before the first byte, so errors keep the API's error envelope.

The stream holds one slot of the API's admission gate (`core/api_support.py`) from before its session
exists until the session is closed (after the last chunk, or when the client goes away): it keeps a
pooled connection across several worker-thread hops, the shape the gate exists to bound."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from hr_portal.attendance.service import parse_month
from hr_portal.auth import service as auth_service
from hr_portal.core.api_support import admission, request_ip
from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Unauthorized
from hr_portal.reports import service

router = APIRouter(prefix="/reports", tags=["reports"])


def _actor(request: Request, session: Session) -> Actor:
    ip, ua = request_ip(request), request.headers.get("user-agent")
    auth = request.headers.get("authorization", "")
    if auth:
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            raise Unauthorized("Authentication required: send Authorization: Bearer <accessToken>.")
        actor, _claims = auth_service.actor_from_access_token(session=session, token=auth[7:].strip(), ip=ip,
                                                              user_agent=ua)
        return actor
    actor = auth_service.actor_from_ui_session(session=session, token=request.cookies.get("hr_session"), ip=ip,
                                               user_agent=ua)
    if actor is None:
        raise Unauthorized("Authentication required: sign in, or send Authorization: Bearer <accessToken>.")
    return actor


@router.get("/attendance-sheet", response_class=StreamingResponse, responses={
    200: {"description": "The sheet as CSV (streamed)", "content": {"text/csv": {}}}})
async def attendance_sheet(request: Request, month: str = Query(..., description="YYYY-MM"),
                           company_id: str | None = Query(None, alias="companyId"),
                           department_id: str | None = Query(None, alias="departmentId")) -> StreamingResponse:
    slot = admission()
    await slot.__aenter__()
    session = Session(get_engine(), expire_on_commit=False)

    def close() -> None:
        try:
            session.rollback()
        finally:
            session.close()

    released = False

    async def release() -> None:  # idempotent: the body's end and the response's end both call it
        nonlocal released
        if released:
            return
        released = True
        with anyio.CancelScope(shield=True):
            try:
                await run_in_threadpool(close)
            finally:
                await slot.__aexit__(None, None, None)

    def prepare() -> tuple[str, Iterator[str], str]:
        actor = _actor(request, session)
        name, chunks = service.monthly_sheet_csv_stream(session=session, actor=actor, month=parse_month(month),
                                                        company_id=company_id, department_id=department_id)
        return name, chunks, next(chunks)  # the heavy reads and every check happen here, before the response

    try:
        name, chunks, first = await run_in_threadpool(prepare)
    except BaseException:
        await release()
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            yield first.encode("utf-8")
            while (chunk := await run_in_threadpool(next, chunks, None)) is not None:
                yield chunk.encode("utf-8")
        finally:
            await release()

    return _ReleasingStream(release, body(), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})


class _ReleasingStream(StreamingResponse):
    """A StreamingResponse that runs `on_end` however sending ends, even when the client is gone before
    the body was started (then the body generator's own `finally` never runs)."""

    def __init__(self, on_end, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._on_end = on_end

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._on_end()
