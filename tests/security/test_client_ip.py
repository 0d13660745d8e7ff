"""X-Forwarded-For is believed only through the configured number of trusted proxy hops
(HR_TRUSTED_PROXY_HOPS): rotating the header escapes neither the account lockout, nor the per-IP
sign-in limit, nor the per-client API rate limit. Complements tests/core/test_http.py."""

from __future__ import annotations

import pytest

from hr_portal.core.net import client_ip
from tests import factories

API = "/api/v1"


@pytest.mark.parametrize(("hops", "peer", "header", "expected"), [
    (0, "198.51.100.1", "203.0.113.9", "198.51.100.1"),                   # no proxy: the header is ignored
    (0, "198.51.100.1", "203.0.113.9, 10.0.0.1", "198.51.100.1"),
    (1, "10.0.0.2", "203.0.113.9", "203.0.113.9"),                        # one proxy appended the client
    (1, "10.0.0.2", "6.6.6.6, 203.0.113.9", "203.0.113.9"),               # a forged prefix is not believed
    (2, "10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
    (2, "10.0.0.2", "203.0.113.9", "10.0.0.2"),                           # fewer entries than hops: the peer
    (1, "10.0.0.2", None, "10.0.0.2"),
    (1, "10.0.0.2", " , ", "10.0.0.2"),
])
def test_client_ip_takes_the_entry_appended_by_the_outermost_trusted_proxy(settings_override, hops, peer, header,
                                                                          expected):
    settings_override(trusted_proxy_hops=hops)
    assert client_ip(peer, header) == expected


def _fail(client, email: str, forwarded: str) -> int:
    return client.post(f"{API}/auth/login", json={"email": email, "password": "Wrong-password-1"},
                       headers={"X-Forwarded-For": forwarded}).status_code


@pytest.mark.parametrize("hops", [0, 1])
def test_rotating_x_forwarded_for_does_not_escape_the_account_lockout(client, settings_override, people, hops):
    settings_override(trusted_proxy_hops=hops, login_rate_limit_per_minute=0)
    emp = people["employee"]
    codes = [_fail(client, emp.email, f"203.0.113.{i}") for i in range(7)]
    assert codes == [401, 401, 401, 401, 401, 423, 423]  # the 5th failure locks
    ok = client.post(f"{API}/auth/login", json={"email": emp.email, "password": emp.password},
                     headers={"X-Forwarded-For": "192.0.2.200"})
    assert ok.status_code == 423


def test_forged_prefix_does_not_escape_the_sign_in_limit_behind_one_proxy(client, settings_override):
    # Behind one proxy the client controls everything left of the entry the proxy appends.
    settings_override(trusted_proxy_hops=1, login_rate_limit_per_minute=2)
    codes = [_fail(client, "nobody@example.com", f"6.6.6.{i}, 203.0.113.50") for i in range(4)]
    assert codes == [401, 401, 429, 429]


def test_rotating_x_forwarded_for_does_not_escape_the_api_rate_limit(client, settings_override):
    settings_override(trusted_proxy_hops=0, rate_limit_per_minute=3)
    codes = [client.get(f"{API}/employees", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_api_rate_limit_keys_on_the_proxied_client_behind_a_configured_proxy(client, settings_override):
    settings_override(trusted_proxy_hops=1, rate_limit_per_minute=2)
    first = [client.get(f"{API}/employees", headers={"X-Forwarded-For": f"6.6.6.{i}, 203.0.113.60"}).status_code
             for i in range(3)]
    other = client.get(f"{API}/employees", headers={"X-Forwarded-For": "203.0.113.61"}).status_code
    assert first == [401, 401, 429]
    assert other == 401  # a different real client has its own budget


def test_lockout_and_audit_record_the_believed_address(client, settings_override, people):
    from sqlmodel import Session, select

    from hr_portal.core.audit import AuditLog
    from hr_portal.core.db import get_engine

    settings_override(trusted_proxy_hops=1)
    _fail(client, people["employee"].email, "6.6.6.6, 203.0.113.77")
    with Session(get_engine()) as s:
        ips = s.exec(select(AuditLog.ip).where(AuditLog.action.like("%fail%"))).all()
    assert ips and set(ips) == {"203.0.113.77"}, ips


def test_invented_bearer_tokens_count_against_the_address_real_users_have_their_own_budget(client, settings_override, people):
    """Signed-in users are counted per user, so a shared office address is not one client; the token
    must verify, a garbage bearer is counted against the address (no escape by inventing tokens)."""
    settings_override(trusted_proxy_hops=0, rate_limit_per_minute=3)
    headers = factories.login_headers(client, people["employee"])  # one request of this address's budget
    codes = [client.get(f"{API}/employees", headers={"Authorization": f"Bearer forged-{i}"}).status_code
             for i in range(3)]
    assert codes == [401, 401, 429]
    assert client.get(f"{API}/employees", headers=headers).status_code == 200
