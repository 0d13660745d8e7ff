"""HTTP hardening for everything the app serves (pages, websocket upgrade, /api/v1): security
headers, no-store on API responses, and a per-client rate limit on the legacy API.

A pure ASGI middleware (no per-request task or body buffering)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from hr_portal.core import cache
from hr_portal.core.config import get_settings
from hr_portal.core.net import client_ip

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

API_PREFIX = "/api/v1"

# Reflex's compiled pages run inline bootstrap scripts, its event loop evaluates server-sent
# client-side actions (toasts, scripts) with eval, and Radix/emotion set inline styles: hence
# 'unsafe-inline'/'unsafe-eval'. Everything else is same-origin only, and nobody may frame us.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _limit_for(path: str, method: str) -> tuple[str, int] | None:
    """(bucket, limit per minute) for an API request, None when unlimited. Sign-in and password-reset
    attempts have their own, stricter per-IP limits in the auth service (they apply to the UI too)."""
    if not path.startswith(API_PREFIX) or path == f"{API_PREFIX}/health":
        return None
    if method == "GET" and path.startswith(f"{API_PREFIX}/files/"):
        # Pages load photos as <img> requests (a directory page shows 25): their own, looser bucket.
        return "files", get_settings().rate_limit_per_minute * 10
    return "api", get_settings().rate_limit_per_minute


def _client_key(headers: dict[str, str], scope: Scope) -> str:
    """Who a request counts against: the signed-in user when the bearer token verifies (so a whole
    office behind one NAT address is not one client), else the client IP."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        from hr_portal.core.errors import Unauthorized
        from hr_portal.core.security import decode_jwt

        try:
            return f"user:{decode_jwt(auth[7:].strip(), expected_type='access')['sub']}"
        except Unauthorized:
            pass
    peer = scope.get("client")[0] if scope.get("client") else None
    return "ip:" + (client_ip(peer, headers.get("x-forwarded-for")) or "unknown")


class SecurityMiddleware:
    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        path: str = scope.get("path", "")
        is_api = path.startswith(API_PREFIX)
        limit = _limit_for(path, scope.get("method", "GET"))
        if limit is not None and limit[1] > 0:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            count, reset_in = cache.hit(f"{limit[0]}:{_client_key(headers, scope)}", 60)
            if count > limit[1]:
                body = json.dumps({"success": False, "message": "Too many requests. Try again shortly.",
                                   "error": {"code": "RATE_LIMITED", "details": []}}).encode()
                await send({"type": "http.response.start", "status": 429, "headers": [
                    (b"content-type", b"application/json"), (b"retry-after", str(reset_in).encode()),
                    (b"content-length", str(len(body)).encode()), *self._security_headers(settings, True)]})
                await send({"type": "http.response.body", "body": body})
                return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._security_headers(settings, is_api) if k not in existing]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _security_headers(settings, is_api: bool) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
        ]
        if is_api:
            headers.append((b"cache-control", b"no-store"))
        else:
            headers.append((b"content-security-policy", CSP.encode()))
        if settings.base_url.startswith("https://"):
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        return headers
