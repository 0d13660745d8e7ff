"""Employees in a real browser: create and find people, the org chart, CSV import, self-service,
deactivation with reports, departments. Each test works in its own freshly registered organization."""

from __future__ import annotations

import re
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import register_org, sign_in, wait_for_mail

pytestmark = pytest.mark.e2e

API = "/api/v1"


# --------------------------------------------------------------------------- helpers (legacy API)


def _headers(base_url: str, email: str, password: str) -> dict[str, str]:
    r = httpx.post(f"{base_url}{API}/auth/login", json={"email": email, "password": password}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}


def _create(base_url: str, headers: dict, **body) -> dict:
    body.setdefault("email", f"{body['firstName'].lower()}-{uuid.uuid4().hex[:6]}@example.org")
    r = httpx.post(f"{base_url}{API}/employees", json=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _activate(portal, email: str, password: str = "Welcome-pass-42") -> str:
    """Use the welcome mail's set-password link (as the new person would) and return the password."""
    raw = wait_for_mail(portal.outbox_dir, email)
    message = BytesParser(policy=policy.default).parsebytes(raw.encode())
    text = message.get_body(preferencelist=("plain",)).get_content()
    token = re.search(r"/reset-password\?token=([\w\-]+)", text).group(1)
    r = httpx.post(f"{portal.base_url}{API}/auth/password-reset/confirm",
                   json={"token": token, "newPassword": password}, timeout=30)
    assert r.status_code == 200, r.text
    return password


def _open_directory(page: Page) -> None:
    page.get_by_role("link", name="Employees", exact=True).first.click()
    expect(page.get_by_role("heading", name="Employees", exact=True)).to_be_visible()


def _search(page: Page, text: str) -> None:
    page.get_by_label("Search employees").fill(text)


# --------------------------------------------------------------------------- tests


def test_hr_creates_an_employee_finds_them_in_the_directory_and_opens_the_org_chart(page, portal):
    account = register_org(portal.base_url)
    sign_in(page, account["email"], account["password"])
    _open_directory(page)

    page.get_by_role("button", name="Add employee").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First name").fill("Nadia")
    dialog.get_by_label("Last name").fill("Quell")
    email = f"nadia-{uuid.uuid4().hex[:6]}@example.org"
    dialog.get_by_label("Work email").fill(email)
    dialog.get_by_label("Designation").fill("Analyst")
    dialog.get_by_label("Manager", exact=True).fill("Erin")
    dialog.get_by_role("button", name=re.compile("Erin Tester")).click()
    expect(dialog.get_by_text("Erin Tester")).to_be_visible()
    dialog.get_by_role("button", name="Create employee").click()
    expect(page.get_by_text("Nadia Quell was added")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert "Set your password" in wait_for_mail(portal.outbox_dir, email)

    _search(page, "quell")
    row_link = page.get_by_role("link", name="Nadia Quell")
    expect(row_link).to_be_visible()
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    row_link.click()
    expect(page.get_by_role("heading", name="Nadia Quell")).to_be_visible()
    page.get_by_role("tab", name="Reporting line").click()
    expect(page.get_by_role("tabpanel").get_by_role("link", name="Erin Tester")).to_be_visible()

    page.get_by_role("link", name="Org chart", exact=True).click()
    expect(page.get_by_role("heading", name="Org chart")).to_be_visible()
    chart = page.get_by_role("tree", name="Org chart")
    expect(chart.get_by_role("link", name="Erin Tester")).to_be_visible()
    expect(chart.get_by_role("link", name="Nadia Quell")).to_be_visible()  # the top is opened one level
    page.get_by_role("button", name="Collapse Erin Tester").click()
    expect(chart.get_by_role("link", name="Nadia Quell")).to_have_count(0)
    page.get_by_label("Find a person in the chart").fill("nadia")
    page.get_by_role("listbox").get_by_role("button", name=re.compile("Nadia Quell")).click()
    expect(chart.get_by_role("link", name="Nadia Quell")).to_be_visible()


def test_a_duplicate_email_is_refused_with_a_clear_message_and_nothing_is_lost(page, portal):
    account = register_org(portal.base_url)
    sign_in(page, account["email"], account["password"])
    _open_directory(page)
    page.get_by_role("button", name="Add employee").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First name").fill("Dora")
    dialog.get_by_label("Last name").fill("Double")
    dialog.get_by_label("Work email").fill(account["email"].upper())
    dialog.get_by_role("button", name="Create employee").click()
    expect(dialog.get_by_role("alert").filter(has_text="already exists").first).to_be_visible()
    expect(dialog.get_by_label("First name")).to_have_value("Dora")  # the form keeps what was typed
    dialog.get_by_label("Work email").fill(f"dora-{uuid.uuid4().hex[:6]}@example.org")
    dialog.get_by_role("button", name="Create employee").click()
    expect(page.get_by_text("Dora Double was added")).to_be_visible()


def test_csv_import_previews_bad_rows_and_imports_only_the_valid_ones(page, portal, tmp_path: Path):
    account = register_org(portal.base_url)
    tag = uuid.uuid4().hex[:6]
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "firstName,lastName,email,department,managerEmail,designation\n"
        f"Iris,Import{tag},iris-{tag}@example.org,Research,{account['email']},Lead\n"
        f"Ivo,Import{tag},ivo-{tag}@example.org,Research,iris-{tag}@example.org,Scientist\n"
        f"Ilse,Import{tag},not-an-email,Research,,\n")
    sign_in(page, account["email"], account["password"])
    _open_directory(page)
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import employees")).to_be_visible()
    page.locator("#employee_csv input[type=file]").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check file").click()

    expect(page.get_by_text("New departments will be created: Research")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("not a valid email"))).to_be_visible()  # errors shown first
    import_button = page.get_by_role("button", name="Import", exact=True)
    expect(import_button).to_be_disabled()
    page.get_by_role("radio", name="New").click()
    expect(page.get_by_role("cell", name=re.compile(f"reports to iris-{tag}"))).to_be_visible()
    page.get_by_text(re.compile(r"^Import only the valid rows")).click()
    expect(import_button).to_be_enabled()
    import_button.click()
    expect(page.get_by_role("status").filter(has_text="2 added")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="1 row skipped, 1 department created.")).to_be_visible()

    page.get_by_role("link", name="Open the directory").click()
    _search(page, f"import{tag}")
    expect(page.get_by_role("link", name=f"Iris Import{tag}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Ivo Import{tag}")).to_be_visible()
    expect(page.get_by_text("1–2 of 2")).to_be_visible()


