"""Attendance in a real browser: one-click check-in/out from Home, the live Team today, corrections
approved from a live queue, the month view, location rules, settings, and the phone layout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.helpers import register_org, sign_in

pytestmark = pytest.mark.e2e

MANAGER = "manager@acme.example"
EMPLOYEE = "employee@acme.example"
CHECK_IN = re.compile(r"^Check in( again)?$")


@pytest.fixture(scope="module")
def e2e_db(portal) -> Iterator:
    engine = create_engine(portal.database_url)
    yield engine
    engine.dispose()


def _reports(e2e_db, manager_email: str) -> list[dict]:
    """Direct reports of a demo manager (other than the demo employee), each used by one test only."""
    with e2e_db.connect() as conn:
        rows = conn.execute(text(
            "SELECT e.id, e.email, e.first_name || ' ' || e.last_name AS name FROM employees e "
            "JOIN employees m ON m.id = e.manager_id WHERE lower(m.email) = :m AND lower(e.email) <> :demo "
            "AND e.status = 'active' ORDER BY e.id"), {"m": manager_email, "demo": EMPLOYEE}).mappings().all()
    return [dict(r) for r in rows]


def _scalar(e2e_db, sql: str, **params):
    with e2e_db.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _new_page(browser, portal, **context_args) -> Page:
    context = browser.new_context(base_url=portal.base_url, **context_args)
    context.set_default_timeout(15_000)
    return context.new_page()


def _status(page: Page):
    return page.get_by_test_id("punch-status")


def test_employee_checks_in_and_out_from_home_in_one_click_each_and_a_double_click_opens_one_record(
        browser, portal, e2e_db):
    person = _reports(e2e_db, MANAGER)[0]
    page = _new_page(browser, portal)
    try:
        sign_in(page, person["email"])
        expect(_status(page)).not_to_contain_text("Checked in since")  # (after 18:30 the demo day is complete)
        expect(page.get_by_test_id("live-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
        page.get_by_role("button", name=CHECK_IN).dblclick()
        expect(_status(page)).to_contain_text("Checked in since")
        expect(page.get_by_role("button", name="Check out")).to_be_enabled()
        assert _scalar(e2e_db, "SELECT count(*) FROM attendance_records WHERE employee_id = :e AND check_out IS NULL",
                       e=person["id"]) == 1
        assert _scalar(e2e_db, "SELECT count(*) FROM attendance_punches WHERE kind = 'in' AND record_id = "
                               "(SELECT id FROM attendance_records WHERE employee_id = :e AND check_out IS NULL) "
                               "AND user_agent NOT LIKE '%demo seed%'", e=person["id"]) == 1
        page.get_by_role("button", name="Check out").click()
        expect(_status(page)).to_contain_text("Checked out at")
        expect(page.get_by_role("button", name="Check in again")).to_be_visible()
        assert _scalar(e2e_db, "SELECT count(*) FROM attendance_records WHERE employee_id = :e AND check_out IS NULL",
                       e=person["id"]) == 0
        ua = _scalar(e2e_db, "SELECT user_agent FROM attendance_punches WHERE employee_id = :e AND source = 'web' "
                             "ORDER BY id DESC LIMIT 1", e=person["id"])
        assert "Chrome" in ua
    finally:
        page.context.close()


def test_a_check_in_shows_up_in_the_managers_team_today_without_a_reload(browser, portal, e2e_db):
    person = _reports(e2e_db, MANAGER)[1]
    manager = _new_page(browser, portal)
    employee = _new_page(browser, portal)
    try:
        sign_in(manager, MANAGER)
        manager.goto("/attendance/team")
        row = manager.get_by_test_id("today-row").filter(has_text=person["name"])
        expect(row).to_be_visible()
        expect(row).not_to_contain_text("In since")
        sign_in(employee, person["email"])
        employee.get_by_role("button", name=CHECK_IN).click()
        expect(_status(employee)).to_contain_text("Checked in since")
        expect(row).to_contain_text("In since", timeout=10_000)
        expect(manager.get_by_test_id("count-in")).not_to_have_text("In 0")
    finally:
        manager.context.close()
        employee.context.close()


def test_a_correction_is_approved_from_the_live_queue_and_the_requester_sees_it_without_reload(
        browser, portal, e2e_db):
    person = _reports(e2e_db, MANAGER)[2]
    manager = _new_page(browser, portal)
    employee = _new_page(browser, portal)
    try:
        sign_in(manager, MANAGER)
        manager.goto("/attendance/approvals")
        expect(manager.get_by_role("heading", name="Waiting for you")).to_be_visible()
        cards = manager.get_by_test_id("pending-correction").filter(has_text=person["name"])
        expect(cards).to_have_count(0)

        sign_in(employee, person["email"])
        employee.goto("/attendance")
        employee.get_by_role("button", name=re.compile(r"^Request a correction for ")).first.click()
        employee.get_by_label("Check-in").fill("08:55")
        employee.get_by_label("Check-out").fill("17:40")
        employee.get_by_label("Reason").fill("Badge reader was down in the morning")
        employee.get_by_role("button", name="Send request").click()
        request_row = employee.get_by_test_id("correction-row").first
        expect(request_row).to_contain_text("Pending")
        expect(request_row).to_contain_text("08:55–17:40")

        expect(cards).to_have_count(1, timeout=10_000)  # arrived in the open queue without a reload
        cards.get_by_role("button", name=f"Approve correction of {person['name']}").click()
        manager.get_by_label("Comment (optional)").fill("Thanks, fixed")
        manager.get_by_role("dialog").get_by_role("button", name="Approve").click()
        expect(cards).to_have_count(0)

        expect(request_row.get_by_test_id("correction-status")).to_have_text("Approved", timeout=10_000)
        expect(request_row).to_contain_text("Thanks, fixed")
        expect(employee.get_by_test_id("day-row").filter(has_text="08:55–17:40")).to_contain_text("corrected")
        assert _scalar(e2e_db, "SELECT count(*) FROM audit_log WHERE action IN ('attendance.record_created', "
                               "'attendance.record_corrected') AND CAST(changes AS TEXT) LIKE :p",
                       p=f'%"employee_id": {person["id"]}%') == 1
    finally:
        manager.context.close()
        employee.context.close()


def test_my_attendance_shows_the_month_switches_months_and_exports_csv(page, portal):
    sign_in(page, EMPLOYEE)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My attendance").click()
    label = page.get_by_test_id("month-label")
    expect(label).to_have_text(re.compile(r"^\w+ \d{4}$"))
    current = label.inner_text()
    expect(page.get_by_test_id("day-row").filter(has_text="correction pending")).to_have_count(1)
    expect(page.get_by_test_id("day-row").filter(has_text="Present").first).to_be_visible()
    expect(page.get_by_role("button", name="Next month")).to_be_disabled()
    page.get_by_role("button", name="Previous month").click()
    expect(label).not_to_have_text(current)
    page.get_by_role("button", name="Next month").click()
    expect(label).to_have_text(current)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    path = download.value.path()
    content = Path(path).read_text(encoding="utf-8")
    assert content.startswith("Date,Weekday,Status,First in,Last out,Hours")
    assert download.value.suggested_filename.startswith("attendance-eva-lang-")


def test_a_company_that_requires_location_refuses_a_check_in_without_it_and_stores_it_when_shared(
        browser, portal, e2e_db):
    account = register_org(portal.base_url)
    admin = _new_page(browser, portal)
    try:
        sign_in(admin, account["email"], account["password"])
        admin.goto("/attendance/settings")
        expect(admin.get_by_role("heading", name="Shifts", exact=True)).to_be_visible()
        admin.get_by_role("switch").click()
        expect(admin.get_by_text("Location is now required to check in.")).to_be_visible()
        admin.goto("/")
        admin.get_by_role("button", name="Check in").click()
        expect(admin.get_by_role("alert").filter(has_text="requires your location")).to_be_visible()
        expect(_status(admin)).to_contain_text("Not checked in")
    finally:
        admin.context.close()
    located = _new_page(browser, portal, geolocation={"latitude": 52.52, "longitude": 13.405, "accuracy": 20},
                        permissions=["geolocation"])
    try:
        sign_in(located, account["email"], account["password"])
        located.get_by_role("button", name=CHECK_IN).click()
        expect(_status(located)).to_contain_text("Checked in since")
        lat = _scalar(e2e_db, "SELECT p.latitude FROM attendance_punches p JOIN employees e ON e.id = p.employee_id "
                              "WHERE lower(e.email) = :m", m=account["email"].lower())
        assert lat == pytest.approx(52.52)
    finally:
        located.context.close()


def test_hr_adds_a_night_shift_and_assigns_it_to_a_person(browser, portal):
    account = register_org(portal.base_url)
    page = _new_page(browser, portal)
    try:
        sign_in(page, account["email"], account["password"])
        page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Attendance settings").click()
        page.get_by_role("button", name="Add shift").click()
        page.get_by_label("Name", exact=True).fill("Night")
        page.get_by_label("Start", exact=True).fill("22:00")
        page.get_by_label("End", exact=True).fill("06:00")
        page.get_by_role("button", name="Save shift").click()
        row = page.get_by_role("row").filter(has_text="Night")
        expect(row).to_contain_text("22:00–06:00 (+1 day)")
        page.get_by_label("Person").select_option(label="Erin Tester (EMP-0001)")
        page.get_by_label("Shift", exact=True).select_option(label="Night (22:00–06:00 (+1 day))")
        page.get_by_role("button", name="Assign").click()
        expect(page.get_by_role("button", name=re.compile(r"back on the default shift"))).to_be_visible()
        page.goto("/")
        expect(page.get_by_test_id("checkin-card")).to_contain_text("shift 22:00–06:00 (+1 day)")
    finally:
        page.context.close()


def test_the_check_in_card_works_on_a_phone(browser, portal, e2e_db):
    person = _reports(e2e_db, MANAGER)[3]
    page = _new_page(browser, portal, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        sign_in(page, person["email"])
        button = page.get_by_role("button", name=CHECK_IN)
        expect(button).to_be_in_viewport()
        box = button.bounding_box()
        assert box["width"] >= 280 and box["height"] >= 48
        button.tap()
        expect(_status(page)).to_contain_text("Checked in since")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
    finally:
        page.context.close()


def test_employees_cannot_open_team_or_approvals(page):
    sign_in(page, EMPLOYEE)
    for path in ("/attendance/team", "/attendance/approvals", "/attendance/settings"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
