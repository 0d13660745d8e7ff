"""Authorization matrix of the legacy API: every /api/v1 route x every kind of caller, one table.

Callers: anonymous; employee, manager, hr_manager and admin of organization A (the employee reports
to the manager, manager and hr_manager to the admin); `outsider`, the admin of another organization
B, sending org A's ids. Every route the FastAPI app serves under /api/v1 must have an entry in
MATRIX (deny by default: a new route without one fails `test_every_api_route_has_a_matrix_entry`).

Each case runs on a fresh world (org A with a pending leave and a pending attendance correction of
the employee, a notification of the employee, a failed mail, the employee's photo; org B with its
admin) and checks:
- the status code in the table;
- the outsider's and the anonymous caller's responses carry none of org A's data (marker strings,
  emails, names);
- a refused call (4xx) changed nothing in org A (a digest of the rows the endpoints can change);
- the answer carries `Cache-Control: no-store` (files: `private, no-store`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import Session, select

from hr_portal.core.db import get_engine
from tests import factories

API = "/api/v1"
ROLES = ("anonymous", "employee", "manager", "hr_manager", "admin", "outsider")
ORG_A_MARK = "ZQORGA"  # in org A's name, people's names, reasons, titles, subjects

# A 1x1 PNG (the uploads check content, not the file name).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _working_day_before(today: dt.date, days: int) -> dt.date:
    day = today - dt.timedelta(days=days)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _working_day_after(today: dt.date, days: int) -> dt.date:
    day = today + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@dataclass
class World:
    client: Any
    people: dict[str, factories.Person]
    headers: dict[str, dict[str, str]]
    ids: dict[str, Any] = field(default_factory=dict)
    refresh_token: str = ""
    org_a_strings: list[str] = field(default_factory=list)


@pytest.fixture
def world(client, outbox) -> World:
    from hr_portal.core import mail
    from hr_portal.employees.models import Employee
    from hr_portal.leave import service as leave_service
    from hr_portal.notifications.models import Notification

    with Session(get_engine(), expire_on_commit=False) as s:
        org = factories.create_organization(s, name=f"Org A {ORG_A_MARK}")
        admin = factories.create_person(s, org, role=factories.Role.admin, last_name=f"Admin{ORG_A_MARK}")
        hr = factories.create_person(s, org, role=factories.Role.hr_manager, manager=admin,
                                     last_name=f"Hr{ORG_A_MARK}")
        manager = factories.create_person(s, org, role=factories.Role.manager, manager=admin,
                                          last_name=f"Manager{ORG_A_MARK}")
        employee = factories.create_person(s, org, role=factories.Role.employee, manager=manager,
                                           last_name=f"Employee{ORG_A_MARK}")
        types = leave_service.ensure_default_types(s, org.id)
        today = dt.date.today()
        for emp in s.exec(select(Employee).where(Employee.organization_id == org.id)).all():
            leave_service.grant_entitlements(s, emp, today=today, types=types)
        s.add(Notification(organization_id=org.id, user_id=employee.user_id, kind="leave.applied",
                           title=f"Private note {ORG_A_MARK}", body=f"For the employee only {ORG_A_MARK}"))
        failed = mail.enqueue(s, to=employee.email, subject=f"Welcome {ORG_A_MARK}", text="x", html_body="<p>x</p>",
                              organization_id=org.id, kind="welcome")
        s.flush()
        failed.status, failed.attempts, failed.last_error = "failed", 5, "SMTP down"
        s.add(failed)
        s.commit()
        people = {"admin": admin, "hr_manager": hr, "manager": manager, "employee": employee}
        unpaid = next(t for t in types if not t.paid)
        annual = next(t for t in types if t.paid)
        ids = {"org_a": org.id, "company_a": org.company.id, "mail": failed.id, "unpaid_type": unpaid.id,
               "annual_type": annual.id}
        notification_id = s.exec(select(Notification.id).where(Notification.user_id == employee.user_id)).one()
        ids["notification"] = notification_id

    headers = {"anonymous": {}}
    for role, person in people.items():
        headers[role] = factories.login_headers(client, person)
    refresh = factories.login(client, employee.email)["refreshToken"]
    outsider = factories.register(client, organizationName="Org B Outside", lastName="Outsider")
    assert outsider.status_code == 201, outsider.text
    headers["outsider"] = factories.bearer(outsider.json()["data"]["accessToken"])
    ids["outsider_employee"] = outsider.json()["data"]["user"]["employeeId"]
    for role, person in people.items():
        ids[f"{role}_employee"] = person.employee_id

    # The employee's own pending records, made through the API as real clients make them.
    leave_day = _working_day_after(dt.date.today(), 21)
    r = client.post(f"{API}/leave", headers=headers["employee"], json={
        "leaveTypeId": ids["unpaid_type"], "startDate": leave_day.isoformat(), "endDate": leave_day.isoformat(),
        "reason": f"Private reason {ORG_A_MARK}"})
    assert r.status_code == 201, r.text
    ids["leave"] = r.json()["data"]["id"]
    # The hr_manager's own leave and correction: outside the manager's team, invisible to the employee.
    r = client.post(f"{API}/leave", headers=headers["hr_manager"], json={
        "leaveTypeId": ids["unpaid_type"], "startDate": leave_day.isoformat(), "endDate": leave_day.isoformat(),
        "reason": f"Hr reason {ORG_A_MARK}"})
    assert r.status_code == 201, r.text
    ids["hr_leave"] = r.json()["data"]["id"]
    work_day = _working_day_before(dt.date.today(), 3)
    r = client.post(f"{API}/attendance/regularization", headers=headers["employee"], json={
        "date": work_day.isoformat(), "checkIn": "09:00", "checkOut": "17:00", "reason": f"Forgot {ORG_A_MARK}"})
    assert r.status_code == 201, r.text
    ids["correction"] = r.json()["data"]["id"]
    r = client.post(f"{API}/attendance/regularization", headers=headers["hr_manager"], json={
        "date": work_day.isoformat(), "checkIn": "09:00", "checkOut": "17:00", "reason": f"Hr forgot {ORG_A_MARK}"})
    assert r.status_code == 201, r.text
    ids["hr_correction"] = r.json()["data"]["id"]
    r = client.put(f"{API}/employees/{employee.employee_id}/photo", headers=headers["employee"],
                   files={"file": ("me.png", io.BytesIO(PNG), "image/png")})
    assert r.status_code == 200, r.text
    ids["photo_file"] = r.json()["data"]["photoUrl"].rstrip("/").rsplit("/", 1)[-1].split("?")[0]

    strings = [ORG_A_MARK, *(p.email for p in people.values())]
    return World(client=client, people=people, headers=headers, ids=ids, refresh_token=refresh,
                 org_a_strings=strings)


def digest(world: World) -> tuple:
    """What the endpoints can change in org A (a refused call must leave it as it was)."""
    from hr_portal.attendance.models import AttendanceCorrection, AttendanceRecord
    from hr_portal.auth.models import User
    from hr_portal.core import events
    from hr_portal.core.mail import OutboxEmail
    from hr_portal.employees.models import Employee
    from hr_portal.leave.models import LeaveRequest
    from hr_portal.notifications.models import Notification, NotificationPreference

    events.drain()  # notifications of the previous (allowed) call are written after its commit, off the request
    org_id = world.ids["org_a"]
    with Session(get_engine()) as s:
        def rows(stmt):
            return tuple(tuple(r) for r in s.exec(stmt).all())

        return (
            rows(select(Employee.id, Employee.status, Employee.phone, Employee.first_name, Employee.manager_id,
                        Employee.department_id, Employee.designation, Employee.photo_file_id)
                 .where(Employee.organization_id == org_id).order_by(Employee.id)),
            rows(select(User.id, User.role, User.is_active, User.organization_id).where(User.organization_id == org_id)
                 .order_by(User.id)),
            rows(select(LeaveRequest.id, LeaveRequest.status).where(LeaveRequest.organization_id == org_id)
                 .order_by(LeaveRequest.id)),
            rows(select(AttendanceCorrection.id, AttendanceCorrection.status)
                 .where(AttendanceCorrection.organization_id == org_id).order_by(AttendanceCorrection.id)),
            rows(select(AttendanceRecord.id).where(AttendanceRecord.organization_id == org_id)),
            rows(select(Notification.id, Notification.read_at).where(Notification.organization_id == org_id)
                 .order_by(Notification.id)),
            rows(select(NotificationPreference.id, NotificationPreference.kind, NotificationPreference.channel)
                 .where(NotificationPreference.organization_id == org_id).order_by(NotificationPreference.id)),
            rows(select(OutboxEmail.id, OutboxEmail.status).where(OutboxEmail.id == world.ids["mail"])),
        )


# ------------------------------------------------------------------------------------------ table

A, E, M, H, AD, OUT = "anonymous", "employee", "manager", "hr_manager", "admin", "outsider"


def expect(anonymous: int, employee: int, manager: int, hr_manager: int, admin: int, outsider: int) -> dict[str, int]:
    return {A: anonymous, E: employee, M: manager, H: hr_manager, AD: admin, OUT: outsider}


@dataclass
class Case:
    expected: dict[str, int]
    path_params: Callable[[World], dict[str, Any]] = lambda w: {}
    json: Callable[[World], Any] | None = None
    query: Callable[[World], dict[str, Any]] | None = None
    files: Callable[[World], dict[str, Any]] | None = None
    note: str = ""
    # Public endpoints that answer with the account whose credentials the body carries (login,
    # refresh): that org A data is the caller's own, so the leak check does not apply.
    answers_for_credentials: bool = False


def _new_person(w: World) -> dict[str, Any]:
    # Mass assignment is tried here too: role/organizationId/status must not be taken from the body
    # beyond what the contract allows (role is an allowed field of create).
    return {"firstName": "New", "lastName": "Hire", "email": factories.unique_email("hire"),
            "managerId": w.ids["manager_employee"]}


# Key: (method, path) or (method, path, variant) for a second target of the same route.
MATRIX: dict[tuple[str, ...], Case] = {
    # ---- public and documentation
    ("GET", "/api/v1/health"): Case(expect(200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/openapi.json"): Case(expect(200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/docs"): Case(expect(200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/redoc"): Case(expect(200, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/{path:path}"): Case(expect(404, 404, 404, 404, 404, 404),
                                         path_params=lambda w: {"path:path": "no-such-thing"}),
    # ---- auth (public endpoints answer the same whoever calls; logout needs a token)
    ("POST", "/api/v1/auth/register"): Case(expect(201, 201, 201, 201, 201, 201),
                                            json=lambda w: factories.register_body()),
    ("POST", "/api/v1/auth/login"): Case(expect(200, 200, 200, 200, 200, 200),
                                         json=lambda w: {"email": w.people["employee"].email,
                                                         "password": factories.PASSWORD},
                                         answers_for_credentials=True),
    ("POST", "/api/v1/auth/logout"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/auth/refresh-token"): Case(expect(200, 200, 200, 200, 200, 200),
                                                 json=lambda w: {"refreshToken": w.refresh_token},
                                                 answers_for_credentials=True),
    ("POST", "/api/v1/auth/password-reset/request"): Case(expect(200, 200, 200, 200, 200, 200),
                                                          json=lambda w: {"email": w.people["employee"].email}),
    ("POST", "/api/v1/auth/password-reset/confirm"): Case(expect(400, 400, 400, 400, 400, 400),
                                                          json=lambda w: {"token": "not-a-token",
                                                                          "newPassword": "Another-pass-2026"}),
    # ---- employees (target: the employee, who reports to the manager)
    ("POST", "/api/v1/employees"): Case(expect(401, 403, 403, 201, 201, 400), json=_new_person,
                                        note="outsider: org A's managerId 'does not exist' (400) in org B"),
    ("GET", "/api/v1/employees"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/employees/{employee_id}"): Case(
        expect(401, 404, 404, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["hr_manager_employee"]},
        note="target hr_manager: not the employee's nor the manager's to see"),
    ("PUT", "/api/v1/employees/{employee_id}"): Case(
        expect(401, 200, 403, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["employee_employee"]},
        json=lambda w: {"phone": "+1 555 0100"}, note="an employee may change their own phone"),
    ("DELETE", "/api/v1/employees/{employee_id}"): Case(
        expect(401, 403, 403, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["employee_employee"]}),
    ("PUT", "/api/v1/employees/{employee_id}/photo"): Case(
        expect(401, 404, 200, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["manager_employee"]},
        files=lambda w: {"file": ("p.png", io.BytesIO(PNG), "image/png")},
        note="target: the manager's photo (own photo, or admin/hr; the employee cannot see the manager)"),
    ("DELETE", "/api/v1/employees/{employee_id}/photo"): Case(
        expect(401, 200, 403, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["employee_employee"]}),
    ("GET", "/api/v1/files/{file_id}"): Case(
        expect(401, 200, 200, 200, 200, 404), path_params=lambda w: {"file_id": w.ids["photo_file"]},
        note="a photo is visible inside its organization"),
    # ---- attendance (self-service writes act on the caller; the outsider acts in org B)
    ("POST", "/api/v1/attendance/check-in"): Case(expect(401, 201, 201, 201, 201, 201)),
    ("POST", "/api/v1/attendance/check-out"): Case(expect(401, 409, 409, 409, 409, 409),
                                                   note="nobody is checked in"),
    ("GET", "/api/v1/attendance"): Case(expect(401, 200, 200, 200, 200, 404),
                                        query=lambda w: {"employeeId": w.ids["employee_employee"]}),
    ("POST", "/api/v1/attendance/regularization"): Case(
        expect(401, 409, 201, 409, 201, 400),
        json=lambda w: {"date": _working_day_before(dt.date.today(), 3).isoformat(), "checkIn": "09:00",
                        "checkOut": "17:00", "reason": "Forgot"},
        note="employee, hr_manager: a pending correction for that day exists; outsider: before they joined"),
    ("GET", "/api/v1/attendance/regularization"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("PUT", "/api/v1/attendance/regularization/{correction_id}/approve"): Case(
        expect(401, 403, 200, 200, 200, 404), path_params=lambda w: {"correction_id": w.ids["correction"]},
        json=lambda w: {"status": "approved"}),
    ("DELETE", "/api/v1/attendance/regularization/{correction_id}"): Case(
        expect(401, 200, 404, 404, 404, 404), path_params=lambda w: {"correction_id": w.ids["correction"]}),
    ("GET", "/api/v1/attendance/summary"): Case(expect(401, 200, 200, 200, 200, 404),
                                                query=lambda w: {"employeeId": w.ids["employee_employee"]}),
    # ---- leave (target: the employee's pending leave)
    ("GET", "/api/v1/leave/types"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/leave/balance"): Case(expect(401, 200, 200, 200, 200, 404),
                                           query=lambda w: {"employeeId": w.ids["employee_employee"]}),
    ("POST", "/api/v1/leave/attachments"): Case(expect(401, 201, 201, 201, 201, 201),
                                                files=lambda w: {"file": ("a.png", io.BytesIO(PNG), "image/png")}),
    ("POST", "/api/v1/leave"): Case(
        expect(401, 201, 201, 201, 201, 404),
        json=lambda w: {"leaveTypeId": w.ids["unpaid_type"],
                        "startDate": _working_day_after(dt.date.today(), 35).isoformat(),
                        "endDate": _working_day_after(dt.date.today(), 35).isoformat(), "reason": "Trip"},
        note="outsider: org A's leave type does not exist in org B"),
    ("GET", "/api/v1/leave"): Case(expect(401, 200, 200, 200, 200, 200),
                                   query=lambda w: {"employeeId": w.ids["employee_employee"]}),
    ("GET", "/api/v1/leave/{leave_id}"): Case(expect(401, 200, 200, 200, 200, 404),
                                              path_params=lambda w: {"leave_id": w.ids["leave"]}),
    ("PUT", "/api/v1/leave/{leave_id}/approve"): Case(
        expect(401, 403, 200, 200, 200, 404), path_params=lambda w: {"leave_id": w.ids["leave"]},
        json=lambda w: {"status": "approved"}, note="never the requester"),
    ("DELETE", "/api/v1/leave/{leave_id}"): Case(
        expect(401, 200, 403, 403, 403, 404), path_params=lambda w: {"leave_id": w.ids["leave"]},
        note="only the requester cancels"),
    # ---- second targets: the hr_manager's records (outside the manager's team, not the employee's)
    ("GET", "/api/v1/employees/{employee_id}", "team member"): Case(
        expect(401, 200, 200, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["employee_employee"]},
        note="target: the employee (self; the manager's direct report)"),
    ("PUT", "/api/v1/employees/{employee_id}", "outside team"): Case(
        expect(401, 404, 404, 200, 200, 404), path_params=lambda w: {"employee_id": w.ids["hr_manager_employee"]},
        json=lambda w: {"phone": "+1 555 0199"}),
    ("GET", "/api/v1/attendance", "outside team"): Case(
        expect(401, 404, 404, 200, 200, 404), query=lambda w: {"employeeId": w.ids["hr_manager_employee"]}),
    ("GET", "/api/v1/attendance/summary", "outside team"): Case(
        expect(401, 404, 404, 200, 200, 404), query=lambda w: {"employeeId": w.ids["hr_manager_employee"]}),
    ("PUT", "/api/v1/attendance/regularization/{correction_id}/approve", "outside team"): Case(
        expect(401, 403, 404, 403, 200, 404), path_params=lambda w: {"correction_id": w.ids["hr_correction"]},
        json=lambda w: {"status": "approved"}, note="nobody decides their own; the manager is not hr's approver"),
    ("GET", "/api/v1/leave/balance", "outside team"): Case(
        expect(401, 404, 404, 200, 200, 404), query=lambda w: {"employeeId": w.ids["hr_manager_employee"]}),
    ("GET", "/api/v1/leave/{leave_id}", "outside team"): Case(
        expect(401, 404, 404, 200, 200, 404), path_params=lambda w: {"leave_id": w.ids["hr_leave"]}),
    ("PUT", "/api/v1/leave/{leave_id}/approve", "outside team"): Case(
        expect(401, 403, 404, 403, 200, 404), path_params=lambda w: {"leave_id": w.ids["hr_leave"]},
        json=lambda w: {"status": "approved"}, note="never the requester; the manager is not hr's approver"),
    ("DELETE", "/api/v1/leave/{leave_id}", "outside team"): Case(
        expect(401, 404, 404, 200, 403, 404), path_params=lambda w: {"leave_id": w.ids["hr_leave"]},
        note="only the requester cancels"),
    # ---- reports
    ("GET", "/api/v1/reports/attendance-sheet"): Case(
        expect(401, 403, 200, 200, 200, 400),
        query=lambda w: {"month": dt.date.today().strftime("%Y-%m"), "companyId": w.ids["company_a"]},
        note="a manager gets their team; for the outsider org A's company is 'unknown' (400)"),
    # ---- notifications (target: the employee's notification; the org A mail outbox)
    ("GET", "/api/v1/notifications"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/notifications/unread-count"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/notifications/read-all"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Case(
        expect(401, 200, 404, 404, 404, 404), path_params=lambda w: {"notification_id": w.ids["notification"]}),
    ("GET", "/api/v1/notifications/preferences"): Case(expect(401, 200, 200, 200, 200, 200)),
    ("PUT", "/api/v1/notifications/preferences"): Case(expect(401, 200, 200, 200, 200, 200),
                                                       json=lambda w: {"kind": "celebration", "channel": "off"}),
    ("GET", "/api/v1/notifications/outbox"): Case(expect(401, 403, 403, 403, 200, 200)),
    ("POST", "/api/v1/notifications/outbox/{mail_id}/resend"): Case(
        expect(401, 403, 403, 403, 200, 404), path_params=lambda w: {"mail_id": w.ids["mail"]}),
}

# Routes that are not operations on data: the static documentation assets.
NOT_OPERATIONS = {("MOUNT", "/api/v1/static-docs")}


def api_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves under /api/v1, routers included (FastAPI keeps
    included routers as nested entries: flatten them)."""
    found: set[tuple[str, str]] = set()

    def add(path: str, methods) -> None:
        if path.startswith(API):
            for method in methods or ["MOUNT"]:
                if method != "HEAD":
                    found.add((method, path))

    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                add(ctx.path, getattr(ctx.original_route, "methods", None))
        else:
            add(getattr(route, "path", ""), getattr(route, "methods", None))
    return found


