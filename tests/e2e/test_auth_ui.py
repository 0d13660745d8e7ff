"""Sign-in, role-aware navigation, sign-out, password reset and change, in a real browser."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import nav_labels, register_org, sign_in, sign_out, wait_for_mail

pytestmark = pytest.mark.e2e

DEMO_ROLE = {"admin@acme.example": "admin", "hr@acme.example": "hr_manager",
             "manager@acme.example": "manager", "employee@acme.example": "employee"}
ADMIN_ONLY = {"Settings", "Jobs"}


def expected_nav(role: str) -> list[str]:
    """The server-side policy (core/authz.py, filled by every module's pages.py)."""
    from hr_portal.auth.models import Role
    from hr_portal.core.authz import nav_for
    from hr_portal.modules import submodules

    for _ in submodules("pages"):
        pass
    return [item["label"] for item in nav_for(Role(role))]
ROLE_LABEL = {"admin@acme.example": "Admin", "hr@acme.example": "HR manager",
              "manager@acme.example": "Manager", "employee@acme.example": "Employee"}


@pytest.mark.parametrize("email", list(DEMO_ROLE))
def test_each_role_sees_exactly_its_navigation(page, email):
    sign_in(page, email)
    labels = nav_labels(page)
    assert labels == expected_nav(DEMO_ROLE[email])
    assert labels[0] == "Home"
    if DEMO_ROLE[email] == "admin":
        assert set(labels) >= ADMIN_ONLY
    else:
        assert not ADMIN_ONLY & set(labels)
    expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()
    expect(page.get_by_text(ROLE_LABEL[email], exact=True).first).to_be_visible()
    expect(page.get_by_text("Acme Robotics").first).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_on_sign_in(page):
    page.goto("/login")
    page.get_by_label("Email").fill("employee@acme.example")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Invalid email or password")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_unknown_email_gets_the_same_message_as_a_wrong_password(page):
    page.goto("/login")
    page.get_by_label("Email").fill("nobody-here@acme.example")
    page.get_by_label("Password").fill("whatever-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Invalid email or password")).to_be_visible()


def test_sign_out_then_back_shows_sign_in_page(page):
    sign_in(page, "admin@acme.example")
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    sign_out(page)
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("heading", name="Companies")).to_have_count(0)


def test_anonymous_visitor_is_sent_to_sign_in_and_back_to_the_page_after(page):
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "next=" in page.url
    page.get_by_label("Email").fill("admin@acme.example")
    page.get_by_label("Password").fill("Portal-demo-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()


def test_employee_opening_settings_sees_not_allowed(page):
    sign_in(page, "employee@acme.example")
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("heading", name="Companies")).to_have_count(0)


def test_forgot_password_mails_a_link_that_sets_a_new_password(page, portal):
    account = register_org(portal.base_url)
    page.goto("/forgot-password")
    page.get_by_label("Email").fill(account["email"])
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("a reset link is on its way")).to_be_visible()

    raw = wait_for_mail(portal.outbox_dir, account["email"])
    msg = BytesParser(policy=policy.default).parsebytes(raw.encode())
    text = msg.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"\S+/reset-password\?token=[\w\-]+", text).group(0)
    assert link.startswith(portal.base_url)

    page.goto(link)
    page.get_by_label("New password", exact=True).fill("Brand-new-pass-7")
    page.get_by_label("Confirm new password").fill("Brand-new-pass-7")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password has been set.")).to_be_visible()

    sign_in(page, account["email"], "Brand-new-pass-7")
    expect(page.get_by_role("heading", name="Home", exact=True)).to_be_visible()

    # The link is single-use.
    sign_out(page)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("Another-pass-8")
    page.get_by_label("Confirm new password").fill("Another-pass-8")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert").filter(has_text="invalid or has expired")).to_be_visible()


def test_changing_password_ends_every_session_of_the_user(browser, portal):
    account = register_org(portal.base_url)
    first = browser.new_context(base_url=portal.base_url).new_page()
    second = browser.new_context(base_url=portal.base_url).new_page()
    try:
        sign_in(first, account["email"], account["password"])
        sign_in(second, account["email"], account["password"])

        first.goto("/account/password")
        first.get_by_label("Current password").fill(account["password"])
        first.get_by_label("New password", exact=True).fill("Changed-pass-99")
        first.get_by_label("Confirm new password").fill("Changed-pass-99")
        first.get_by_role("button", name="Change password").click()
        expect(first.get_by_role("heading", name="Sign in")).to_be_visible()

        # The other browser's session is refused at its next page load.
        second.goto("/settings")
        expect(second.get_by_role("heading", name="Sign in")).to_be_visible()
        sign_in(second, account["email"], "Changed-pass-99")
    finally:
        first.context.close()
        second.context.close()


def test_admin_edits_a_company_time_zone_in_settings(page, portal):
    account = register_org(portal.base_url)
    sign_in(page, account["email"], account["password"])
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Edit ")).first.click()
    page.get_by_label("Time zone").click()
    page.get_by_role("option", name="Europe/Lisbon").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="Europe/Lisbon")).to_be_visible()


def test_settings_of_a_second_admin_update_live_without_reload(browser, portal):
    """A change saved in one browser shows up in another open Settings page without a reload."""
    account = register_org(portal.base_url)
    first = browser.new_context(base_url=portal.base_url).new_page()
    second = browser.new_context(base_url=portal.base_url).new_page()
    try:
        for page in (first, second):
            sign_in(page, account["email"], account["password"])
            page.get_by_role("link", name="Settings", exact=True).click()
            expect(page.get_by_role("heading", name="Companies")).to_be_visible()
        expect(second.get_by_role("cell", name="Asia/Tokyo")).to_have_count(0)
        first.get_by_role("button", name=re.compile(r"^Edit ")).first.click()
        first.get_by_label("Time zone").click()
        first.get_by_role("option", name="Asia/Tokyo").click()
        first.get_by_role("button", name="Save").click()
        expect(first.get_by_role("cell", name="Asia/Tokyo")).to_be_visible()
        expect(second.get_by_role("cell", name="Asia/Tokyo")).to_be_visible(timeout=10_000)
    finally:
        first.context.close()
        second.context.close()
