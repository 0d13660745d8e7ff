"""hr_portal.core.security: the per-process bcrypt limit and the cache of verified tokens."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from hr_portal.core import security
from hr_portal.core.errors import Unauthorized
from hr_portal.core.security import decode_jwt, encode_jwt, hash_password, verify_password

# ------------------------------------------------------------------------------ bcrypt concurrency


@pytest.mark.parametrize("configured, workers, redis, cores, expected", [
    (3, "", "", 8, 3),                          # HR_BCRYPT_CONCURRENCY wins
    (0, "2", "redis://r/0", 2, 1),               # the bench: 2 workers on 2 cores
    (0, "", "redis://r/0", 2, 1),                # Reflex's default 2 x cores + 1 workers
    (0, "", "", 4, 4),                           # one process (no Redis): every core
    (0, "4", "redis://r/0", 16, 4),
    (0, "32", "redis://r/0", 4, 1),              # never 0
    (0, "junk", "", 2, 2),
])
def test_bcrypt_concurrency_is_configured_or_cores_per_worker(settings_override, monkeypatch, configured, workers,
                                                              redis, cores, expected):
    settings_override(bcrypt_concurrency=configured, redis_url=redis)
    monkeypatch.setenv("GRANIAN_WORKERS", workers)
    monkeypatch.setattr(security.os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    assert security.bcrypt_concurrency() == expected


def test_negative_bcrypt_concurrency_is_refused(settings_override):
    with pytest.raises(ValueError, match="HR_BCRYPT_CONCURRENCY"):
        settings_override(bcrypt_concurrency=-1)


def test_no_more_hashes_run_at_once_than_the_limit(settings_override, monkeypatch):
    """Eight threads checking and hashing passwords at once: never more than two inside bcrypt."""
    settings_override(bcrypt_concurrency=2)
    stored = hash_password("Correct-Horse-42")
    inside, most, lock = 0, 0, threading.Lock()

    def counted(real):
        def call(*args):
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            try:
                time.sleep(0.05)  # long enough for the other threads to pile up at the limit
                return real(*args)
            finally:
                with lock:
                    inside -= 1
        return call

    monkeypatch.setattr(security.bcrypt, "checkpw", counted(security.bcrypt.checkpw))
    monkeypatch.setattr(security.bcrypt, "hashpw", counted(security.bcrypt.hashpw))
    results: list[bool] = []

    def work(i: int) -> None:
        if i % 2:
            results.append(verify_password("Correct-Horse-42", stored))
        else:
            results.append(verify_password("Correct-Horse-42", hash_password("Correct-Horse-42")))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [True] * 8
    assert most == 2


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