def test_every_api_route_has_a_matrix_entry(api_app):
    routes = api_routes(api_app) - NOT_OPERATIONS
    # The catch-all answers every method the same way; one entry (GET) stands for all of them.
    routes = {(m, p) for m, p in routes if p != "/api/v1/{path:path}" or m == "GET"}
    covered = {key[:2] for key in MATRIX}
    missing = routes - covered
    assert not missing, f"routes without an authorization-matrix entry (deny by default): {sorted(missing)}"
    stale = covered - routes
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


CASES = [(key, role) for key in MATRIX for role in ROLES]


def _url(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(params[m.group(1)]), path)


@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{' '.join(k)} {r}" for k, r in CASES])
def test_matrix(world: World, key: tuple[str, ...], role: str):
    method, path = key[:2]
    case = MATRIX[key]
    before = digest(world)
    kwargs: dict[str, Any] = {"headers": world.headers[role]}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    if case.query is not None:
        kwargs["params"] = case.query(world)
    if case.files is not None:
        kwargs["files"] = case.files(world)
    response = world.client.request(method, _url(path, case.path_params(world)), **kwargs)
    expected = case.expected[role]
    assert response.status_code == expected, (
        f"{method} {path} as {role}: {response.status_code}, expected {expected} ({case.note}): {response.text[:300]}")
    # Personal data must never be kept by a browser or a shared cache: every API answer, allowed or not.
    assert "no-store" in response.headers.get("cache-control", ""), response.headers
    if role in (OUT, A) and not case.answers_for_credentials:
        body = response.text
        leaked = [s for s in world.org_a_strings if s in body]
        assert not leaked, f"{method} {path} as {role} returned org A data {leaked}: {body[:300]}"
    if response.status_code >= 400:
        assert digest(world) == before, f"{method} {path} as {role} was refused ({response.status_code}) but changed data"
