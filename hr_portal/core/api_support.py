"""FastAPI glue shared by every module's router: envelopes, the session and actor dependencies."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from hr_portal.core.authz import Actor
from hr_portal.core.db import get_engine
from hr_portal.core.errors import Unauthorized
from hr_portal.core.net import client_ip


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": commit before the response is sent, so an acknowledged write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")


def request_ip(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"))


def get_actor_and_claims(
    request: Request, session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> tuple[Actor, dict]:
    from hr_portal.auth import service as auth_service

    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("Authentication required: send Authorization: Bearer <accessToken>.")
    actor, claims = auth_service.actor_from_access_token(
        session=session, token=creds.credentials, ip=request_ip(request), user_agent=request.headers.get("user-agent")
    )
    request.state.actor = actor
    return actor, claims


def get_actor(pair: Annotated[tuple[Actor, dict], Depends(get_actor_and_claims)]) -> Actor:
    return pair[0]


CurrentActor = Annotated[Actor, Depends(get_actor)]
ActorAndClaims = Annotated[tuple[Actor, dict], Depends(get_actor_and_claims)]


def ok(data: Any = None, message: str = "OK") -> dict:
    return {"success": True, "message": message, "data": data}


class PageParams:
    def __init__(self, page: Annotated[int, Query(ge=1, le=100000)] = 1,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20):
        self.page, self.limit = page, limit

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


PageDep = Annotated[PageParams, Depends(PageParams)]


def paginated(items: list, *, page: int, limit: int, total: int) -> dict:
    return {"success": True, "data": items,
            "pagination": {"page": page, "limit": limit, "total": total, "totalPages": math.ceil(total / limit) if total else 0}}
