"""Mass assignment: fields a caller may not set (role, organizationId, status, ids, approver, owner)
sent in the body of every write endpoint are ignored or refused, never applied.

Bodies are parsed by CamelModel schemas (`extra="ignore"`), so unknown fields are dropped; fields a
schema does carry (`role`, `status` on employees) go through the service's rules.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from hr_portal.auth.models import Role, User
from hr_portal.core.db import get_engine
from hr_portal.employees.models import Employee
from tests import factories

API = "/api/v1"
FOREIGN = {"organizationId", "organization_id", "userId", "id", "createdAt", "employeeId", "approverId"}


def _get(model, id_):
    with Session(get_engine()) as s:
        return s.get(model, id_)


def _working_day(offset: int) -> dt.date:
    day = dt.date.today() + dt.timedelta(days=offset)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if offset > 0 else -1)
    return day


@pytest.fixture
def h(client, people, other_org):
    return {role: factories.login_headers(client, p) for role, p in people.items()}


def test_register_cannot_join_an_existing_organization_or_pick_a_role(client, org):
    r = factories.register(client, organizationId=org.id, organization_id=org.id, role="employee", isActive=False)
    assert r.status_code == 201, r.text
    user = r.json()["data"]["user"]
    assert user["organizationId"] != org.id
    assert user["role"] == "admin"


def test_create_employee_ignores_organization_status_and_ids_in_the_body(client, people, other_org, h):
    body = {"firstName": "Mass", "lastName": "Assign", "email": factories.unique_email("ma"),
            "organizationId": other_org.id, "status": "inactive", "id": 987654, "userId": 1, "createdAt": "2000-01-01"}
    r = client.post(f"{API}/employees", headers=h["hr_manager"], json=body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    emp = _get(Employee, data["id"])
    assert data["id"] != 987654
    assert emp.organization_id == people["hr_manager"].organization_id
    assert emp.status.value == "active" and data["status"] == "active"
    assert _get(User, emp.user_id).organization_id == people["hr_manager"].organization_id


def test_hr_manager_cannot_create_an_admin_through_the_role_field(client, h):
    r = client.post(f"{API}/employees", headers=h["hr_manager"],
                    json={"firstName": "Would", "lastName": "BeAdmin", "email": factories.unique_email("esc"),
                          "role": "admin"})
    assert r.status_code == 403
    with Session(get_engine()) as s:
        assert s.exec(select(User).where(User.role == Role.admin)).all().__len__() == 1


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"role": "hr_manager"}, {"status": "inactive"},
                                   {"managerId": None}, {"designation": "CEO"}])
def test_employee_updating_own_record_cannot_set_privileged_fields(client, people, h, extra):
    me = people["employee"]
    before = _get(Employee, me.employee_id)
    r = client.put(f"{API}/employees/{me.employee_id}", headers=h["employee"], json={"phone": "+1 555 0101", **extra})
    assert r.status_code == 403, r.text
    after = _get(Employee, me.employee_id)
    assert (after.phone, after.status, after.manager_id, after.designation) == (
        before.phone, before.status, before.manager_id, before.designation)
    assert _get(User, me.user_id).role == Role.employee


def test_unknown_fields_in_an_update_are_ignored(client, people, other_org, h):
    me = people["employee"]
    r = client.put(f"{API}/employees/{me.employee_id}", headers=h["employee"],
                   json={"phone": "+1 555 0102", "organizationId": other_org.id, "userId": people["admin"].user_id,
                         "id": 1, "isActive": False, "passwordHash": "x"})
    assert r.status_code == 200, r.text
    emp = _get(Employee, me.employee_id)
    assert emp.phone == "+1 555 0102"
    assert emp.organization_id == me.organization_id and emp.user_id == me.user_id
    user = _get(User, me.user_id)
    assert user.is_active and user.organization_id == me.organization_id


def test_hr_manager_cannot_promote_to_admin_or_move_someone_to_another_organization(client, people, other_org, h):
    target = people["employee"]
    assert client.put(f"{API}/employees/{target.employee_id}", headers=h["hr_manager"],
                      json={"role": "admin"}).status_code == 403
    r = client.put(f"{API}/employees/{target.employee_id}", headers=h["hr_manager"],
                   json={"designation": "Engineer", "organizationId": other_org.id})
    assert r.status_code == 200, r.text
    assert _get(Employee, target.employee_id).organization_id == target.organization_id
    assert _get(User, target.user_id).role == Role.employee


def test_apply_leave_ignores_status_owner_days_and_approver_in_the_body(client, people, h):
    from hr_portal.leave import service as leave_service

    with Session(get_engine()) as s:
        unpaid = next(t for t in leave_service.ensure_default_types(s, people["employee"].organization_id)
                      if not t.paid)
        s.commit()
        unpaid_id = unpaid.id
    day = _working_day(20)
    r = client.post(f"{API}/leave", headers=h["employee"], json={
        "leaveTypeId": unpaid_id, "startDate": day.isoformat(), "endDate": day.isoformat(), "reason": "x",
        "status": "approved", "employeeId": people["manager"].employee_id, "days": 0,
        "approverId": people["employee"].user_id, "organizationId": 999})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["status"] == "pending"
    assert data["employeeId"] == people["employee"].employee_id
    assert data["days"] == 1
    assert data["approverId"] is None


def test_check_in_and_correction_act_on_the_caller_whatever_the_body_says(client, people, h):
    r = client.post(f"{API}/attendance/check-in", headers=h["employee"],
                    json={"employeeId": people["manager"].employee_id, "status": "present", "workHours": 12})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["employeeId"] == people["employee"].employee_id
    day = _working_day(-3)
    r = client.post(f"{API}/attendance/regularization", headers=h["employee"], json={
        "date": day.isoformat(), "checkIn": "09:00", "checkOut": "17:00", "reason": "Forgot the badge",
        "employeeId": people["manager"].employee_id, "status": "approved", "approverUserId": people["employee"].user_id})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["employeeId"] == people["employee"].employee_id
    assert r.json()["data"]["status"] == "pending"


def test_preferences_are_saved_for_the_caller_only(client, people, h):
    r = client.put(f"{API}/notifications/preferences", headers=h["employee"],
                   json={"kind": "celebration", "channel": "off", "userId": people["manager"].user_id,
                         "organizationId": 999})
    assert r.status_code == 200, r.text
    from hr_portal.notifications.models import NotificationPreference

    with Session(get_engine()) as s:
        rows = s.exec(select(NotificationPreference.user_id, NotificationPreference.organization_id)).all()
    assert rows == [(people["employee"].user_id, people["employee"].organization_id)]
