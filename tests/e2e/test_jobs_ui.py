"""Admins see the scheduled jobs and can run one now."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e


def test_admin_runs_a_job_now_and_sees_its_outcome(page):
    sign_in(page, "admin@acme.example")
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Scheduled jobs")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="core.purge_expired_tokens")
    expect(row).to_be_visible()
    page.get_by_role("button", name="Run core.purge_expired_tokens now").click()
    expect(page.get_by_text("core.purge_expired_tokens: done")).to_be_visible()
    expect(row.get_by_text("succeeded")).to_be_visible()


def test_hr_manager_cannot_open_jobs(page):
    sign_in(page, "hr@acme.example")
    page.goto("/settings/jobs")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_admin_filters_the_audit_log_by_action(page):
    sign_in(page, "admin@acme.example")
    page.get_by_role("link", name="Audit log", exact=True).click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_label("Action").click()
    page.get_by_role("option", name="auth.login", exact=True).click()
    page.get_by_role("button", name="Filter").click()
    # Wait for the filtered list (the unfiltered one is on screen until the server answers).
    expect(page.locator("tbody code").filter(has_not_text=re.compile(r"^auth\.login$"))).to_have_count(0)
    expect(page.get_by_role("cell", name="admin@acme.example").first).to_be_visible()
    actions = [t.strip() for t in page.locator("tbody code").all_inner_texts()]
    assert actions and set(actions) == {"auth.login"}
