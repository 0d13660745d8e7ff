"""Smoke test: the app starts in prod mode and serves the login page."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_login_page_shows_email_field(page, portal):
    page.goto(portal.base_url + "/login")
    expect(page.get_by_label("Email")).to_be_visible()