def test_an_employee_sees_only_themselves_and_edits_their_own_contact_details(page, portal):
    account = register_org(portal.base_url)
    admin = _headers(portal.base_url, account["email"], account["password"])
    person = _create(portal.base_url, admin, firstName="Emil", lastName="Self", managerId=account["user"]["employeeId"])
    _create(portal.base_url, admin, firstName="Other", lastName="Person")
    password = _activate(portal, person["email"])

    sign_in(page, person["email"], password)
    _open_directory(page)
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    expect(page.get_by_role("button", name="Add employee")).to_have_count(0)
    page.get_by_role("link", name="Emil Self").click()
    expect(page.get_by_role("heading", name="Emil Self")).to_be_visible()
    expect(page.get_by_role("button", name="Deactivate")).to_have_count(0)
    page.get_by_role("button", name="Edit contact details").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("First name")).to_have_count(0)
    dialog.get_by_label("Phone").fill("+49 30 5551234")
    dialog.get_by_label("City").fill("Leipzig")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    expect(page.get_by_text("+49 30 5551234")).to_be_visible()
    expect(page.get_by_text("Leipzig")).to_be_visible()

    page.goto(f"/employees/{account['user']['employeeId']}")  # their manager's profile: not theirs to see
    expect(page.get_by_text("does not exist, or is not visible to you")).to_be_visible()


