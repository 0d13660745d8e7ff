"""Legacy /api/v1/employees endpoints against shared/API_CONTRACT.md."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core.audit import AuditLog
from hr_portal.core.db import get_engine
from hr_portal.employees.models import Employee, EmployeeStatus
from tests.factories import API, PASSWORD, access_token_accepted, deliver_and_collect, login, login_headers

EMPLOYEE_FIELDS = {"id", "employeeCode", "firstName", "lastName", "email", "phone", "designation", "departmentId",
                   "departmentName", "managerId", "companyId", "employmentType", "status", "dateOfJoining",
                   "createdAt", "updatedAt"}
URL = f"{API}/employees"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code and body["message"]
    return body


def stored(employee_id: int) -> Employee:
    with Session(get_engine()) as s:
        emp = s.get(Employee, employee_id)
        s.expunge_all()
        return emp


def user_of(person) -> User:
    with Session(get_engine()) as s:
        user = s.get(User, person.user_id)
        s.expunge_all()
        return user


@pytest.fixture
def headers(client, tree):
    return {key: login_headers(client, person) for key, person in tree.items()}


# =============================================================================== list


def test_list_returns_the_paginated_envelope_with_contract_fields(client, tree, headers):
    response = client.get(URL, headers=headers["admin"], params={"limit": 3, "page": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {"page": 2, "limit": 3, "total": 7, "totalPages": 3}
    assert len(body["data"]) == 3
    assert set(body["data"][0]) >= EMPLOYEE_FIELDS
    assert set(body["data"][0]) - EMPLOYEE_FIELDS <= {"managerName", "photoUrl"}


@pytest.mark.parametrize("role, expected", [
    ("admin", {"admin", "hr_manager", "manager", "employee", "lead", "junior", "outsider"}),
    ("hr_manager", {"admin", "hr_manager", "manager", "employee", "lead", "junior", "outsider"}),
    ("manager", {"manager", "employee", "lead"}),
    ("employee", {"employee"}),
])
def test_list_is_scoped_by_role(client, tree, headers, foreigner, role, expected):
    data = client.get(URL, headers=headers[role], params={"limit": 100}).json()["data"]
    assert {e["id"] for e in data} == {tree[k].employee_id for k in expected}


@pytest.mark.parametrize("role, visible", [
    ("admin", {"admin", "manager", "employee", "junior", "outsider"}),
    ("hr_manager", {"admin", "manager", "employee", "junior", "outsider"}),
    ("manager", {"manager", "employee"}),
    ("employee", {"employee"}),
])
def test_detail_is_scoped_by_role(client, tree, headers, role, visible):
    for key in ("admin", "manager", "employee", "junior", "outsider"):
        response = client.get(f"{URL}/{tree[key].employee_id}", headers=headers[role])
        if key in visible:
            assert response.status_code == 200, (role, key, response.text)
            assert response.json()["data"]["id"] == tree[key].employee_id
        else:
            assert_error(response, 404, "NOT_FOUND")


def test_another_organizations_employee_is_not_found_for_every_method(client, tree, headers, foreigner):
    target = f"{URL}/{foreigner.employee_id}"
    assert_error(client.get(target, headers=headers["admin"]), 404, "NOT_FOUND")
    assert_error(client.put(target, headers=headers["admin"], json={"phone": "1"}), 404, "NOT_FOUND")
    assert_error(client.delete(target, headers=headers["admin"]), 404, "NOT_FOUND")
    assert stored(foreigner.employee_id).status == EmployeeStatus.active


def test_list_search_filters_and_sorting(client, tree, headers):
    h = headers["hr_manager"]
    data = client.get(URL, headers=h, params={"search": "LENA"}).json()["data"]
    assert [e["firstName"] for e in data] == ["Lena"]
    data = client.get(URL, headers=h, params={"managerId": tree["manager"].employee_id, "limit": 100}).json()["data"]
    assert {e["id"] for e in data} == {tree["employee"].employee_id, tree["lead"].employee_id}
    names = [e["firstName"] for e in client.get(URL, headers=h, params={"sortBy": "firstName", "sortOrder": "desc",
                                                                        "limit": 100}).json()["data"]]
    assert names == sorted(names, reverse=True)
    assert client.get(URL, headers=h, params={"status": "inactive"}).json()["pagination"]["total"] == 0


@pytest.mark.parametrize("params", [
    {"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "x"}, {"sortBy": "salary"}, {"sortOrder": "up"},
    {"status": "retired"}, {"employmentType": "volunteer"}, {"departmentId": "abc"},
])
def test_bad_query_values_give_400_not_a_crash(client, tree, headers, params):
    assert_error(client.get(URL, headers=headers["admin"], params=params), 400, "VALIDATION_ERROR")


def test_every_endpoint_requires_a_token(client, tree):
    eid = tree["employee"].employee_id
    for method, url in (("get", URL), ("post", URL), ("get", f"{URL}/{eid}"), ("put", f"{URL}/{eid}"),
                        ("delete", f"{URL}/{eid}")):
        assert_error(client.request(method, url, json={}), 401, "UNAUTHORIZED")


# =============================================================================== create


def test_create_returns_201_creates_the_account_and_mails_the_welcome_link(client, tree, headers, outbox):
    body = {"firstName": "Nora", "lastName": "Neu", "email": "nora@example.com", "phone": "+1 555 0101",
            "designation": "Analyst", "managerId": tree["manager"].employee_id, "employmentType": "contract",
            "dateOfJoining": "2026-12-01"}
    response = client.post(URL, headers=headers["hr_manager"], json=body)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) >= EMPLOYEE_FIELDS
    assert (data["email"], data["employmentType"], data["status"], data["dateOfJoining"]) == (
        "nora@example.com", "contract", "active", "2026-12-01")
    with Session(get_engine()) as s:
        user = s.exec(select(User).where(User.email == "nora@example.com")).one()
    assert Role(user.role) == Role.employee and user.password_hash is None
    mails = deliver_and_collect(outbox, to="nora@example.com", expect=1)
    assert "/reset-password?token=" in mails[0].get_body(preferencelist=("plain",)).get_content()


def test_create_refuses_duplicates_with_409_and_bad_bodies_with_400(client, tree, headers):
    h = headers["admin"]
    assert_error(client.post(URL, headers=h, json={"firstName": "A", "lastName": "B",
                                                  "email": tree["junior"].email.upper()}), 409, "CONFLICT")
    code = stored(tree["junior"].employee_id).employee_code
    assert_error(client.post(URL, headers=h, json={"firstName": "A", "lastName": "B", "email": "ab@example.com",
                                                  "employeeCode": code}), 409, "CONFLICT")
    body = assert_error(client.post(URL, headers=h, json={"lastName": "B", "email": "x@example.com"}), 400,
                        "VALIDATION_ERROR")
    assert {d["field"] for d in body["error"]["details"]} == {"firstName"}
    assert_error(client.post(URL, headers=h, json={"firstName": "A", "lastName": "B", "email": "x@example.com",
                                                  "employmentType": "slave"}), 400, "VALIDATION_ERROR")
    assert_error(client.post(URL, headers=h, json={"firstName": "A", "lastName": "B", "email": "nope"}), 400,
                 "VALIDATION_ERROR")


def test_only_hr_creates_and_only_an_admin_grants_admin(client, tree, headers):
    body = {"firstName": "Ria", "lastName": "Role", "email": "ria@example.com"}
    for role in ("manager", "employee"):
        assert_error(client.post(URL, headers=headers[role], json=body), 403, "FORBIDDEN")
    assert_error(client.post(URL, headers=headers["hr_manager"], json={**body, "role": "admin"}), 403, "FORBIDDEN")
    response = client.post(URL, headers=headers["admin"], json={**body, "role": "admin"})
    assert response.status_code == 201
    assert client.get(f"{URL}/{response.json()['data']['id']}", headers=headers["admin"]).json()["data"]["role"] == "admin"


def test_organization_id_in_a_create_body_is_ignored(client, tree, headers, foreigner):
    response = client.post(URL, headers=headers["admin"], json={
        "firstName": "Ida", "lastName": "Inside", "email": "ida@example.com",
        "organizationId": foreigner.organization_id, "companyId": None})
    assert response.status_code == 201
    assert stored(response.json()["data"]["id"]).organization_id == tree["admin"].organization_id


# =============================================================================== update


def test_employee_updates_own_phone_and_address(client, tree, headers):
    eid = tree["employee"].employee_id
    response = client.put(f"{URL}/{eid}", headers=headers["employee"],
                           json={"phone": "+49 30 999", "addressLine1": "Am Markt 1", "city": "Potsdam"})
    assert response.status_code == 200, response.text
    emp = stored(eid)
    assert (emp.phone, emp.address_line1, emp.city) == ("+49 30 999", "Am Markt 1", "Potsdam")


def test_mass_assignment_by_an_employee_changes_nothing(client, tree, headers, foreigner):
    eid = tree["employee"].employee_id
    before = stored(eid)
    response = client.put(f"{URL}/{eid}", headers=headers["employee"],
                          json={"role": "admin", "organizationId": foreigner.organization_id})
    assert_error(response, 403, "FORBIDDEN")
    response = client.put(f"{URL}/{eid}", headers=headers["employee"],
                          json={"phone": "+1 222", "organizationId": foreigner.organization_id, "userId": 1,
                                "status": "active"})
    assert response.status_code == 200, response.text
    after = stored(eid)
    assert (after.organization_id, after.user_id, after.phone) == (before.organization_id, before.user_id, "+1 222")
    assert Role(user_of(tree["employee"]).role) == Role.employee
    assert_error(client.put(f"{URL}/{eid}", headers=headers["employee"], json={"designation": "Boss"}), 403,
                 "FORBIDDEN")
    assert stored(eid).designation == before.designation


def test_manager_cannot_update_a_report_and_employee_cannot_update_others(client, tree, headers):
    assert_error(client.put(f"{URL}/{tree['employee'].employee_id}", headers=headers["manager"],
                            json={"phone": "1"}), 403, "FORBIDDEN")
    assert_error(client.put(f"{URL}/{tree['manager'].employee_id}", headers=headers["employee"],
                            json={"phone": "1"}), 404, "NOT_FOUND")


def test_hr_update_is_partial_and_a_role_change_is_audited(client, tree, headers):
    eid = tree["junior"].employee_id
    before = stored(eid)
    response = client.put(f"{URL}/{eid}", headers=headers["admin"], json={"designation": "Engineer", "role": "manager"})
    assert response.status_code == 200, response.text
    after = stored(eid)
    assert after.designation == "Engineer" and (after.first_name, after.email) == (before.first_name, before.email)
    assert Role(user_of(tree["junior"]).role) == Role.manager
    with Session(get_engine()) as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "employee.role_changed",
                                              AuditLog.entity_id == eid)).one()
    assert entry.changes["role"] == ["employee", "manager"] and entry.actor_user_id == tree["admin"].user_id


def test_a_cycle_in_the_reporting_line_is_refused_with_400(client, tree, headers):
    response = client.put(f"{URL}/{tree['manager'].employee_id}", headers=headers["hr_manager"],
                          json={"managerId": tree["junior"].employee_id})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["error"]["details"][0]["field"] == "managerId" and "cycle" in body["message"]
    assert stored(tree["manager"].employee_id).manager_id == tree["admin"].employee_id


def test_clearing_the_manager_with_null(client, tree, headers):
    eid = tree["outsider"].employee_id
    assert client.put(f"{URL}/{eid}", headers=headers["admin"], json={"managerId": None}).status_code == 200
    assert stored(eid).manager_id is None


# =============================================================================== delete


def test_delete_is_a_soft_delete_that_ends_sign_in_and_tokens(client, tree, headers):
    target = tree["outsider"]
    token = login(client, target.email)["accessToken"]
    response = client.delete(f"{URL}/{target.employee_id}", headers=headers["hr_manager"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "inactive"
    assert stored(target.employee_id).status == EmployeeStatus.inactive
    assert not access_token_accepted(token)
    assert_error(client.post(f"{API}/auth/login", json={"email": target.email, "password": PASSWORD}), 401,
                 "UNAUTHORIZED")
    # The record stays readable for HR, with its history.
    assert client.get(f"{URL}/{target.employee_id}", headers=headers["admin"]).json()["data"]["status"] == "inactive"
    assert_error(client.delete(f"{URL}/{target.employee_id}", headers=headers["hr_manager"]), 409, "CONFLICT")


def test_delete_with_direct_reports_needs_them_moved(client, tree, headers):
    url = f"{URL}/{tree['lead'].employee_id}"
    assert_error(client.delete(url, headers=headers["admin"]), 409, "CONFLICT")
    response = client.delete(url, headers=headers["admin"], params={"moveReportsToManager": "true"})
    assert response.status_code == 200 and "moved to Manager Tester" in response.json()["message"]
    assert stored(tree["junior"].employee_id).manager_id == tree["manager"].employee_id


def test_only_hr_deletes(client, tree, headers):
    for role in ("manager", "employee"):
        assert_error(client.delete(f"{URL}/{tree['junior'].employee_id}", headers=headers[role]), 403, "FORBIDDEN")
