"""The legacy /api/v1 FastAPI app: each module's router, the contract's envelopes and error handlers."""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hr_portal.core import cache
from hr_portal.core.config import get_settings
from hr_portal.core.db import get_engine
from hr_portal.core.errors import AppError
from hr_portal.core.http import SecurityMiddleware

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

_STATUS_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
                 423: "ACCOUNT_LOCKED", 429: "RATE_LIMITED"}


class ErrorDetail(BaseModel):
    field: str | None = None
    message: str | None = None


class ErrorInfo(BaseModel):
    code: str
    details: list[ErrorDetail | dict[str, Any]]


class ErrorEnvelope(BaseModel):
    """The contract's error envelope (API_CONTRACT.md, Conventions)."""

    success: Literal[False]
    message: str
    error: ErrorInfo


_DESCRIPTIONS = {400: "Invalid body, query or path values (VALIDATION_ERROR)", 401: "Missing, bad, expired or revoked token",
                 403: "The caller's role may not do this", 404: "Not found (also: another organization's record)",
                 405: "Method not allowed", 409: "State clash (already done, not pending, duplicate)",
                 413: "Upload too large", 415: "Upload of a type not allowed (checked by content)",
                 423: "Account locked (Retry-After)", 429: "Too many requests (Retry-After)",
                 500: "Unexpected error (no stack trace in production)"}
# Endpoints that need no bearer token (API_CONTRACT.md, Authentication).
_PUBLIC = {f"{API_PREFIX}/health", f"{API_PREFIX}/auth/register", f"{API_PREFIX}/auth/login",
           f"{API_PREFIX}/auth/refresh-token", f"{API_PREFIX}/auth/password-reset/request",
           f"{API_PREFIX}/auth/password-reset/confirm"}


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    totalPages: int  # noqa: N815 (the contract's camelCase)


class SuccessEnvelope(BaseModel):
    """The contract's success envelope; `data` is the endpoint's object (or null)."""

    success: Literal[True]
    message: str
    data: Any


class PageEnvelope(BaseModel):
    """The contract's paginated envelope."""

    success: Literal[True]
    data: list[Any]
    pagination: Pagination


class HealthBody(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "unreachable"]
    cache: Literal["ok", "memory", "unreachable"]


def _envelope_ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _document_success(operation: dict) -> None:
    """Give a JSON success answer that declares no shape of its own the contract's envelope
    (paginated when the operation takes `page` and `limit`), so its shape is documented and checked."""
    query = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    envelope = PageEnvelope if {"page", "limit"} <= query else SuccessEnvelope
    for code, response in operation.get("responses", {}).items():
        if not code.startswith("2"):
            continue
        media = response.get("content", {}).get("application/json")
        if media is None:
            continue
        current = media.get("schema", {})
        if not current or set(current) <= {"type", "title", "additionalProperties"}:
            media["schema"] = _envelope_ref(envelope)


