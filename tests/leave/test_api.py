"""The legacy /api/v1/leave endpoints, exactly as shared/API_CONTRACT.md says (camelCase, envelopes,
statuses, 400/403/404/409 rules), plus GET /leave/types and GET /leave/balance."""

from __future__ import annotations

import pytest

from tests.factories import API, login_headers, register

LEAVE_FIELDS = {"id", "employeeId", "employeeName", "leaveTypeId", "leaveTypeName", "startDate", "endDate", "days",
                "halfDay", "reason", "status", "approverId", "approverComment", "decidedAt", "createdAt"}


@pytest.fixture
def h(client, leave_org):
    return {k: login_headers(client, p) for k, p in leave_org["people"].items()}


def post_leave(client, headers, leave_org, **body):
    payload = {"leaveTypeId": leave_org["types"]["Annual"].id, "startDate": "2030-03-11", "endDate": "2030-03-13",
               "reason": "Trip", **body}
    return client.post(f"{API}/leave", json=payload, headers=headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    return body


def test_apply_returns_201_with_the_contract_shape(client, leave_org, h):
    r = post_leave(client, h["employee"], leave_org, startDate="2030-03-14", endDate="2030-03-18", halfDay=True)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True and set(body["data"]) >= LEAVE_FIELDS
    data = body["data"]
    assert (data["days"], data["halfDay"], data["status"], data["startDate"]) == (2.5, True, "pending", "2030-03-14")
    assert data["employeeName"] == "Employee Tester" and data["leaveTypeName"] == "Annual"
    assert data["approverId"] is None and data["decidedAt"] is None


def test_apply_refusals_are_400_with_field_details(client, leave_org, h):
    body = assert_error(post_leave(client, h["employee"], leave_org, startDate="2030-03-13", endDate="2030-03-11"),
                        400, "VALIDATION_ERROR")
    assert body["error"]["details"][0]["field"] == "endDate"
    assert post_leave(client, h["employee"], leave_org).status_code == 201
    body = assert_error(post_leave(client, h["employee"], leave_org, startDate="2030-03-12", endDate="2030-03-12"),
                        400, "VALIDATION_ERROR")
    assert "overlap" in body["message"]
    body = assert_error(post_leave(client, h["employee"], leave_org, startDate="2030-04-01", endDate="2030-04-30"),
                        400, "VALIDATION_ERROR")
    assert "at most 20 days" in body["message"] or "Not enough" in body["message"]
    assert_error(post_leave(client, h["employee"], leave_org, startDate="not-a-date"), 400, "VALIDATION_ERROR")
    assert_error(post_leave(client, h["employee"], leave_org, leaveTypeId=999999), 404, "NOT_FOUND")


def test_short_balance_is_400(client, leave_org, h):
    comp = leave_org["types"]["Compensatory"].id
    body = assert_error(post_leave(client, h["employee"], leave_org, leaveTypeId=comp), 400, "VALIDATION_ERROR")
    assert "Not enough Compensatory balance" in body["message"]


def test_list_is_paginated_scoped_and_filtered(client, leave_org, h):
    post_leave(client, h["employee"], leave_org)
    post_leave(client, h["manager"], leave_org, startDate="2030-03-18", endDate="2030-03-18")
    post_leave(client, h["admin"], leave_org, startDate="2030-03-18", endDate="2030-03-18")
    mine = client.get(f"{API}/leave", headers=h["employee"]).json()
    assert mine["pagination"] == {"page": 1, "limit": 20, "total": 1, "totalPages": 1}
    team = client.get(f"{API}/leave", headers=h["manager"]).json()
    assert team["pagination"]["total"] == 2  # self and the report, not the admin
    everyone = client.get(f"{API}/leave?status=pending&limit=2&page=2", headers=h["hr_manager"]).json()
    assert everyone["pagination"] == {"page": 2, "limit": 2, "total": 3, "totalPages": 2}
    assert len(everyone["data"]) == 1
    emp_id = leave_org["people"]["employee"].employee_id
    only = client.get(f"{API}/leave?employeeId={emp_id}&startDate=2030-03-12&endDate=2030-03-12",
                      headers=h["admin"]).json()
    assert [i["employeeId"] for i in only["data"]] == [emp_id]
    assert_error(client.get(f"{API}/leave?status=maybe", headers=h["admin"]), 400, "VALIDATION_ERROR")
    assert_error(client.get(f"{API}/leave?limit=101", headers=h["admin"]), 400, "VALIDATION_ERROR")


def test_get_one_is_scoped(client, leave_org, h):
    leave_id = post_leave(client, h["employee"], leave_org).json()["data"]["id"]
    assert client.get(f"{API}/leave/{leave_id}", headers=h["manager"]).json()["data"]["id"] == leave_id
    mine = post_leave(client, h["manager"], leave_org, startDate="2030-03-20", endDate="2030-03-20")
    assert_error(client.get(f"{API}/leave/{mine.json()['data']['id']}", headers=h["employee"]), 404, "NOT_FOUND")
    assert_error(client.get(f"{API}/leave/abc", headers=h["employee"]), 400, "VALIDATION_ERROR")


def test_approve_reject_and_conflict(client, leave_org, h):
    leave_id = post_leave(client, h["employee"], leave_org).json()["data"]["id"]
    r = client.put(f"{API}/leave/{leave_id}/approve", json={"status": "approved", "comment": "Enjoy"},
                   headers=h["manager"])
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["status"], data["approverComment"], data["approverId"]) == (
        "approved", "Enjoy", leave_org["people"]["manager"].employee_id)
    assert data["decidedAt"].endswith("+00:00")
    assert_error(client.put(f"{API}/leave/{leave_id}/approve", json={"status": "rejected"}, headers=h["admin"]),
                 409, "CONFLICT")
    assert_error(client.put(f"{API}/leave/{leave_id}/approve", json={"status": "maybe"}, headers=h["admin"]),
                 400, "VALIDATION_ERROR")