def test_deactivating_a_manager_moves_their_reports_and_ends_their_sign_in(page, portal):
    account = register_org(portal.base_url)
    admin = _headers(portal.base_url, account["email"], account["password"])
    boss = _create(portal.base_url, admin, firstName="Mona", lastName="Manager",
                   managerId=account["user"]["employeeId"])
    _create(portal.base_url, admin, firstName="Rudi", lastName="Report", managerId=boss["id"])
    password = _activate(portal, boss["email"])

    sign_in(page, account["email"], account["password"])
    _open_directory(page)
    _search(page, "manager")
    page.get_by_role("link", name="Mona Manager").click()
    page.get_by_role("button", name="Deactivate").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm.get_by_text("Rudi Report")).to_be_visible()
    expect(confirm.get_by_role("button", name="Deactivate")).to_be_disabled()
    confirm.get_by_text("Move them to Erin Tester").click()
    confirm.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("can no longer sign in")).to_be_visible()
    expect(page.get_by_text("Inactive", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()

    r = httpx.post(f"{portal.base_url}{API}/auth/login", json={"email": boss["email"], "password": password},
                   timeout=30)
    assert r.status_code == 401

    _open_directory(page)
    _search(page, "rudi")
    page.get_by_role("link", name="Rudi Report").click()
    expect(page.get_by_text("Manager:")).to_be_visible()
    expect(page.get_by_role("link", name="Erin Tester")).to_be_visible()


def test_an_edit_shows_in_the_profile_history_with_who_and_what(page, portal):
    account = register_org(portal.base_url)
    admin = _headers(portal.base_url, account["email"], account["password"])
    person = _create(portal.base_url, admin, firstName="Hans", lastName="History")
    sign_in(page, account["email"], account["password"])
    page.goto(f"/employees/{person['id']}")
    expect(page.get_by_role("heading", name="Hans History")).to_be_visible()
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Designation").fill("Archivist")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    page.get_by_role("tab", name="History").click()
    panel = page.get_by_role("tabpanel")
    expect(panel.get_by_text("Designation: — → Archivist")).to_be_visible()
    expect(panel.get_by_text("by Erin Tester").first).to_be_visible()


def test_departments_are_created_renamed_given_a_head_and_archived(page, portal):
    account = register_org(portal.base_url)
    sign_in(page, account["email"], account["password"])
    page.get_by_role("link", name="Departments").click()
    page.get_by_role("button", name="Add department").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Research")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("rowheader", name="Research")).to_be_visible()

    page.get_by_role("button", name="Edit Research").click()
    dialog.get_by_label("Name").fill("R&D")
    dialog.get_by_label("Head").fill("erin")
    dialog.get_by_role("button", name=re.compile("Erin Tester")).click()
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="R&D")
    expect(row.get_by_text("Erin Tester")).to_be_visible()

    page.get_by_role("button", name="Archive R&D").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Archive").click()
    expect(page.get_by_role("rowheader", name="R&D")).to_have_count(0)
    page.get_by_text("Show archived").click()
    expect(page.get_by_role("row").filter(has_text="R&D").get_by_role("cell").get_by_text("Archived")).to_be_visible()


def test_the_create_form_shows_every_problem_under_its_field(page, portal):
    account = register_org(portal.base_url)
    sign_in(page, account["email"], account["password"])
    _open_directory(page)
    page.get_by_role("button", name="Add employee").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Work email").fill("not-an-email")
    dialog.get_by_role("button", name="Create employee").click()
    # The server checks every field at once (the browser's own email check no longer stops the form).
    expect(dialog.get_by_role("alert").filter(has_text="Check the highlighted fields")).to_be_visible()
    expect(dialog.get_by_role("alert").filter(has_text="Enter a valid email address")).to_be_visible()
    expect(dialog.get_by_role("alert").filter(has_text="This field is required")).to_have_count(2)  # names
    dialog.get_by_label("First name").fill("Fine")
    dialog.get_by_label("Last name").fill("Form")
    dialog.get_by_label("Work email").fill(f"fine-{uuid.uuid4().hex[:6]}@example.org")
    dialog.get_by_role("button", name="Create employee").click()
    expect(page.get_by_text("Fine Form was added")).to_be_visible()


def test_profile_tabs_and_department_actions_fit_a_phone_screen(page, portal):
    account = register_org(portal.base_url)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, account["email"], account["password"])
    page.goto(f"/employees/{account['user']['employeeId']}")
    for name in ("Details", "Job", "Reporting line", "History"):
        expect(page.get_by_role("tab", name=name)).to_be_in_viewport(ratio=1)
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("tabpanel")).to_be_visible()

    page.goto("/departments")
    page.get_by_role("button", name="Add department").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Field Service")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("rowheader", name="Field Service")).to_be_visible()
    expect(page.get_by_role("button", name="Edit Field Service")).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name="Archive Field Service")).to_be_in_viewport(ratio=1)
