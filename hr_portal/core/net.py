"""Client address: X-Forwarded-For is believed only through the configured number of trusted proxies."""

from __future__ import annotations

from hr_portal.core.config import get_settings


def client_ip(peer: str | None, forwarded_for: str | None) -> str | None:
    hops = get_settings().trusted_proxy_hops
    if hops <= 0 or not forwarded_for:
        return peer
    chain = [p.strip() for p in forwarded_for.split(",") if p.strip()]
    # The last `hops` entries were appended by our proxies; the one before them is the client.
    if len(chain) >= hops:
        return chain[-hops]
    return peer
