"""Home dashboards and reports in a real browser: each role's Home, a report with a filter and a CSV export,
a manager's report limited to their team, and no reports for employees."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e

ROLES = {"employee@acme.example": "employee", "manager@acme.example": "manager", "hr@acme.example": "hr_manager",
         "admin@acme.example": "admin"}


@pytest.fixture(scope="module")
def e2e_db(portal) -> Iterator:
    engine = create_engine(portal.database_url)
    yield engine
    engine.dispose()


def _scalar(e2e_db, sql: str, **params):
    with e2e_db.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _team_size(e2e_db, email: str) -> int:
    """Active people reporting to a demo manager, at any depth (the manager not included)."""
    return _scalar(e2e_db, """
        WITH RECURSIVE team(id) AS (
            SELECT e.id FROM employees e JOIN employees m ON m.id = e.manager_id WHERE lower(m.email) = :m
            UNION SELECT e.id FROM employees e JOIN team t ON e.manager_id = t.id)
        SELECT count(*) FROM employees WHERE status = 'active' AND id IN (SELECT id FROM team)""", m=email)


@pytest.mark.parametrize("email", list(ROLES))
def test_each_role_sees_its_home_dashboard(page: Page, e2e_db, email):
    role = ROLES[email]
    sign_in(page, email)
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    expect(page.get_by_test_id("checkin-card")).to_be_visible()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    expect(page.get_by_test_id("me-week")).to_be_visible()
    expect(page.get_by_test_id("me-balances")).to_contain_text("Annual")
    expect(page.get_by_test_id("me-holidays")).to_be_visible()
    if role == "manager":
        expect(page.get_by_role("heading", name="My team")).to_be_visible()
        expect(page.get_by_test_id("team-today")).to_be_visible()
        expect(page.get_by_test_id("team-leave-pending")).to_have_text(re.compile(r"^\d+$"))
        expect(page.get_by_test_id("team-hours").locator("svg").first).to_be_visible()
        # One click opens the approval queue.
        page.get_by_test_id("team-approvals").get_by_role("link").first.click()
        expect(page).to_have_url(re.compile(r"/leave/approvals"))
    else:
        expect(page.get_by_test_id("team-today")).to_have_count(0)
    if role in ("hr_manager", "admin"):
        headcount = _scalar(e2e_db, "SELECT count(*) FROM employees e JOIN users u ON u.organization_id = "
                                    "e.organization_id WHERE lower(u.email) = :m AND e.status = 'active'", m=email)
        expect(page.get_by_test_id("org-headcount")).to_have_text(str(headcount))
        expect(page.get_by_test_id("org-approvals")).to_be_visible()
        expect(page.get_by_test_id("org-hygiene")).to_be_visible()
    else:
        expect(page.get_by_test_id("org-headcount")).to_have_count(0)


def test_hr_filters_the_attendance_report_and_exports_it(page: Page):
    sign_in(page, "hr@acme.example")
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", name="Headcount over time")).to_be_visible()
    page.get_by_role("link", name="Attendance", exact=True).click()
    expect(page.get_by_role("heading", name="Daily presence rate")).to_be_visible()
    table = page.get_by_test_id("attendance-by-department")
    expect(table).to_contain_text("Sales")
    page.get_by_label("Department").select_option(label="Engineering")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Engineering")
    expect(table).not_to_contain_text("Sales")
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    download = info.value
    assert re.fullmatch(r"attendance-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["Date", "Weekday", "Scheduled", "Present"]
    departments = [r[0] for r in rows[rows.index(next(r for r in rows if r and r[0] == "Department")) + 1:] if r]
    assert departments == ["Engineering"]


def test_a_manager_sees_only_their_team_in_the_monthly_sheet(page: Page, e2e_db):
    sign_in(page, "manager@acme.example")
    page.goto("/reports/sheet")
    expect(page.get_by_test_id("sheet-table")).to_be_visible()
    expect(page.get_by_test_id("sheet-row")).to_have_count(_team_size(e2e_db, "manager@acme.example"))
    expect(page.get_by_test_id("sheet-table")).not_to_contain_text("Alex Morgan")  # the CEO, not in the team
    expect(page.get_by_label("Department").locator("option")).to_have_count(2)  # all, Engineering
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    assert info.value.suggested_filename.startswith("attendance-sheet-")
    # Streamed from /api/v1/reports/attendance-sheet with the sign-in cookie: the team, nobody else.
    with open(info.value.path(), encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and r[0] and not r[0].startswith(("Employee code", "Codes:"))]
    assert len(rows) == _team_size(e2e_db, "manager@acme.example")
    assert not any(r[1] == "Alex Morgan" for r in rows)


def test_employees_have_no_reports(page: Page):
    sign_in(page, "employee@acme.example")
    nav = page.get_by_role("navigation", name="Main navigation").first
    expect(nav.get_by_role("link", name="Reports")).to_have_count(0)
    page.goto("/reports/leave")
    expect(page).to_have_url(re.compile(r"/not-allowed"))
