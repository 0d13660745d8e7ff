"""Password hashing (bcrypt), password policy, JWTs (PyJWT) and opaque tokens."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import bcrypt
import jwt

from hr_portal.core.config import get_settings
from hr_portal.core.db import utcnow
from hr_portal.core.errors import Unauthorized, ValidationFailed

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128
MAX_PASSWORD_BYTES = 72  # bcrypt's limit: refused, never silently cut

# The commonest passwords of at least 8 characters (from public breach-frequency lists).
COMMON_PASSWORDS = frozenset(
    ["password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword", "12345678", "123456789", "1234567890", "123123123", "11111111", "00000000", "12341234", "87654321", "11223344", "qwertyuiop", "qwerty123", "qwerty12", "qwertyui", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "zaq12wsx", "asdfghjk", "iloveyou1", "iloveyou", "princess1", "sunshine", "baseball", "football", "superman", "trustno1", "whatever", "letmein1", "letmein!", "welcome1", "welcome123", "welcome!", "admin123", "administrator", "changeme", "starwars", "michael1", "jennifer", "abcd1234", "abcdefgh", "aaaaaaaa", "computer", "internet", "monkey123", "dragon123", "master123", "shadow12", "charlie1", "mustang1", "freedom1", "liverpool", "chelsea1", "arsenal1", "blink182", "pokemon1", "samsung1", "google123", "hello123", "secret123", "test1234", "testtest", "qazwsxedc"]
)


def validate_password(password: str, *, field: str = "password") -> None:
    if not isinstance(password, str):
        raise ValidationFailed.field(field, "Password is required.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed.field(field, f"Password must be at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationFailed.field(field, f"Password must be at most {MAX_PASSWORD_CHARS} characters.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationFailed.field(
            field, f"Password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (shorter, or fewer accented characters)."
        )
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        raise ValidationFailed.field(field, "This password is too common. Choose a less guessable one.")


def bcrypt_concurrency() -> int:
    """How many bcrypt hashes this process computes at once (`HR_BCRYPT_CONCURRENCY`, else derived).

    bcrypt releases the GIL, so every hash started runs on a core of its own: eight sign-ins at once
    in one worker are eight busy threads, and the event loop (health checks, every other request)
    then waits for a time slice behind them. Derived: the cores available to this process divided by
    the worker processes sharing them (`GRANIAN_WORKERS`; without it Reflex starts 2 x cores + 1
    workers when Redis is configured, one otherwise), at least one."""
    configured = get_settings().bcrypt_concurrency
    if configured > 0:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        workers = int(os.environ.get("GRANIAN_WORKERS", "0"))
    except ValueError:
        workers = 0
    if workers <= 0:
        workers = 2 * cores + 1 if get_settings().redis_url else 1
    return max(1, cores // workers)


_bcrypt_slots: tuple[int, threading.BoundedSemaphore] | None = None
_bcrypt_slots_lock = threading.Lock()


@contextlib.contextmanager
def _bcrypt_slot() -> Iterator[None]:
    """Hold one of the process's bcrypt slots (blocks the calling worker thread, never the loop:
    every caller runs in a thread)."""
    global _bcrypt_slots
    size = bcrypt_concurrency()
    slots = _bcrypt_slots
    if slots is None or slots[0] != size:
        with _bcrypt_slots_lock:
            if _bcrypt_slots is None or _bcrypt_slots[0] != size:
                _bcrypt_slots = (size, threading.BoundedSemaphore(size))
            slots = _bcrypt_slots
    with slots[1]:
        yield


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    salt = bcrypt.gensalt(rounds=rounds)
    with _bcrypt_slot():
        return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


# A hash to compare against when the account does not exist, so timing reveals nothing.
_DUMMY_HASH: str | None = None


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-ish time check. Over-long input is simply wrong (bcrypt 5 raises on > 72 bytes)."""
    global _DUMMY_HASH
    raw = password.encode("utf-8") if isinstance(password, str) else b""
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("dummy-password-for-timing")
        password_hash = _DUMMY_HASH
        raw = raw[:MAX_PASSWORD_BYTES]
        with _bcrypt_slot():
            bcrypt.checkpw(raw, password_hash.encode("ascii"))
        return False
    if len(raw) > MAX_PASSWORD_BYTES or not raw:
        return False
    try:
        with _bcrypt_slot():
            return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:
        return False


def new_token() -> str:
    """An opaque random token for UI sessions and mailed links."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_jti() -> str:
    return str(uuid.uuid4())


def encode_jwt(*, sub: int, token_type: str, lifetime: timedelta, extra: dict[str, Any] | None = None) -> tuple[str, str, datetime]:
    settings = get_settings()
    now = utcnow()
    jti = new_jti()
    exp = now + lifetime
    payload = {
        "sub": str(sub),
        "type": token_type,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int(exp.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        **(extra or {}),
    }
    return jwt.encode(payload, settings.secret_key, algorithm="HS256"), jti, exp


# Tokens already verified, by their exact text. A client sends the same access token with every
# request (and with the rate limit on, the middleware reads it too); checking its HMAC and claims again
# costs about as much as the rest of authentication. What a successful check established cannot
# change for the same text and the same settings, except expiry, which is checked on every call.
# Revocation is not a property of the text: callers check it in the database every time.
_VERIFIED: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 4096


def decode_jwt(token: str, *, expected_type: str) -> dict[str, Any]:
    settings = get_settings()
    key = (token, expected_type, settings.secret_key, settings.jwt_issuer, settings.jwt_audience)
    cached = _VERIFIED.get(key)
    if cached is not None:
        if cached["exp"] <= time.time():
            _VERIFIED.pop(key, None)
            raise Unauthorized("Token has expired.")
        return dict(cached)
    claims = _decode_jwt(token, expected_type=expected_type, settings=settings)
    if "nbf" not in claims and isinstance(claims.get("exp"), int):
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = dict(claims)
    return claims


def _decode_jwt(token: str, *, expected_type: str, settings) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "jti", "type", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid token.") from exc
    if claims.get("type") != expected_type:
        raise Unauthorized("Invalid token type.")
    try:
        claims["sub"] = int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise Unauthorized("Invalid token.") from exc
    return claims
