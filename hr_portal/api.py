"""The legacy /api/v1 FastAPI app: each module's router, the contract's envelopes and error handlers."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
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
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]
        message = "Invalid request: " + "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(error_body(message, "VALIDATION_ERROR", details), status_code=400)

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

    @app.api_route(f"{API_PREFIX}/{{path:path}}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def _unknown(path: str) -> JSONResponse:
        return JSONResponse(error_body("Not found", "NOT_FOUND"), status_code=404)

    return app
