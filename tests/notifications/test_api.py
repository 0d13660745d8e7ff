"""/api/v1/notifications: envelopes, scoping to the caller, validation, admin-only outbox."""

from __future__ import annotations

from sqlmodel import Session

from hr_portal.core.db import get_engine
from hr_portal.core.mail import OutboxEmail
from hr_portal.notifications import service
from tests.factories import API, login_headers
from tests.notifications.conftest import inbox, run


def _notify(org, user_id, n=1, kind="leave_request"):
    def work(session):
        for i in range(n):
            service.deliver(session, organization_id=org.id, user_ids=[user_id], kind=kind, title=f"n{i}",
                            link="/leave/approvals")
    run(work)


def test_the_caller_lists_and_counts_their_own_notifications(client, people, org):
    _notify(org, people["manager"].user_id, 3)
    _notify(org, people["employee"].user_id, 1)
    headers = login_headers(client, people["manager"])
    r = client.get(f"{API}/notifications", params={"limit": 2}, headers=headers)
    body = r.json()
    assert r.status_code == 200 and body["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2}
    assert body["data"][0]["title"] == "n2" and body["data"][0]["kindLabel"] == "Leave requests to approve"
    assert set(body["data"][0]) >= {"id", "kind", "title", "body", "link", "read", "readAt", "createdAt"}
    assert client.get(f"{API}/notifications/unread-count", headers=headers).json()["data"] == {"unread": 3}


def test_mark_read_and_read_all(client, people, org):
    _notify(org, people["manager"].user_id, 2)
    headers = login_headers(client, people["manager"])
    first = inbox(people["manager"].user_id)[0]
    r = client.post(f"{API}/notifications/{first.id}/read", headers=headers)
    assert r.status_code == 200 and r.json()["data"]["read"] is True
    r = client.post(f"{API}/notifications/read-all", headers=headers)
    assert r.json()["data"] == {"marked": 1}
    assert client.get(f"{API}/notifications", params={"unread": "true"}, headers=headers).json()["data"] == []


def test_someone_elses_notification_is_not_found(client, people, org):
    _notify(org, people["manager"].user_id)
    theirs = inbox(people["manager"].user_id)[0]
    r = client.post(f"{API}/notifications/{theirs.id}/read", headers=login_headers(client, people["admin"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"


def test_bad_queries_are_400_and_anonymous_calls_401(client, people):
    headers = login_headers(client, people["employee"])
    assert client.get(f"{API}/notifications", params={"kind": "secret"}, headers=headers).status_code == 400
    assert client.get(f"{API}/notifications", params={"limit": 500}, headers=headers).status_code == 400
    assert client.post(f"{API}/notifications/abc/read", headers=headers).status_code == 400
    assert client.get(f"{API}/notifications").status_code == 401


def test_preferences_round_trip_and_validation(client, people):
    headers = login_headers(client, people["employee"])
    r = client.put(f"{API}/notifications/preferences", json={"kind": "checkinReminder", "channel": "email"},
                   headers=headers)
    assert r.status_code == 400  # kinds are snake_case keys as listed by GET
    r = client.put(f"{API}/notifications/preferences", json={"kind": "checkin_reminder", "channel": "email"},
                   headers=headers)
    assert r.status_code == 200 and r.json()["data"]["channel"] == "email"
    r = client.put(f"{API}/notifications/preferences", json={"kind": "leave_decision", "channel": "off"},
                   headers=headers)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "channel"
    data = client.get(f"{API}/notifications/preferences", headers=headers).json()["data"]
    assert {p["kind"]: p["channel"] for p in data["preferences"]}["checkin_reminder"] == "email"
    assert data["shareCelebrations"] is True


def test_the_outbox_is_for_admins_only(client, people, org):
    with Session(get_engine(), expire_on_commit=False) as s:
        m = OutboxEmail(organization_id=org.id, to_address="x@example.com", subject="Hi", body_text="t",
                        body_html="h", status="failed", attempts=5, last_error="timeout")
        s.add(m)
        s.commit()
    assert client.get(f"{API}/notifications/outbox", headers=login_headers(client, people["hr_manager"])
                      ).status_code == 403
    admin = login_headers(client, people["admin"])
    r = client.get(f"{API}/notifications/outbox", params={"status": "failed"}, headers=admin)
    assert r.status_code == 200 and r.json()["data"][0]["lastError"] == "timeout"
    assert client.get(f"{API}/notifications/outbox", params={"status": "lost"}, headers=admin).status_code == 400
    r = client.post(f"{API}/notifications/outbox/{m.id}/resend", headers=admin)
    assert r.status_code == 200 and r.json()["data"]["status"] in ("pending", "sent")
    assert client.post(f"{API}/notifications/outbox/{m.id}/resend", headers=admin).status_code == 409
