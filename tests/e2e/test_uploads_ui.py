"""Uploads in a real browser: a person adds a profile photo and sees it (served to the signed-in browser by
cookie); HR sets "document required above N days" on a new type, an employee applies with a PDF attached
after being told it is needed, and the manager opens it from the approvals queue.

Set HR_E2E_SHOTS=<dir> to keep screenshots of the pages for a look."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from tests.e2e.helpers import sign_in
from tests.files import samples

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("HR_E2E_SHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _employee_id(database_url: str, email: str) -> int:
    from hr_portal.employees.models import Employee

    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            return s.exec(select(Employee.id).where(Employee.email == email)).one()
    finally:
        engine.dispose()


def _free_monday(database_url: str) -> dt.date:
    """A Monday with Monday and Tuesday working days for the demo employee, clear of her requests, this year."""
    from hr_portal.employees.models import Employee
    from hr_portal.leave.models import LeaveRequest, LeaveStatus
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
            kinds = day_kinds(s, company, today, today + dt.timedelta(days=400))
    finally:
        engine.dispose()
    monday = today + dt.timedelta(days=7 + (1 - today.isoweekday()) % 7)
    while monday.year == today.year or today.month == 12:
        tuesday = monday + dt.timedelta(days=1)
        if kinds.get(monday) == kinds.get(tuesday) == "working" and tuesday.year == monday.year and not any(
                r.start_date <= tuesday and r.end_date >= monday for r in busy):
            return monday
        monday += dt.timedelta(days=7)
    pytest.skip("no free Monday-Tuesday left this leave year for the demo employee")


def _new_page(browser, portal, email: str, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=portal.base_url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, email)
    return page


def _image_loaded(page: Page, selector: str) -> bool:
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")


def test_person_adds_a_profile_photo_and_sees_it(browser, portal):
    expect.set_options(timeout=20_000)
    page = _new_page(browser, portal, "employee@acme.example")
    try:
        eid = _employee_id(portal.database_url, "employee@acme.example")
        page.goto(f"/employees/{eid}")
        expect(page.get_by_role("button", name=re.compile("Add photo|Change"))).to_be_visible()
        # not an image: refused with the reason, nothing stored
        page.locator("#profile_photo input[type=file]").set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": samples.SVG}])
        expect(page.get_by_role("alert").filter(has_text="PNG, JPEG or WebP")).to_be_visible()
        page.locator("#profile_photo input[type=file]").set_input_files(
            files=[{"name": "me.png", "mimeType": "image/png", "buffer": samples.png(96, 96, (30, 120, 200))}])
        expect(page.get_by_text("Photo saved.")).to_be_visible()
        photo = page.get_by_test_id("profile-photo")
        expect(photo).to_be_visible()
        src = photo.get_attribute("src") or ""
        assert src.startswith("/api/v1/files/")
        page.wait_for_function("() => { const i = document.querySelector(\"img[data-testid='profile-photo']\");"
                               " return i && i.complete && i.naturalWidth === 96; }")
        _shot(page, "profile-photo")
        # the same file for a colleague, never for someone signed out
        manager = _new_page(browser, portal, "manager@acme.example")
        try:
            assert manager.request.get(src).status == 200
            manager.goto("/employees")
            row_photo = manager.locator(f"img[src='{src}']").first
            expect(row_photo).to_be_visible()
            _shot(manager, "directory-photo")
        finally:
            manager.context.close()
        anonymous = browser.new_context(base_url=portal.base_url)
        try:
            assert anonymous.request.get(src).status == 401
        finally:
            anonymous.close()
    finally:
        page.context.close()


def test_document_required_above_n_days_and_manager_opens_it(browser, portal):
    expect.set_options(timeout=20_000)
    monday = _free_monday(portal.database_url)
    tuesday = monday + dt.timedelta(days=1)
    type_name = f"Medical {uuid.uuid4().hex[:4]}"
    pages: list[Page] = []
    try:
        hr = _new_page(browser, portal, "hr@acme.example")
        pages.append(hr)
        hr.goto("/leave/setup")
        hr.get_by_role("button", name="New leave type").click()
        hr.get_by_label("Name", exact=True).fill(type_name)
        hr.get_by_label("Yearly entitlement (days)", exact=True).fill("5")
        hr.get_by_label("Minimum notice (days)", exact=True).fill("0")
        hr.get_by_label("Document required above (days)", exact=True).fill("1")
        _shot(hr, "leave-type-dialog")
        hr.get_by_role("button", name="Save type").click()
        expect(hr.get_by_text("Leave type saved.")).to_be_visible()
        expect(hr.get_by_role("rowheader", name=re.compile(type_name))).to_contain_text("document above 1d")

        emp = _new_page(browser, portal, "employee@acme.example")
        pages.append(emp)
        emp.goto("/leave")
        emp.get_by_role("button", name="Apply for leave").first.click()
        emp.get_by_label("Leave type", exact=True).select_option(label=type_name)
        emp.get_by_label("From", exact=True).fill(monday.isoformat())
        emp.get_by_label("To", exact=True).fill(tuesday.isoformat())
        emp.get_by_label("Reason", exact=True).fill("Surgery")
        quote = emp.get_by_test_id("leave-quote")
        expect(quote).to_contain_text("Attach a supporting document")
        expect(emp.get_by_role("button", name="Submit request")).to_be_disabled()
        emp.locator("#leave_attachment input[type=file]").set_input_files(
            files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}])
        expect(emp.get_by_test_id("attachment-name")).to_have_text("certificate.pdf")
        expect(quote).not_to_contain_text("Attach a supporting document")
        _shot(emp, "apply-with-attachment")
        emp.get_by_role("button", name="Submit request").click()
        expect(emp.get_by_text(re.compile(r"Requested 2 day\(s\) of " + type_name))).to_be_visible()
        expect(emp.get_by_test_id("leave-attachment").first).to_be_visible()

        mgr = _new_page(browser, portal, "manager@acme.example")
        pages.append(mgr)
        mgr.goto("/leave/approvals")
        row = mgr.get_by_test_id("queue-row").filter(has_text=type_name)
        link = row.get_by_role("link", name="Open attachment certificate.pdf")
        expect(link).to_be_visible()
        _shot(mgr, "approvals-with-attachment")
        href = link.get_attribute("href") or ""
        with mgr.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == "certificate.pdf"
        assert Path(download.path()).read_bytes() == samples.pdf()
        response = mgr.request.get(href)
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "private, no-store"
        # another organization's admin never gets it
        from tests.e2e.helpers import register_org

        other = register_org(portal.base_url)
        foreign = browser.new_context(base_url=portal.base_url,
                                      extra_http_headers={"Authorization": f"Bearer {other['accessToken']}"})
        try:
            assert foreign.request.get(href).status == 404
        finally:
            foreign.close()
    finally:
        for p in pages:
            p.context.close()
