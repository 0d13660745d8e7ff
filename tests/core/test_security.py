"""hr_portal.core.security: password policy, bcrypt hashing, opaque tokens, JWT encoding and checks."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import bcrypt
import pytest

from hr_portal.core.config import get_settings
from hr_portal.core.errors import Unauthorized, ValidationFailed
from hr_portal.core.security import (
    decode_jwt,
    encode_jwt,
    hash_password,
    hash_token,
    new_token,
    validate_password,
    verify_password,
)
from tests.factories import claims_of, sign, unsigned_token

# ------------------------------------------------------------------------------ password policy


@pytest.mark.parametrize("password", [
    "Abcdef12",                       # exactly 8 characters
    "Correct-Horse-42",
    "a" * 10 + "Bc1" + "x" * 59,       # exactly 72 ASCII bytes
    "Pass-word-1" + "é" * 30 + "x",    # exactly 72 UTF-8 bytes, 42 characters
    "pässwörd-Straße",
])
def test_validate_password_accepts_reasonable_passwords(password):
    validate_password(password)


@pytest.mark.parametrize("password, fragment", [
    ("Abc12!x", "at least 8"),
    ("a" * 10 + "Bc1" + "x" * 60, "72 bytes"),          # 73 ASCII bytes
    ("Pass-word-1" + "é" * 31, "72 bytes"),              # 73 UTF-8 bytes
    ("é" * 37, "72 bytes"),
    ("Ab1" * 43, "at most 128"),                         # 129 characters
    ("password123", "common"),
    ("Password123", "common"),
    ("qwerty123", "common"),
    ("aaaaaaaa", "common"),                              # fewer than 3 distinct characters
    ("abababababab", "common"),
])
def test_validate_password_rejects_bad_passwords_with_a_field_error(password, fragment):
    with pytest.raises(ValidationFailed) as err:
        validate_password(password)
    assert err.value.details == [{"field": "password", "message": err.value.message}]
    assert fragment in err.value.message


def test_validate_password_names_the_given_field():
    with pytest.raises(ValidationFailed) as err:
        validate_password("short", field="newPassword")
    assert err.value.details[0]["field"] == "newPassword"


@pytest.mark.parametrize("value", [None, 12345678, b"bytes-password"])
def test_validate_password_rejects_non_strings(value):
    with pytest.raises(ValidationFailed):
        validate_password(value)


# ------------------------------------------------------------------------------ hashing


def test_hash_password_uses_bcrypt_with_the_configured_cost():
    hashed = hash_password("Correct-Horse-42")
    assert hashed.startswith(f"$2b${get_settings().bcrypt_rounds:02d}$")
    assert bcrypt.checkpw(b"Correct-Horse-42", hashed.encode())
    assert hash_password("Correct-Horse-42") != hashed  # salted


def test_verify_password_accepts_the_right_password_only():
    hashed = hash_password("Correct-Horse-42")
    assert verify_password("Correct-Horse-42", hashed) is True
    assert verify_password("correct-horse-42", hashed) is False
    assert verify_password("", hashed) is False


def test_verify_password_is_false_not_an_error_for_over_72_bytes():
    """bcrypt 5 raises on > 72 bytes; a password whose first 72 bytes match must still not pass."""
    base = "x" * 72
    hashed = hash_password("Abc-" + base[4:])
    assert verify_password("Abc-" + base[4:] + "extra", hashed) is False
    assert verify_password("é" * 37, hashed) is False


def test_verify_password_without_a_hash_is_false():
    assert verify_password("Correct-Horse-42", None) is False
    assert verify_password("é" * 50, None) is False


def test_verify_password_with_a_malformed_hash_is_false():
    assert verify_password("Correct-Horse-42", "not-a-bcrypt-hash") is False


def test_new_token_is_random_and_url_safe():
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 and set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for t in tokens)


def test_hash_token_is_sha256_hex():
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    assert hash_token("abc") != hash_token("abd")


# ------------------------------------------------------------------------------ JWT


def _token(token_type: str = "access", minutes: int = 5, **extra) -> str:
    return encode_jwt(sub=42, token_type=token_type, lifetime=timedelta(minutes=minutes), extra=extra or None)[0]


def test_encode_and_decode_round_trip():
    token, jti, exp = encode_jwt(sub=42, token_type="access", lifetime=timedelta(minutes=5), extra={"org": 7})
    claims = decode_jwt(token, expected_type="access")
    settings = get_settings()
    assert claims["sub"] == 42 and claims["jti"] == jti and claims["org"] == 7
    assert claims["exp"] == int(exp.timestamp()) and claims["exp"] - claims["iat"] == 300
    assert (claims["iss"], claims["aud"]) == (settings.jwt_issuer, settings.jwt_audience)


def test_every_token_gets_a_new_id():
    assert claims_of(_token())["jti"] != claims_of(_token())["jti"]


def test_decode_refuses_the_wrong_token_type():
    with pytest.raises(Unauthorized):
        decode_jwt(_token("refresh"), expected_type="access")
    with pytest.raises(Unauthorized):
        decode_jwt(_token("access"), expected_type="refresh")


def test_decode_refuses_an_expired_token():
    with pytest.raises(Unauthorized, match="expired"):
        decode_jwt(_token(minutes=-1), expected_type="access")


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "type", "sub", "iss", "aud"])
def test_decode_requires_each_registered_claim(claim):
    claims = {k: v for k, v in claims_of(_token()).items() if k != claim}
    with pytest.raises(Unauthorized):
        decode_jwt(sign(claims), expected_type="access")


@pytest.mark.parametrize("change", [{"iss": "other"}, {"aud": "other"}, {"sub": "not-a-number"}])
def test_decode_refuses_wrong_issuer_audience_or_subject(change):
    with pytest.raises(Unauthorized):
        decode_jwt(sign({**claims_of(_token()), **change}), expected_type="access")


def test_decode_refuses_another_key_alg_none_and_other_algorithms():
    claims = claims_of(_token())
    assert decode_jwt(sign(claims), expected_type="access")["sub"] == 42  # control: re-signed copy is fine
    for forged in (sign(claims, key="x" * 48), unsigned_token(claims), sign(claims, algorithm="HS384")):
        with pytest.raises(Unauthorized):
            decode_jwt(forged, expected_type="access")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "e30.e30."])
def test_decode_refuses_garbage(token):
    with pytest.raises(Unauthorized):
        decode_jwt(token, expected_type="access")
