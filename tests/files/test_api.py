"""Uploads through the legacy API and GET /api/v1/files/{id}: headers, bearer or sign-in cookie, 404 for
whoever may not see a file, 413/415 by size and content, and the leave type's attachment rule via POST /leave."""

from __future__ import annotations

import pytest

from hr_portal.auth import service as auth_service
from tests import factories
from tests.factories import API, login_headers
from tests.files import samples
from tests.leave.helpers import run, update_type


@pytest.fixture
def h(client, leave_org):
    return {k: login_headers(client, p) for k, p in leave_org["people"].items()}


def upload_attachment(client, headers, data=None, name="certificate.pdf", mime="application/pdf"):
    return client.post(f"{API}/leave/attachments", headers=headers,
                       files={"file": (name, samples.pdf() if data is None else data, mime)})


def apply(client, headers, leave_org, **body):
    payload = {"leaveTypeId": leave_org["types"]["Sick"].id, "startDate": "2030-03-11", "endDate": "2030-03-13",
               "reason": "Flu", **body}
    return client.post(f"{API}/leave", json=payload, headers=headers)


def test_attachment_rule_via_api_and_manager_downloads_it(client, leave_org, h):
    update_type(leave_org["types"]["Sick"].id, attachment_required_above_days=2.0)
    r = apply(client, h["employee"], leave_org)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"]["code"] == "VALIDATION_ERROR" and body["error"]["details"][0]["field"] == "attachment"
    assert "Attach a supporting document" in body["message"]

    up = upload_attachment(client, h["employee"], name="Ärztliches Attest.pdf")
    assert up.status_code == 201, up.text
    file_id = up.json()["data"]["id"]
    r = apply(client, h["employee"], leave_org, attachmentId=file_id)
    assert r.status_code == 201, r.text
    leave = r.json()["data"]
    assert leave["attachmentUrl"] == f"/api/v1/files/{file_id}" and leave["attachmentName"] == "Ärztliches Attest.pdf"

    got = client.get(leave["attachmentUrl"], headers=h["manager"])
    assert got.status_code == 200 and got.content == samples.pdf()
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"].startswith('attachment; filename="rztliches Attest.pdf"')
    assert "filename*=UTF-8''%C3%84rztliches%20Attest.pdf" in got.headers["content-disposition"]
    assert "sandbox" in got.headers["content-security-policy"]
    detail = client.get(f"{API}/leave/{leave['id']}", headers=h["manager"]).json()["data"]
    assert detail["attachmentUrl"] == leave["attachmentUrl"]


def test_download_is_404_for_other_org_and_unrelated_people_401_anonymous(client, leave_org, h, make_person,
                                                                         other_org):
    up = upload_attachment(client, h["employee"]).json()["data"]
    assert apply(client, h["employee"], leave_org, attachmentId=up["id"]).status_code == 201
    outsider = make_person(other_org, role=factories.Role.admin)
    colleague = make_person(leave_org["org"], role=factories.Role.employee)
    for headers in (login_headers(client, outsider), login_headers(client, colleague)):
        r = client.get(up["url"], headers=headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert client.get(up["url"]).status_code == 401
    assert client.get(up["url"], headers={"Authorization": "Bearer nope"}).status_code == 401
    for who in ("employee", "manager", "hr_manager", "admin"):
        assert client.get(up["url"], headers=h[who]).status_code == 200, who


def test_sign_in_cookie_opens_files_like_the_pages_do(client, leave_org, h):
    photo = client.put(f"{API}/employees/{leave_org['people']['employee'].employee_id}/photo", headers=h["employee"],
                       files={"file": ("me.png", samples.png(), "image/png")})
    assert photo.status_code == 200, photo.text
    url = photo.json()["data"]["photoUrl"]
    token, _ = run(auth_service.create_ui_session, email=leave_org["people"]["manager"].email,
                   password=factories.PASSWORD)
    client.cookies.set("hr_session", token)
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith('inline; filename="me.png"')
    client.cookies.set("hr_session", "forged")
    assert client.get(url).status_code == 401
    client.cookies.clear()


def test_photo_upload_refuses_wrong_type_and_size(client, leave_org, h, settings_override):
    eid = leave_org["people"]["employee"].employee_id
    r = client.put(f"{API}/employees/{eid}/photo", headers=h["employee"],
                   files={"file": ("me.png", samples.SVG, "image/png")})
    assert r.status_code == 415 and r.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "PNG, JPEG or WebP" in r.json()["message"]
    settings_override(upload_max_bytes=2000)
    r = client.put(f"{API}/employees/{eid}/photo", headers=h["employee"],
                   files={"file": ("big.png", samples.png(200, 200) + b"\x00" * 3000, "image/png")})
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    r = upload_attachment(client, h["employee"], data=samples.EXE, name="virus.pdf")
    assert r.status_code == 415


def test_photo_of_someone_else_only_for_hr(client, leave_org, h):
    employee = leave_org["people"]["employee"].employee_id
    r = client.put(f"{API}/employees/{employee}/photo", headers=h["manager"],
                   files={"file": ("x.png", samples.png(), "image/png")})
    assert r.status_code == 403
    r = client.put(f"{API}/employees/{employee}/photo", headers=h["hr_manager"],
                   files={"file": ("x.png", samples.png(), "image/png")})
    assert r.status_code == 200
    listed = client.get(f"{API}/employees/{employee}", headers=h["employee"]).json()["data"]
    assert listed["photoUrl"] == r.json()["data"]["photoUrl"]
    assert client.delete(f"{API}/employees/{employee}/photo", headers=h["employee"]).status_code == 200
    assert client.get(r.json()["data"]["photoUrl"], headers=h["employee"]).status_code == 404
    assert client.get(f"{API}/employees/{employee}", headers=h["employee"]).json()["data"]["photoUrl"] is None