def _document_errors(schema: dict) -> dict:
    """Declare the error answers every operation can give, with the envelope as their schema.

    FastAPI documents a 422 that this API never sends (validation errors are 400 here) and none of
    the contract's other error statuses. Every /api/v1 operation except health may answer 400
    (validation), 429 (rate limit) and 500; every operation that needs a token also 401, 403 and 404
    (scope), and every authenticated write 409. Routers declare anything else (`responses=`)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorDetail, ErrorInfo, ErrorEnvelope, Pagination, SuccessEnvelope, PageEnvelope, HealthBody):
        components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components[model.__name__].pop("$defs", None)
    health = schema.get("paths", {}).get(f"{API_PREFIX}/health", {}).get("get")
    if health is not None:
        body = {"application/json": {"schema": _envelope_ref(HealthBody)}}
        health["responses"] = {"200": {"description": "Up (the cache may be `memory` or `unreachable`)", "content": body},
                               "503": {"description": "The database is unreachable", "content": body}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX) or path == f"{API_PREFIX}/health":
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            _document_success(operation)
            codes = {400, 429, 500}
            if path not in _PUBLIC:
                codes |= {401, 403, 404}
                if method in ("post", "put", "patch", "delete"):
                    codes.add(409)
            if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                codes |= {413, 415}  # uploads: size and type limits, checked by content (core/files.py)
            codes |= {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for code in sorted(codes):
                entry = responses.setdefault(str(code), {"description": _DESCRIPTIONS.get(code, "Error")})
                entry.setdefault("content", {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{ErrorEnvelope.__name__}"}}})
    return schema


def _literal_methods(app, path: str) -> set[str]:
    operations = app.openapi().get("paths", {}).get(path, {})
    return {method.upper() for method in operations}


def _allowed_methods(app, path: str) -> set[str]:
    """Methods the schema documents for this concrete path (empty when the path is unknown). A
    literal path (`/leave/types`) wins over a template that also matches it (`/leave/{leave_id}`)."""
    literal = _literal_methods(app, path)
    if literal:
        return literal
    templated: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if "{" in template and re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            templated |= {method.upper() for method in operations}
    return templated


def _method_not_allowed(allowed: set[str]) -> JSONResponse:
    return JSONResponse(error_body("Method not allowed", "METHOD_NOT_ALLOWED"), status_code=405,
                        headers={"Allow": ", ".join(sorted(allowed))})


def error_body(message: str, code: str, details: list | None = None) -> dict:
    return {"success": False, "message": message, "error": {"code": code, "details": details or []}}


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def create_api() -> FastAPIOffline:
    settings = get_settings()
    app = FastAPIOffline(
        title="HR Portal API",
        version="1.0.0",
        description="Legacy HR backend endpoints, served by the portal. Authenticate with `POST /api/v1/auth/login` "
                    "and send `Authorization: Bearer <accessToken>`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=f"{API_PREFIX}/redoc",
        static_url=f"{API_PREFIX}/static-docs",
    )

    # Outermost: security headers on pages and API, rate limits on /api/v1 (core/http.py).
    app.add_middleware(SecurityMiddleware)

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, exc.code, exc.details), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):
            # `DELETE /leave/types` reaches `DELETE /leave/{leave_id}` and fails on the id; but
            # /leave/types is a resource of its own that has no DELETE: 405, like any other method.
            literal = _literal_methods(app, request.url.path)
            if literal and request.method not in literal:
                return _method_not_allowed(literal)
        details = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]
        message = "Invalid request: " + "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(error_body(message, "VALIDATION_ERROR", details), status_code=400)

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the schemas let through (a number beyond a column's range,
        # text it cannot store): the request's fault, so 400 like any other bad value, not a 500.
        log.warning("database refused a request value: %s", type(exc.orig).__name__ if exc.orig else exc)
        return JSONResponse(error_body("A value in the request is out of range or of the wrong kind.",
                                       "VALIDATION_ERROR"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404:
            message = "Not found"
        return JSONResponse(error_body(message, code), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in API")
        message = "An unexpected error occurred." if settings.is_production else f"{type(exc).__name__}: {exc}"
        return JSONResponse(error_body(message, "INTERNAL_ERROR"), status_code=500)

    @app.get(f"{API_PREFIX}/health", tags=["health"])
    def health() -> JSONResponse:
        body = {"status": "ok", "database": "ok", "cache": cache.backend_name()}
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            log.exception("health: database unreachable")
            body.update(status="error", database="unreachable")
            return JSONResponse(body, status_code=503)
        if not cache.ping():
            body["cache"] = "unreachable"
        return JSONResponse(body)

    from hr_portal.modules import submodules

    for module_api in submodules("api"):
        app.include_router(module_api.router, prefix=API_PREFIX)

    @app.api_route(f"{API_PREFIX}/{{path:path}}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
                   include_in_schema=False)
    def _unknown(path: str, request: Request) -> JSONResponse:
        # The catch-all also matches known paths called with a method they do not have: that is a
        # 405 with Allow (HTTP semantics), not a 404.
        allowed = _allowed_methods(app, request.url.path)
        if allowed:
            return _method_not_allowed(allowed)
        return JSONResponse(error_body("Not found", "NOT_FOUND"), status_code=404)

    default_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _document_errors(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
