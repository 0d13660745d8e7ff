"""Reflex configuration, fed from hr_portal.core.config (Reflex itself reads only REFLEX_* variables)."""

import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from hr_portal.core.config import get_settings, reflex_environment

settings = get_settings()
# Read by Reflex when it builds its state manager, in this process and the workers it forks. An operator's own
# REFLEX_* value wins.
for _name, _value in reflex_environment(settings).items():
    os.environ.setdefault(_name, _value)

config = rx.Config(
    app_name="hr_portal",
    telemetry_enabled=False,
    redis_url=settings.redis_url or None,
    # The browser talks to the backend on the same origin (prod mode serves both on one port).
    api_url=settings.base_url.rstrip("/"),
    deploy_url=settings.base_url.rstrip("/"),
    frontend_port=settings.port if settings.serve_frontend else None,
    backend_port=settings.port,
    cors_allowed_origins=settings.cors_allowed_origins,
    trusted_proxy_hops=settings.trusted_proxy_hops,
    show_built_with_reflex=False,
    default_color_mode="system",
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium",
                                                         scaling="100%"))],
    disable_plugins=[SitemapPlugin],
)
