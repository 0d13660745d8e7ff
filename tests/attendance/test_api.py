"""The legacy /api/v1/attendance endpoints, exactly as API_CONTRACT.md describes them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from hr_portal.attendance.models import AttendancePunch, AttendanceRecord
from hr_portal.core.db import get_engine, utcnow
from tests.factories import API, login_headers

ATTENDANCE_KEYS = {"id", "employeeId", "date", "checkIn", "checkOut", "workHours", "status", "notes"}
REGULARIZATION_KEYS = {"id", "employeeId", "date", "checkIn", "checkOut", "reason", "status"}
SUMMARY_KEYS = {"employeeId", "month", "workingDays", "presentDays", "absentDays", "lateDays", "leaveDays", "holidays",
                "totalWorkHours", "averageWorkHours"}


@pytest.fixture
def emp_headers(client, people):
    return login_headers(client, people["employee"])


def _past_weekday(days_back: int = 7) -> date:
    day = utcnow().date() - timedelta(days=days_back)
    while day.isoweekday() > 5:
        day -= timedelta(days=1)
    return day


def test_check_in_returns_201_with_the_attendance_shape_and_stores_ip_and_user_agent(client, people, emp_headers):
    r = client.post(f"{API}/attendance/check-in", json={"notes": "From the train", "latitude": 48.1, "longitude": 11.6},
                    headers={**emp_headers, "User-Agent": "LegacyMobile/3.2"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True and set(body["data"]) >= ATTENDANCE_KEYS
    data = body["data"]
    assert data["employeeId"] == people["employee"].employee_id and data["checkOut"] is None
    assert data["status"] in ("present", "late") and data["notes"] == "From the train"
    assert data["checkIn"].endswith("+00:00")
    with Session(get_engine()) as s:
        punch = s.exec(select(AttendancePunch)).one()
    assert (punch.source.value, punch.user_agent, punch.latitude) == ("api", "LegacyMobile/3.2", 48.1)
    assert punch.ip


def test_check_in_without_a_body_works(client, emp_headers):
    assert client.post(f"{API}/attendance/check-in", headers=emp_headers).status_code == 201


def test_double_check_in_is_409_with_the_error_envelope(client, emp_headers):
    client.post(f"{API}/attendance/check-in", headers=emp_headers)
    r = client.post(f"{API}/attendance/check-in", headers=emp_headers)
    assert r.status_code == 409
    assert r.json()["success"] is False and r.json()["error"]["code"] == "CONFLICT"
    assert "already checked in" in r.json()["message"]


def test_check_out_returns_work_hours_and_409_when_not_checked_in(client, emp_headers):
    r = client.post(f"{API}/attendance/check-out", headers=emp_headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    client.post(f"{API}/attendance/check-in", headers=emp_headers)
    r = client.post(f"{API}/attendance/check-out", json={"notes": "bye"}, headers=emp_headers)
    assert r.status_code == 200
    data = r.json()["data"]
    assert isinstance(data["workHours"], float) and data["checkOut"] is not None


def test_bad_coordinates_are_400_with_field_details(client, emp_headers):
    r = client.post(f"{API}/attendance/check-in", json={"latitude": 123, "longitude": 0}, headers=emp_headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert r.json()["error"]["details"][0]["field"] == "latitude"


def test_every_endpoint_needs_a_token(client, clean_database):
    for method, path in [("post", "/attendance/check-in"), ("post", "/attendance/check-out"), ("get", "/attendance"),
                         ("post", "/attendance/regularization"), ("get", "/attendance/summary")]:
        r = getattr(client, method)(f"{API}{path}")
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "UNAUTHORIZED"


def _seed_records(people):
    """Two closed records for the employee, one for the manager, on past weekdays."""
    with Session(get_engine()) as s:
        for emp, day, status in [(people["employee"], date(2026, 10, 5), "present"),
                                 (people["employee"], date(2026, 10, 6), "late"),
                                 (people["manager"], date(2026, 10, 5), "present")]:
            from datetime import UTC, datetime

            start = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            s.add(AttendanceRecord(organization_id=emp.organization_id, employee_id=emp.employee_id, work_date=day,
                                   check_in=start, check_out=start + timedelta(hours=8), work_seconds=8 * 3600,
                                   status=status, is_late=status == "late"))
        s.commit()


def test_list_is_paginated_filtered_and_scoped(client, people, emp_headers):
    _seed_records(people)
    r = client.get(f"{API}/attendance", params={"limit": 1}, headers=emp_headers)
    assert r.status_code == 200
    body = r.json()
    assert body["pagination"] == {"page": 1, "limit": 1, "total": 2, "totalPages": 2}
    assert set(body["data"][0]) >= ATTENDANCE_KEYS and body["data"][0]["workHours"] == 8.0
    late = client.get(f"{API}/attendance", params={"status": "late"}, headers=emp_headers).json()
    assert [d["date"] for d in late["data"]] == ["2026-10-06"]
    ranged = client.get(f"{API}/attendance", params={"startDate": "2026-10-06", "endDate": "2026-10-31"},
                        headers=emp_headers).json()
    assert ranged["pagination"]["total"] == 1
    # The employee cannot read the manager's records; the manager reads the employee's.
    r = client.get(f"{API}/attendance", params={"employeeId": people["manager"].employee_id}, headers=emp_headers)
    assert r.status_code == 404
    mgr = login_headers(client, people["manager"])
    r = client.get(f"{API}/attendance", params={"employeeId": people["employee"].employee_id}, headers=mgr)
    assert r.json()["pagination"]["total"] == 2
    admin = login_headers(client, people["admin"])
    assert client.get(f"{API}/attendance", headers=admin).json()["pagination"]["total"] == 3


@pytest.mark.parametrize("params", [{"status": "sleeping"}, {"page": 0}, {"limit": 101}, {"startDate": "yesterday"},
                                    {"startDate": "2026-10-10", "endDate": "2026-10-01"}, {"employeeId": "x"}])
def test_bad_list_queries_are_400(client, emp_headers, params):
    r = client.get(f"{API}/attendance", params=params, headers=emp_headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_regularization_returns_201_pending_with_the_contract_shape(client, people, emp_headers):
    day = _past_weekday()
    r = client.post(f"{API}/attendance/regularization", headers=emp_headers, json={
        "date": day.isoformat(), "checkIn": f"{day.isoformat()}T09:00:00+00:00",
        "checkOut": f"{day.isoformat()}T17:30:00+00:00", "reason": "Badge reader was down"})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert set(data) >= REGULARIZATION_KEYS
    assert data["status"] == "pending" and data["employeeId"] == people["employee"].employee_id
    assert data["checkIn"] == f"{day.isoformat()}T09:00:00+00:00" and data["date"] == day.isoformat()
    again = client.post(f"{API}/attendance/regularization", headers=emp_headers, json={
        "date": day.isoformat(), "checkIn": "08:00", "checkOut": "16:00", "reason": "Second try"})
    assert again.status_code == 409


def test_regularization_accepts_local_times_and_refuses_bad_bodies(client, emp_headers):
    day = _past_weekday(8)
    ok = client.post(f"{API}/attendance/regularization", headers=emp_headers,
                     json={"date": day.isoformat(), "checkIn": "09:05", "checkOut": "17:35", "reason": "Forgot"})
    assert ok.status_code == 201 and ok.json()["data"]["checkOut"].endswith("17:35:00+00:00")
    for body in [{"date": day.isoformat(), "checkIn": "09:00", "reason": "x y z"},
                 {"date": "tomorrow", "checkIn": "09:00", "checkOut": "10:00", "reason": "abc"},
                 {"date": (utcnow().date() + timedelta(days=2)).isoformat(), "checkIn": "09:00", "checkOut": "10:00",
                  "reason": "future"},
                 {"date": _past_weekday(9).isoformat(), "checkIn": "17:00", "checkOut": "25:00", "reason": "abc"}]:
        r = client.post(f"{API}/attendance/regularization", headers=emp_headers, json=body)
        assert r.status_code == 400, body


def test_manager_approves_through_the_additive_endpoint_and_the_record_appears(client, people, emp_headers):
    day = _past_weekday()
    rid = client.post(f"{API}/attendance/regularization", headers=emp_headers, json={
        "date": day.isoformat(), "checkIn": "09:00", "checkOut": "17:00", "reason": "Forgot"}).json()["data"]["id"]
    assert client.put(f"{API}/attendance/regularization/{rid}/approve", headers=emp_headers,
                      json={"status": "approved"}).status_code == 403
    mgr = login_headers(client, people["manager"])
    r = client.put(f"{API}/attendance/regularization/{rid}/approve", headers=mgr, json={"status": "approved"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "approved"
    again = client.put(f"{API}/attendance/regularization/{rid}/approve", headers=mgr, json={"status": "rejected",
                                                                                           "comment": "no"})
    assert again.status_code == 409
    listed = client.get(f"{API}/attendance", params={"startDate": day.isoformat(), "endDate": day.isoformat()},
                        headers=emp_headers).json()["data"]
    assert listed[0]["workHours"] == 8.0 and listed[0]["corrected"] is True
    mine = client.get(f"{API}/attendance/regularization", headers=emp_headers).json()
    assert mine["data"][0]["status"] == "approved"


def test_manager_outside_the_team_gets_404_when_deciding(client, org, people, make_person):
    from hr_portal.auth.models import Role

    other_manager = make_person(org, role=Role.manager)
    emp_headers = login_headers(client, people["employee"])
    day = _past_weekday()
    rid = client.post(f"{API}/attendance/regularization", headers=emp_headers, json={
        "date": day.isoformat(), "checkIn": "09:00", "checkOut": "17:00", "reason": "Forgot"}).json()["data"]["id"]
    r = client.put(f"{API}/attendance/regularization/{rid}/approve", headers=login_headers(client, other_manager),
                   json={"status": "approved"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_summary_has_the_contract_fields(client, people, emp_headers):
    _seed_records(people)
    r = client.get(f"{API}/attendance/summary", params={"month": "2026-10"}, headers=emp_headers)
    assert r.status_code == 200
    data = r.json()["data"]
    assert set(data) >= SUMMARY_KEYS
    assert data["month"] == "2026-10" and data["workingDays"] == 22 and data["presentDays"] == 2
    assert data["lateDays"] == 1 and data["totalWorkHours"] == 16.0 and data["averageWorkHours"] == 8.0
    assert data["absentDays"] == 20 and data["holidays"] == 0 and data["leaveDays"] == 0
    default = client.get(f"{API}/attendance/summary", headers=emp_headers).json()["data"]
    assert default["month"] == utcnow().strftime("%Y-%m")


def test_summary_refuses_a_bad_month_and_foreign_employees(client, people, emp_headers, other_org, make_person):
    stranger = make_person(other_org)
    assert client.get(f"{API}/attendance/summary", params={"month": "2026-1"}, headers=emp_headers).status_code == 400
    admin = login_headers(client, people["admin"])
    r = client.get(f"{API}/attendance/summary", params={"employeeId": stranger.employee_id}, headers=admin)
    assert r.status_code == 404
    r = client.get(f"{API}/attendance/summary", params={"employeeId": people["employee"].employee_id}, headers=admin)
    assert r.status_code == 200
