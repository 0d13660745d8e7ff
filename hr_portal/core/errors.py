"""Domain errors. Services raise these; the API maps them to the contract's envelope and the UI to toasts."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    code = "VALIDATION_ERROR"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}


class ValidationFailed(AppError):
    status, code = 400, "VALIDATION_ERROR"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, details=[{"field": field, "message": message}])


class Unauthorized(AppError):
    status, code = 401, "UNAUTHORIZED"


class Forbidden(AppError):
    status, code = 403, "FORBIDDEN"


class NotFound(AppError):
    status, code = 404, "NOT_FOUND"


class Conflict(AppError):
    status, code = 409, "CONFLICT"


class AccountLocked(AppError):
    status, code = 423, "ACCOUNT_LOCKED"


class RateLimited(AppError):
    status, code = 429, "RATE_LIMITED"
