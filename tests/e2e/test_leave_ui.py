"""Leave in a real browser: HR sets up a type and a holiday, an employee applies for a half day plus two days
over a weekend and sees the right count, the manager approves from the live queue (no reload), and the
employee's page shows the decision, the balance and the ledger lines behind it (no reload)."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from tests.e2e.helpers import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def _plan_dates(database_url: str) -> tuple[dt.date, dt.date, dt.date]:
    """(Thursday, Friday, Tuesday after) with Thu, Fri, Mon, Tue working days in the demo employee's company,
    clear of her existing requests, in a year she has a balance for. The weeks ahead come first; when the
    rest of the leave year is taken (late in the year, before next year's allowance is written in December),
    a week in the past that leave may still be recorded for (MAX_BACKDATE_DAYS)."""
    from hr_portal.employees.models import Employee
    from hr_portal.leave.models import LeaveRequest, LeaveStatus
    from hr_portal.leave.service import MAX_BACKDATE_DAYS
    from hr_portal.org.models import Company
    from hr_portal.org.service import company_today, day_kinds

    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            emp = s.exec(select(Employee).where(Employee.email == "employee@acme.example")).one()
            company = s.get(Company, emp.company_id)
            today = company_today(company)
            busy = s.exec(select(LeaveRequest).where(
                LeaveRequest.employee_id == emp.id,
                LeaveRequest.status.in_([LeaveStatus.pending, LeaveStatus.approved]))).all()
            kinds = day_kinds(s, company, today - dt.timedelta(days=MAX_BACKDATE_DAYS),
                              today + dt.timedelta(days=400))
    finally:
        engine.dispose()

    def usable(thursday: dt.date) -> tuple[dt.date, dt.date, dt.date] | None:
        friday, monday, tuesday = (thursday + dt.timedelta(days=n) for n in (1, 4, 5))
        clear = all(kinds.get(d) == "working" for d in (thursday, friday, monday, tuesday)) and not any(
            r.start_date <= tuesday and r.end_date >= thursday for r in busy)
        # One leave year, this one or (in December, once next year's allowance is written) the next.
        year_ok = thursday.year == tuesday.year and (
            tuesday.year == today.year or (today.month == 12 and tuesday.year == today.year + 1))
        return (thursday, friday, tuesday) if clear and year_ok else None

    ahead = today + dt.timedelta(days=7 + (4 - today.isoweekday()) % 7)
    behind = today - dt.timedelta(days=7 + (today.isoweekday() - 4) % 7)
    candidates = [ahead + dt.timedelta(days=7 * k) for k in range(60)]
    candidates += [behind - dt.timedelta(days=7 * k) for k in range(9)
                   if (today - (behind - dt.timedelta(days=7 * k))).days <= MAX_BACKDATE_DAYS]
    for thursday in candidates:
        if found := usable(thursday):
            return found
    pytest.skip("no free Thursday-to-Tuesday in this leave year for the demo employee, ahead or within "
                f"{MAX_BACKDATE_DAYS} days back")


def _new_page(browser, portal, email: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=portal.base_url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, email)
    return page


def test_employee_applies_manager_approves_live_and_ledger_explains(browser, portal):
    expect.set_options(timeout=20_000)
    thursday, friday, tuesday = _plan_dates(portal.database_url)
    type_name = f"Study {uuid.uuid4().hex[:4]}"
    pages: list[Page] = []
    try:
        # HR: a new type (5 days up front, no notice) and a company holiday on the Friday.
        hr = _new_page(browser, portal, "hr@acme.example")
        pages.append(hr)
        hr.goto("/leave/setup")
        hr.get_by_role("button", name="New leave type").click()
        hr.get_by_label("Name", exact=True).fill(type_name)
        hr.get_by_label("Yearly entitlement (days)", exact=True).fill("5")
        hr.get_by_label("Minimum notice (days)", exact=True).fill("0")
        hr.get_by_role("button", name="Save type").click()
        expect(hr.get_by_text("Leave type saved.")).to_be_visible()
        expect(hr.get_by_role("rowheader", name=re.compile(type_name))).to_be_visible()
        hr.get_by_role("tab", name="Holidays").click()
        hr.get_by_label("Company", exact=True).select_option(label="Acme Robotics GmbH")
        hr.get_by_role("button", name="Add holiday").click()
        hr.get_by_label("Date", exact=True).fill(friday.isoformat())
        hr.get_by_label("Name", exact=True).fill("Founders' Day")
        hr.get_by_role("button", name="Save holiday").click()
        expect(hr.get_by_text("Holiday saved.")).to_be_visible()

        # The employee and the manager each have their page open.
        employee = _new_page(browser, portal, "employee@acme.example")
        manager = _new_page(browser, portal, "manager@acme.example")
        pages += [employee, manager]
        manager.goto("/leave/approvals")
        expect(manager.get_by_role("heading", name="Leave approvals")).to_be_visible()
        expect(manager.get_by_test_id("queue-row").filter(has_text=type_name)).to_have_count(0)
        employee.goto("/leave")
        expect(employee.get_by_role("heading", name="My leave")).to_be_visible()

        # Half day on Thursday, Friday (holiday), the weekend, Monday and Tuesday: 2.5 working days.
        employee.get_by_role("button", name=f"Apply for {type_name} leave").click()
        employee.get_by_label("From", exact=True).fill(thursday.isoformat())
        employee.get_by_label("To", exact=True).fill(tuesday.isoformat())
        quote = employee.get_by_test_id("leave-quote")
        # Wait until the dates are applied server-side before ticking the half day.
        expect(quote).to_contain_text("3 working day(s)")
        half = employee.get_by_role("checkbox", name="Half day on the first day")
        half.click()
        expect(half).to_be_checked()
        expect(quote).to_contain_text("2.5 working day(s)")
        expect(quote).to_contain_text("available after: 2.5")
        expect(quote).to_contain_text("2 weekly off day(s), 1 holiday(s)")
        employee.get_by_label("Reason", exact=True).fill("Exam week")
        employee.get_by_role("button", name="Submit request").click()
        expect(employee.get_by_text(f"Requested 2.5 day(s) of {type_name} leave.")).to_be_visible()
        mine = employee.get_by_test_id("leave-row").filter(has_text=type_name)
        expect(mine).to_contain_text("pending")

        # The manager's queue shows it without a reload; approve it with a comment.
        row = manager.get_by_test_id("queue-row").filter(has_text=type_name)
        expect(row).to_be_visible()
        expect(row).to_contain_text("2.5")
        row.get_by_role("button", name="Approve leave of Eva Lang").click()
        manager.get_by_label("Comment (optional)", exact=True).fill("Good luck!")
        manager.get_by_role("button", name="Confirm approval").click()
        expect(manager.get_by_text("Approved 1 request(s).")).to_be_visible()
        expect(row).to_have_count(0)

        # The employee's page shows the decision without a reload, and the ledger explains the balance.
        expect(mine).to_contain_text("approved")
        expect(mine).to_contain_text("Good luck!")
        employee.get_by_role("button", name=re.compile(f"Why is my {type_name} balance 2.5")).click()
        lines = employee.get_by_test_id("ledger-line")
        expect(lines).to_have_count(2)
        expect(lines.nth(0)).to_contain_text("+5")
        expect(lines.nth(1)).to_contain_text("-2.5")
        expect(lines.nth(1)).to_contain_text("approved by Max Keller")
        expect(employee.get_by_test_id("ledger-total")).to_have_text(
            "Balance 2.5 − pending 0 = available 2.5")
    finally:
        for p in pages:
            p.context.close()


def _api(base_url: str, email: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
    token = client.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD}).json()["data"]["accessToken"]
    return client, {"Authorization": f"Bearer {token}"}


def test_approval_queues_follow_a_request_live_when_it_arrives_and_when_it_is_decided_elsewhere(browser, portal):
    """The manager's and HR's approvals pages each follow their own queue topics (leave/service.py
    queue_topics): both show a new request of the manager's report without a reload, and both drop it
    without a reload when it is decided through another client (the legacy API)."""
    expect.set_options(timeout=20_000)
    marker = "E2E queue " + uuid.uuid4().hex[:6]
    pages: list[Page] = []
    employee_api, employee_auth = _api(portal.base_url, "employee@acme.example")
    manager_api, manager_auth = _api(portal.base_url, "manager@acme.example")
    try:
        for email in ("manager@acme.example", "hr@acme.example"):
            page = _new_page(browser, portal, email)
            pages.append(page)
            page.goto("/leave/approvals")
            expect(page.get_by_role("heading", name="Leave approvals")).to_be_visible()
            expect(page.get_by_test_id("queue-row").filter(has_text=marker)).to_have_count(0)
        types = employee_api.get("/leave/types", headers=employee_auth).json()["data"]
        unpaid = next(t for t in types if t["name"] == "Unpaid")
        leave = None
        for _ in range(20):  # a free weekday (other tests may hold some dates)
            day = dt.date.today() + dt.timedelta(days=random.randint(20, 300))
            if day.weekday() >= 5:
                continue
            r = employee_api.post("/leave", headers=employee_auth, json={
                "leaveTypeId": unpaid["id"], "startDate": day.isoformat(), "endDate": day.isoformat(),
                "reason": marker})
            if r.status_code == 201:
                leave = r.json()["data"]
                break
        assert leave is not None, "could not apply for leave"
        for page in pages:  # arrived: no reload
            expect(page.get_by_test_id("queue-row").filter(has_text=marker)).to_have_count(1)
        r = manager_api.put(f"/leave/{leave['id']}/approve", headers=manager_auth,
                            json={"status": "rejected", "comment": "Decided elsewhere"})
        assert r.status_code == 200, r.text
        for page in pages:  # decided elsewhere: gone without a reload
            expect(page.get_by_test_id("queue-row").filter(has_text=marker)).to_have_count(0)
    finally:
        employee_api.close()
        manager_api.close()
        for p in pages:
            p.context.close()


def _waiting_for_hr(database_url: str, marker: str, count: int) -> list[int]:
    """`count` requests waiting for HR (step 2) of a demo colleague (none of the demo accounts), a year ahead:
    written straight into the database and deleted after, so that no list other tests read changes."""
    from hr_portal.employees.models import Employee, EmployeeStatus
    from hr_portal.leave.models import LeaveRequest, LeaveType

    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            hr = s.exec(select(Employee).where(Employee.email == "hr@acme.example")).one()
            person = s.exec(select(Employee).where(Employee.organization_id == hr.organization_id,
                                                   Employee.email.not_in([f"{who}@acme.example" for who in
                                                                          ("admin", "hr", "manager", "employee")]),
                                                   Employee.status == EmployeeStatus.active)
                            .order_by(Employee.id)).first()
            unpaid = s.exec(select(LeaveType).where(LeaveType.organization_id == hr.organization_id,
                                                    LeaveType.name == "Unpaid")).one()
            day, rows = dt.date.today() + dt.timedelta(days=330), []
            while len(rows) < count:  # later than other tests' requests (at most 300 days ahead)
                if day.weekday() < 5:
                    rows.append(LeaveRequest(organization_id=hr.organization_id, employee_id=person.id,
                                             leave_type_id=unpaid.id, start_date=day, end_date=day, days=1,
                                             reason=f"{marker} #{len(rows) + 1:02d}", step=2, steps_required=2))
                day += dt.timedelta(days=1)
            s.add_all(rows)
            s.commit()
            return [r.id for r in rows]
    finally:
        engine.dispose()


def _delete_requests(database_url: str, ids: list[int]) -> None:
    from sqlalchemy import delete

    from hr_portal.leave.models import LeaveRequest

    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            s.exec(delete(LeaveRequest).where(LeaveRequest.id.in_(ids)))
            s.commit()
    finally:
        engine.dispose()


def test_hr_pages_through_a_queue_longer_than_a_page(browser, portal):
    """More requests wait than one page holds (service.QUEUE_PAGE, the earliest first): HR sees how many wait
    in all, and reaches the latest ones on the last page and back."""
    from hr_portal.leave.service import QUEUE_PAGE

    expect.set_options(timeout=20_000)
    marker = "E2E page " + uuid.uuid4().hex[:6]
    created = _waiting_for_hr(portal.database_url, marker, QUEUE_PAGE + 2)
    page = None
    try:
        page = _new_page(browser, portal, "hr@acme.example")
        page.goto("/leave/approvals")
        shown = page.get_by_test_id("queue-range")
        expect(shown).to_have_text(re.compile(rf"^1–{QUEUE_PAGE} of \d+ waiting$"))
        total = int(re.search(r"of (\d+)", shown.inner_text()).group(1))
        assert total >= QUEUE_PAGE + 2
        expect(page.get_by_test_id("queue-row")).to_have_count(QUEUE_PAGE)
        latest = page.get_by_test_id("queue-row").filter(has_text=f"{marker} #{QUEUE_PAGE + 2:02d}")
        expect(latest).to_have_count(0)
        earlier, later = page.get_by_role("button", name="Earlier"), page.get_by_role("button", name="Later")
        expect(earlier).to_be_disabled()
        last_first = (total - 1) // QUEUE_PAGE * QUEUE_PAGE + 1
        for first in range(QUEUE_PAGE + 1, last_first + 1, QUEUE_PAGE):
            later.click()
            expect(shown).to_have_text(re.compile(rf"^{first}–"))
        expect(shown).to_have_text(f"{last_first}–{total} of {total} waiting")
        expect(later).to_be_disabled()
        expect(latest).to_have_count(1)
        expect(earlier).to_be_enabled()
        earlier.click()
        expect(shown).not_to_have_text(re.compile(rf"–{total} of"))
        expect(latest).to_have_count(0)
    finally:
        _delete_requests(portal.database_url, created)
        if page is not None:
            page.context.close()


def test_employee_cannot_open_approvals_or_setup(page):
    sign_in(page, "employee@acme.example")
    for path in ("/leave/approvals", "/leave/setup", "/leave/calendar"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/not-allowed/?$"))


def test_holiday_csv_import_refuses_bad_lines_and_imports_good_ones(page, tmp_path):
    sign_in(page, "hr@acme.example")
    page.goto("/leave/setup")
    page.get_by_role("tab", name="Holidays").click()
    page.get_by_label("Company", exact=True).select_option(label="Acme Robotics Inc.")
    year = page.get_by_role("heading", name=re.compile(r"^20\d\d$")).inner_text()
    page.get_by_label("CSV lines", exact=True).fill(f"date,name\n{year}-08-14,Company picnic\n{year}-13-01,Bad month\n")
    page.get_by_role("button", name="Import holidays").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
    expect(page.get_by_text(f"line 3: '{year}-13-01' is not a date (YYYY-MM-DD).", exact=True)).to_be_visible()
    good = tmp_path / "holidays.csv"
    good.write_text(f"date,name,recurring\n{year}-08-14,Company picnic,no\n{year}-10-02,Founders' anniversary,yes\n")
    page.locator("#holiday_csv_upload input[type=file]").set_input_files(str(good))
    expect(page.get_by_label("CSV lines", exact=True)).to_have_value(good.read_text())
    page.get_by_role("button", name="Import holidays").click()
    expect(page.get_by_text("Imported 2 holiday(s).")).to_be_visible()
    expect(page.get_by_role("rowheader", name=re.compile("Company picnic"))).to_be_visible()
    expect(page.get_by_role("rowheader", name=re.compile("Founders' anniversary"))).to_contain_text("every year")
