"""Security headers, the API rate limit, per-IP sign-in failure limit, and X-Forwarded-For trust."""

from __future__ import annotations

from tests import factories


def test_api_responses_carry_security_headers_and_no_store(client):
    r = client.get("/api/v1/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" in r.headers  # the test base URL is https


def test_hsts_is_not_sent_when_the_portal_is_served_over_plain_http(client, settings_override):
    settings_override(base_url="http://localhost:3000")
    assert "strict-transport-security" not in client.get("/api/v1/health").headers


def test_api_rate_limit_answers_429_with_retry_after(client, settings_override):
    settings_override(rate_limit_per_minute=3)
    codes = [client.post("/api/v1/auth/refresh-token", json={"refreshToken": "x"}).status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]
    r = client.post("/api/v1/auth/refresh-token", json={"refreshToken": "x"})
    assert r.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_health_is_never_rate_limited(client, settings_override):
    settings_override(rate_limit_per_minute=1)
    assert all(client.get("/api/v1/health").status_code == 200 for _ in range(5))


def test_rate_limit_counts_each_signed_in_user_separately(client, settings_override, people):
    settings_override(rate_limit_per_minute=4)
    a = factories.login_headers(client, people["employee"])
    b = factories.login_headers(client, people["manager"])
    for _ in range(4):
        assert client.post("/api/v1/auth/logout", headers={"Authorization": "Bearer garbage"}).status_code in (401, 429)
    # The anonymous budget of this IP is spent, but each user has their own.
    assert client.post("/api/v1/auth/logout", headers=a).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=b).status_code == 200


def test_failed_sign_ins_from_one_ip_are_limited_but_successes_are_not(client, settings_override, people):
    settings_override(login_rate_limit_per_minute=3)
    emp = people["employee"]
    for _ in range(4):  # successes don't count against the network
        assert client.post("/api/v1/auth/login", json={"email": emp.email, "password": emp.password}).status_code == 200
    codes = [client.post("/api/v1/auth/login", json={"email": f"nobody{i}@x.io", "password": "wrong-pass-1"}).status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]
    r = client.post("/api/v1/auth/login", json={"email": emp.email, "password": emp.password})
    assert r.status_code == 429 and r.headers["retry-after"]


def test_rotating_x_forwarded_for_does_not_escape_the_sign_in_limit(client, settings_override):
    settings_override(login_rate_limit_per_minute=2, trusted_proxy_hops=0)
    codes = [client.post("/api/v1/auth/login", json={"email": "a@b.io", "password": "wrong-pass-1"},
                         headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(4)]
    assert codes == [401, 401, 429, 429]


def test_x_forwarded_for_is_believed_through_the_configured_proxies(client, settings_override):
    settings_override(login_rate_limit_per_minute=1, trusted_proxy_hops=1)
    first = client.post("/api/v1/auth/login", json={"email": "a@b.io", "password": "wrong-pass-1"},
                        headers={"X-Forwarded-For": "203.0.113.7"})
    other_client = client.post("/api/v1/auth/login", json={"email": "a@b.io", "password": "wrong-pass-1"},
                               headers={"X-Forwarded-For": "203.0.113.8"})
    same_client = client.post("/api/v1/auth/login", json={"email": "a@b.io", "password": "wrong-pass-1"},
                              headers={"X-Forwarded-For": "203.0.113.7"})
    assert (first.status_code, other_client.status_code, same_client.status_code) == (401, 401, 429)


def test_password_reset_requests_are_limited_per_ip(client, settings_override):
    settings_override(reset_rate_limit_per_minute=2)
    codes = [client.post("/api/v1/auth/password-reset/request", json={"email": f"x{i}@y.io"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