def test_requester_and_employees_cannot_approve(client, leave_org, h):
    own = post_leave(client, h["manager"], leave_org).json()["data"]["id"]
    assert_error(client.put(f"{API}/leave/{own}/approve", json={"status": "approved"}, headers=h["manager"]),
                 403, "FORBIDDEN")
    other = post_leave(client, h["employee"], leave_org).json()["data"]["id"]
    assert_error(client.put(f"{API}/leave/{other}/approve", json={"status": "approved"}, headers=h["employee"]),
                 403, "FORBIDDEN")


def test_cancel_restores_the_balance(client, leave_org, h):
    leave_id = post_leave(client, h["employee"], leave_org).json()["data"]["id"]
    client.put(f"{API}/leave/{leave_id}/approve", json={"status": "approved"}, headers=h["manager"])
    before = client.get(f"{API}/leave/balance?year=2030", headers=h["employee"]).json()["data"]
    annual = next(b for b in before if b["leaveTypeName"] == "Annual")
    assert (annual["taken"], annual["available"]) == (3, 21)
    r = client.delete(f"{API}/leave/{leave_id}", headers=h["employee"])
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    after = client.get(f"{API}/leave/balance?year=2030", headers=h["employee"]).json()["data"]
    assert next(b for b in after if b["leaveTypeName"] == "Annual")["available"] == 24
    assert_error(client.delete(f"{API}/leave/{leave_id}", headers=h["employee"]), 409, "CONFLICT")
    other = post_leave(client, h["employee"], leave_org).json()["data"]["id"]
    assert_error(client.delete(f"{API}/leave/{other}", headers=h["manager"]), 403, "FORBIDDEN")


def test_types_and_balance_endpoints(client, leave_org, h):
    types = client.get(f"{API}/leave/types", headers=h["employee"]).json()["data"]
    assert [t["name"] for t in types] == ["Annual", "Compensatory", "Sick", "Unpaid"]
    assert set(types[0]) == {"id", "name", "paid", "unit", "yearlyEntitlement", "allowHalfDay"}
    post_leave(client, h["employee"], leave_org)
    bal = client.get(f"{API}/leave/balance?year=2030", headers=h["employee"]).json()["data"]
    annual = next(b for b in bal if b["leaveTypeName"] == "Annual")
    assert annual == {"leaveTypeId": leave_org["types"]["Annual"].id, "leaveTypeName": "Annual", "entitled": 24,
                      "taken": 0, "pending": 3, "available": 21}
    emp = leave_org["people"]["employee"].employee_id
    assert client.get(f"{API}/leave/balance?employeeId={emp}&year=2030", headers=h["manager"]).status_code == 200
    mgr = leave_org["people"]["manager"].employee_id
    assert_error(client.get(f"{API}/leave/balance?employeeId={mgr}", headers=h["employee"]), 404, "NOT_FOUND")
    assert_error(client.get(f"{API}/leave/balance?year=1800", headers=h["employee"]), 400, "VALIDATION_ERROR")
    assert_error(client.get(f"{API}/leave/types"), 401, "UNAUTHORIZED")


def test_registered_organization_starts_with_default_types_and_entitlement(client):
    r = register(client)
    assert r.status_code == 201
    headers = {"Authorization": f"Bearer {r.json()['data']['accessToken']}"}
    types = client.get(f"{API}/leave/types", headers=headers).json()["data"]
    assert {"Annual", "Sick", "Unpaid"} <= {t["name"] for t in types}
    assert {t["name"]: t["paid"] for t in types}["Unpaid"] is False
    bal = {b["leaveTypeName"]: b for b in client.get(f"{API}/leave/balance", headers=headers).json()["data"]}
    assert bal["Annual"]["entitled"] > 0 and bal["Sick"]["entitled"] > 0


def test_other_organization_gets_404(client, leave_org, other_org, make_person):
    from hr_portal.auth.models import Role

    stranger = make_person(other_org, role=Role.admin)
    headers = login_headers(client, stranger)
    emp_headers = login_headers(client, leave_org["people"]["employee"])
    leave_id = post_leave(client, emp_headers, leave_org).json()["data"]["id"]
    assert_error(client.get(f"{API}/leave/{leave_id}", headers=headers), 404, "NOT_FOUND")
    assert_error(client.put(f"{API}/leave/{leave_id}/approve", json={"status": "approved"}, headers=headers),
                 404, "NOT_FOUND")
    assert_error(client.delete(f"{API}/leave/{leave_id}", headers=headers), 404, "NOT_FOUND")
