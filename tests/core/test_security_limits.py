"""hr_portal.core.security: the cache of verified tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hr_portal.core import security
from hr_portal.core.errors import Unauthorized
from hr_portal.core.security import decode_jwt, encode_jwt

# ------------------------------------------------------------------------------ verified-token cache


def _token(minutes: int = 5) -> str:
    return encode_jwt(sub=42, token_type="access", lifetime=timedelta(minutes=minutes), extra={"ver": 1})[0]


def test_a_cached_token_still_expires(monkeypatch):
    token = _token()
    claims = decode_jwt(token, expected_type="access")
    assert decode_jwt(token, expected_type="access") == claims  # from the cache
    monkeypatch.setattr(security.time, "time", lambda: claims["exp"] + 1)
    with pytest.raises(Unauthorized, match="expired"):
        decode_jwt(token, expected_type="access")


def test_the_cache_hands_out_copies():
    token = _token()
    decode_jwt(token, expected_type="access")["sub"] = "changed"
    assert decode_jwt(token, expected_type="access")["sub"] == 42


@pytest.mark.parametrize("setting, value", [("secret_key", "another-secret-key-0123456789abcdefghijklmn"),
                                            ("jwt_audience", "another-audience"), ("jwt_issuer", "another-issuer")])
def test_a_cached_token_is_checked_again_under_other_settings(settings_override, setting, value):
    token = _token()
    decode_jwt(token, expected_type="access")
    settings_override(**{setting: value})
    with pytest.raises(Unauthorized):
        decode_jwt(token, expected_type="access")


def test_a_cached_token_is_checked_again_for_another_type():
    token = _token()
    decode_jwt(token, expected_type="access")
    with pytest.raises(Unauthorized, match="type"):
        decode_jwt(token, expected_type="refresh")
