"""FastAPI glue shared by every module's router: envelopes, the session and actor dependencies.

Admission gate (connection-pool deadlock fix). A request that uses `SessionDep` checks a pooled
connection out in one worker thread (authentication) and keeps it through later thread hops (the
endpoint, the commit). With more such requests in flight than pool connections, every worker thread
could end up waiting for a connection held by a request that was itself waiting for a thread, until
the pool timeout. So a request enters the gate before its session exists, on the event loop (an
`asyncio.Semaphore`, no thread), and leaves it after the commit: at most `admission_limit()` requests
hold a session at once, fewer than the pool's connections and the worker threads, so the one a
request waits for is always held by someone who can finish. Requests beyond the limit queue on the
loop at no cost. `run_unit()` is the other shape for hot endpoints: authentication and the service
call in ONE thread hop and one transaction (also behind the gate).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from hr_portal.core.authz import Actor
from hr_portal.core.config import get_settings
from hr_portal.core.db import get_engine, session_scope
from hr_portal.core.errors import Unauthorized
from hr_portal.core.net import client_ip

T = TypeVar("T")

# Connections and threads left for everything else in the process (UI event handlers, jobs, mail).
_POOL_HEADROOM = 2
_THREAD_HEADROOM = 8

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def admission_limit() -> int:
    """How many API requests may hold a database session at once in this process (call on the loop)."""
    configured = get_settings().api_db_concurrency
    if configured > 0:
        return configured
    threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
    limit = threads - _THREAD_HEADROOM
    pool = get_engine().pool
    if isinstance(pool, QueuePool):  # SingletonThreadPool/StaticPool/NullPool never make a request wait
        limit = min(limit, pool.size() + max(pool._max_overflow, 0) - _POOL_HEADROOM)
    return max(1, limit)


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(admission_limit())
    return gate


def reset_admission() -> None:
    """Forget the gates (tests that change the engine or the limit)."""
    _gates.clear()


@contextlib.asynccontextmanager
async def admission() -> AsyncIterator[None]:
    """Hold one of the gate's slots (see the module docstring)."""
    async with _gate():
        yield


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_session() -> AsyncIterator[Session]:
    """A session per request, inside the admission gate; committed (in a worker thread) when the
    endpoint returns, rolled back when it raises. Async, so entering costs no thread hop."""
    async with admission():
        session = Session(get_engine(), expire_on_commit=False)
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(_rollback_and_close, session)
            raise
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_commit_and_close, session)


# scope="function": commit before the response is sent, so an acknowledged write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <accessToken>` from /auth/login")


def request_ip(request: Request) -> str | None:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"))


async def bearer_token(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The bearer token, or 401 before anything else is looked at (async: no worker thread)."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("Authentication required: send Authorization: Bearer <accessToken>.")
    return creds.credentials


BearerToken = Annotated[str, Depends(bearer_token)]


def get_actor_and_claims(request: Request, token: BearerToken, session: SessionDep) -> tuple[Actor, dict]:
    from hr_portal.auth import service as auth_service

    actor, claims = auth_service.actor_from_access_token(
        session=session, token=token, ip=request_ip(request), user_agent=request.headers.get("user-agent")
    )
    request.state.actor = actor
    return actor, claims


async def get_actor(pair: Annotated[tuple[Actor, dict], Depends(get_actor_and_claims)]) -> Actor:
    return pair[0]


CurrentActor = Annotated[Actor, Depends(get_actor)]
ActorAndClaims = Annotated[tuple[Actor, dict], Depends(get_actor_and_claims)]


async def access_claims(token: BearerToken) -> dict:
    """The bearer token's verified claims (signature, expiry, type), or 401, before the request's
    parameters are looked at. Async: CPU only, no worker thread. Revocation is checked by `run_unit`."""
    from hr_portal.core.security import decode_jwt

    return decode_jwt(token, expected_type="access")


AccessClaims = Annotated[dict, Depends(access_claims)]


async def run_unit(request: Request, token: str | dict, work: Callable[[Session, Actor], T]) -> T:
    """Authenticate `token` (the bearer token, or its claims from `AccessClaims`) and run
    `work(session, actor)` in ONE worker thread and one transaction, committed before this returns
    (so before the response is sent), inside the admission gate.
    The fastest shape for hot endpoints (one thread hop instead of three)."""
    from hr_portal.auth import service as auth_service
    from hr_portal.core.security import decode_jwt

    ip, user_agent = request_ip(request), request.headers.get("user-agent")
    claims = token if isinstance(token, dict) else None

    def run() -> T:
        with session_scope() as session:
            verified = claims if claims is not None else decode_jwt(token, expected_type="access")
            actor = auth_service.actor_from_access_claims(session=session, claims=verified, ip=ip,
                                                          user_agent=user_agent)
            request.state.actor = actor
            return work(session, actor)

    async with admission():
        return await run_in_threadpool(run)


def ok(data: Any = None, message: str = "OK") -> dict:
    return {"success": True, "message": message, "data": data}


class PageParams:
    def __init__(self, page: int = 1, limit: int = 20):
        self.page, self.limit = page, limit

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(page: Annotated[int, Query(ge=1, le=100000)] = 1,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20) -> PageParams:
    return PageParams(page, limit)  # async: a class dependency would cost a worker-thread hop


PageDep = Annotated[PageParams, Depends(page_params)]


def paginated(items: list, *, page: int, limit: int, total: int) -> dict:
    return {"success": True, "data": items,
            "pagination": {"page": page, "limit": limit, "total": total, "totalPages": math.ceil(total / limit) if total else 0}}
