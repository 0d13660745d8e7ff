"""GET /api/v1/files/{id}: an uploaded file, to those allowed to see it.

Accepts the legacy API's bearer token, or the portal's sign-in cookie (`hr_session`) so that pages can
show photos in <img> tags and link attachments. Uploads go through the owning resources:
`POST /api/v1/leave/attachments`, `PUT|DELETE /api/v1/employees/{id}/photo`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from hr_portal.auth import service as auth_service
from hr_portal.core.api_support import SessionDep, request_ip
from hr_portal.core.authz import Actor
from hr_portal.core.errors import Unauthorized
from hr_portal.files import service

router = APIRouter(prefix="/files", tags=["files"])


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


@router.get("/{file_id}", response_class=Response, responses={
    200: {"description": "The file's bytes", "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {},
                                                         "application/pdf": {}}}})
def download(file_id: str, request: Request, session: SessionDep) -> Response:
    meta, data = service.open_file(session=session, actor=_actor(request, session), file_id=file_id)
    return Response(content=data, headers=service.response_headers(meta), media_type=meta.content_type)
