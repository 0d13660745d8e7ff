"""Password hashing (bcrypt), password policy, JWTs (PyJWT) and opaque tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
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


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


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
        bcrypt.checkpw(raw, password_hash.encode("ascii"))
        return False
    if len(raw) > MAX_PASSWORD_BYTES or not raw:
        return False
    try:
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
