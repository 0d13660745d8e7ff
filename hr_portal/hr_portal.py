"""Assembly only: the Reflex app, its pages, the mounted legacy API."""

from __future__ import annotations

import logging

import reflex as rx

from hr_portal.api import create_api
from hr_portal.auth import pages as auth_pages
from hr_portal.auth.state import AuthState
from hr_portal.core.config import get_settings
from hr_portal.dashboard import pages as dashboard_pages
from hr_portal.dashboard.state import HomeState
from hr_portal.org import pages as org_pages
from hr_portal.org.state import SettingsState

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = rx.App(
    api_transformer=create_api(),
    theme=None,
    head_components=[rx.el.meta(name="color-scheme", content="light dark")],
)

app.add_page(auth_pages.login_page, route="/login", title="Sign in · HR Portal", on_load=AuthState.open_login)
app.add_page(auth_pages.forgot_password_page, route="/forgot-password", title="Forgot password · HR Portal",
             on_load=AuthState.open_forgot)
app.add_page(auth_pages.reset_password_page, route="/reset-password", title="Reset password · HR Portal",
             on_load=AuthState.open_reset)
app.add_page(auth_pages.change_password_page, route="/account/password", title="Change password · HR Portal",
             on_load=AuthState.open_account)
app.add_page(auth_pages.not_allowed_page, route="/not-allowed", title="Not allowed · HR Portal",
             on_load=AuthState.check_session)
app.add_page(dashboard_pages.home_page, route="/", title="Home · HR Portal", on_load=HomeState.open_home)
app.add_page(org_pages.settings_page, route="/settings", title="Settings · HR Portal", on_load=SettingsState.open_settings)
