"""Legacy /api/v1/auth endpoints (see shared/API_CONTRACT.md). Thin: translate, call the service."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import Field

from hr_portal.auth import service
from hr_portal.auth.models import AuthTokens
from hr_portal.core.api_support import ActorAndClaims, SessionDep, ok, request_ip
from hr_portal.core.schemas import CamelModel

router = APIRouter(prefix="/auth", tags=["auth"])

_S = Field(max_length=1000)


class RegisterBody(CamelModel):
    organization_name: str = Field(min_length=1, max_length=200)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(max_length=1000)


class LoginBody(CamelModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)


class LogoutBody(CamelModel):
    refresh_token: str | None = Field(default=None, max_length=4000)


class RefreshBody(CamelModel):
    refresh_token: str = Field(max_length=4000)


class ResetRequestBody(CamelModel):
    email: str = Field(max_length=254)


class ResetConfirmBody(CamelModel):
    token: str = Field(max_length=400)
    new_password: str = Field(max_length=1000)


def _tokens(tokens: AuthTokens) -> dict:
    return tokens.model_dump(mode="json", by_alias=True)


# Error answers beyond those every operation documents (hr_portal/api.py::_document_errors).
_CONFLICT = {409: {"description": "Email already registered"}}
_BAD_CREDENTIALS = {401: {"description": "Bad credentials (one message for unknown email and wrong password)"},
                    423: {"description": "Account locked after repeated failures (Retry-After)"}}
_BAD_TOKEN = {401: {"description": "Bad, expired, spent or revoked refresh token"}}


@router.post("/register", status_code=status.HTTP_201_CREATED, responses=_CONFLICT)
def register(body: RegisterBody, request: Request, session: SessionDep) -> dict:
    tokens = service.register_organization(
        session=session, organization_name=body.organization_name, first_name=body.first_name,
        last_name=body.last_name, email=body.email, password=body.password,
        ip=request_ip(request), user_agent=request.headers.get("user-agent"),
    )
    return ok(_tokens(tokens), "Organization registered")


@router.post("/login", responses=_BAD_CREDENTIALS)
def login(body: LoginBody, request: Request, session: SessionDep) -> dict:
    tokens = service.login(session=session, email=body.email, password=body.password,
                           ip=request_ip(request), user_agent=request.headers.get("user-agent"))
    return ok(_tokens(tokens), "Signed in")


@router.post("/logout")
def logout(pair: ActorAndClaims, session: SessionDep, body: LogoutBody | None = None) -> dict:
    actor, claims = pair
    service.logout(session=session, actor=actor, access_claims=claims, refresh_token=body.refresh_token if body else None)
    return ok(None, "Signed out")


@router.post("/refresh-token", responses=_BAD_TOKEN)
def refresh_token(body: RefreshBody, session: SessionDep) -> dict:
    return ok(_tokens(service.refresh(session=session, refresh_token=body.refresh_token)), "Token refreshed")


@router.post("/password-reset/request")
def password_reset_request(body: ResetRequestBody, request: Request, session: SessionDep) -> dict:
    service.request_password_reset(session=session, email=body.email, ip=request_ip(request),
                                   user_agent=request.headers.get("user-agent"))
    return ok(None, "If an account exists for this email, a reset link has been sent.")


@router.post("/password-reset/confirm")
def password_reset_confirm(body: ResetConfirmBody, session: SessionDep) -> dict:
    service.confirm_password_reset(session=session, token=body.token, new_password=body.new_password)
    return ok(None, "Password has been reset. Sign in with the new password.")
