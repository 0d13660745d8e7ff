"""The bell updates live in every session of a user; the notifications page, preferences and the admin
mail outbox work in the browser, also at 375 px."""

from __future__ import annotations

import os
import random
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.e2e

MANAGER, EMPLOYEE, ADMIN = "manager@acme.example", "employee@acme.example", "admin@acme.example"
SHOTS = os.environ.get("HR_E2E_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def _bell_count(page: Page) -> int:
    expect(page.get_by_test_id("bell")).to_be_visible()
    badge = page.get_by_test_id("bell-count")
    return int(badge.inner_text()) if badge.count() and badge.is_visible() else 0


def _expect_count(page: Page, count: int) -> None:
    if count == 0:
        expect(page.get_by_test_id("bell-count")).to_have_count(0)
    else:
        expect(page.get_by_test_id("bell-count")).to_have_text(str(count))


def _api_apply_leave(base_url: str, email: str) -> dict:
    """The employee applies for one day of unpaid leave through the legacy API (another client)."""
    with httpx.Client(base_url=base_url + "/api/v1", timeout=30) as api:
        token = api.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD}).json()["data"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        types = api.get("/leave/types", headers=headers).json()["data"]
        unpaid = next(t for t in types if t["name"] == "Unpaid")
        for _ in range(20):  # a free weekday (other tests may hold some dates)
            day = date.today() + timedelta(days=random.randint(20, 300))
            if day.weekday() >= 5:
                continue
            r = api.post("/leave", headers=headers, json={"leaveTypeId": unpaid["id"], "startDate": day.isoformat(),
                                                          "endDate": day.isoformat(), "reason": "E2E " + uuid.uuid4().hex[:6]})
            if r.status_code == 201:
                return r.json()["data"]
        raise AssertionError(f"could not apply for leave: {r.status_code} {r.text}")


def test_a_managers_bell_count_rises_live_in_every_session_when_an_employee_applies(browser, portal, page):
    sign_in(page, MANAGER)
    second_context = browser.new_context(viewport={"width": 375, "height": 740}, base_url=portal.base_url)
    try:
        phone = second_context.new_page()
        sign_in(phone, MANAGER)
        phone.goto("/notifications")  # another page of the same user
        expect(phone.get_by_role("heading", name="Notifications")).to_be_visible()
        before = _bell_count(page)
        _expect_count(phone, before)

        leave = _api_apply_leave(portal.base_url, EMPLOYEE)

        _expect_count(page, before + 1)  # no reload
        _expect_count(phone, before + 1)
        expect(phone.get_by_text(f"{leave['employeeName']} asks for Unpaid leave").first).to_be_visible()
        _shot(page, "bell-count-1280")

        # The dropdown lists it; opening it marks it read everywhere and goes to the approvals queue.
        page.get_by_test_id("bell").click()
        item = page.get_by_role("button", name=f"{leave['employeeName']} asks for Unpaid leave").first
        expect(item).to_be_visible()
        _shot(page, "bell-dropdown-1280")
        item.click()
        expect(page).to_have_url(f"{portal.base_url}/leave/approvals")
        _expect_count(page, before)
        _expect_count(phone, before)
    finally:
        second_context.close()


def test_the_bell_dropdown_works_on_a_phone(browser, portal):
    context = browser.new_context(viewport={"width": 375, "height": 740}, base_url=portal.base_url)
    try:
        page = context.new_page()
        sign_in(page, MANAGER)
        _api_apply_leave(portal.base_url, EMPLOYEE)
        expect(page.get_by_test_id("bell-count")).to_be_visible()
        page.get_by_test_id("bell").click()
        dropdown = page.get_by_role("dialog")
        expect(dropdown.get_by_text("Notifications", exact=True)).to_be_visible()
        box = dropdown.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        _shot(page, "bell-dropdown-375")
        dropdown.get_by_role("link", name="See all").click()
        expect(page).to_have_url(f"{portal.base_url}/notifications")
        expect(page.get_by_text("asks for Unpaid leave").first).to_be_visible()
        _shot(page, "notifications-375")
    finally:
        context.close()


def test_notifications_page_filters_and_marks_all_read(page, portal):
    _api_apply_leave(portal.base_url, EMPLOYEE)
    sign_in(page, MANAGER)
    page.goto("/notifications")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.get_by_role("radio", name="Unread").click()
    expect(page.get_by_role("button", name="Mark read:").first).to_be_visible()
    _shot(page, "notifications-1280")
    page.get_by_role("button", name="Mark all read").first.click()
    expect(page.get_by_text("No unread notifications. You're all caught up.")).to_be_visible()
    _expect_count(page, 0)
    page.get_by_role("radio", name="All").click()
    expect(page.get_by_text("asks for Unpaid leave").first).to_be_visible()


def test_preferences_are_saved_per_kind(page):
    sign_in(page, EMPLOYEE)
    page.goto("/notifications/preferences")
    expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    page.get_by_label("Check-in reminder").click()
    page.get_by_role("option", name="Off").click()
    expect(page.get_by_text("Check-in reminder: off.")).to_be_visible()
    _shot(page, "preferences-1280")
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    expect(page.get_by_label("Check-in reminder")).to_have_text("Off")
    _shot(page, "preferences-375")
    page.get_by_label("Check-in reminder").click()
    page.get_by_role("option", name="App and email").click()
    expect(page.get_by_text("Check-in reminder: app and email.")).to_be_visible()


def _insert_failed_mail(database_url: str, to: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            org_id = conn.execute(text("SELECT id FROM organizations WHERE name = 'Acme Robotics'")).scalar_one()
            conn.execute(text(
                "INSERT INTO outbox_emails (organization_id, to_address, subject, body_text, body_html, kind, status,"
                " attempts, last_error, created_at, next_attempt_at) VALUES (:org, :to, 'Weekly HR digest', 'Hello',"
                " '<p>Hello</p>', 'weekly_digest', 'failed', 5, 'SMTPServerDisconnected: Connection unexpectedly"
                " closed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"org": org_id, "to": to})
    finally:
        engine.dispose()


def test_admin_sees_failed_mails_first_and_resends_one(page, portal):
    to = f"broken-{uuid.uuid4().hex[:8]}@acme.example"
    _insert_failed_mail(portal.database_url, to)
    sign_in(page, ADMIN)
    page.get_by_role("link", name="Mail outbox").first.click()
    expect(page.get_by_role("heading", name="Mail outbox")).to_be_visible()
    first_row = page.get_by_role("row").nth(1)
    expect(first_row.get_by_text("Failed")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=to)
    expect(row.get_by_text("Connection unexpectedly closed")).to_be_visible()
    _shot(page, "mail-outbox-1280")
    row.get_by_role("button", name=f"Resend mail to {to}").click()
    expect(page.get_by_text(f"Mail to {to} is queued again.")).to_be_visible()
    expect(row.get_by_text("Failed")).to_have_count(0)
    page.set_viewport_size({"width": 375, "height": 740})
    _shot(page, "mail-outbox-375")


def test_only_admins_open_the_mail_outbox(page):
    sign_in(page, "hr@acme.example")
    page.goto("/settings/mail")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
