"""What a leave decision costs the request that makes it (issue 9, docs/performance.md): the statements run
by the thread that handles PUT /leave/{id}/approve, and that the in-app notification and the mail are
written after the commit by the event worker (core/events.py background listeners), not by that thread."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from hr_portal.core import events
from hr_portal.core.db import get_engine
from hr_portal.core.mail import OutboxEmail
from hr_portal.notifications.models import Notification
from tests.factories import API, login_headers

# Authentication (token checks: 3-4), the decision (request + employee + company + type + actor's name in one
# SELECT, UPDATE, INSERT decision, holidays, INSERT ledger, INSERT audit, the queues to tell) and SQLite's
# BEGIN. Before this work: 31 on PostgreSQL (4 authentication, 14 the decision's own, 13 the notification
# listener's after the commit, all in the request's thread).
MAX_REQUEST_STATEMENTS = 12


@pytest.fixture
def statements():
    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, sql, _params, _context, _many):
        seen.append((threading.current_thread().name, " ".join(sql.split())))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _request_thread(seen: list[tuple[str, str]]) -> list[str]:
    return [sql for thread, sql in seen if not thread.startswith(("events", "mail-delivery"))]


def test_an_approval_runs_few_statements_and_leaves_notifications_to_the_event_worker(
        client, leave_org, outbox, statements):
    people = leave_org["people"]
    headers = {k: login_headers(client, people[k]) for k in ("employee", "manager")}
    applied = client.post(f"{API}/leave", json={"leaveTypeId": leave_org["types"]["Annual"].id,
                                                "startDate": "2030-03-11", "endDate": "2030-03-12"},
                          headers=headers["employee"])
    assert applied.status_code == 201, applied.text
    events.drain()
    statements.clear()

    r = client.put(f"{API}/leave/{applied.json()['data']['id']}/approve", json={"status": "approved",
                                                                                 "comment": "Enjoy"},
                   headers=headers["manager"])
    answered = list(statements)  # everything run until the answer arrived, on any thread

    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "approved" and r.json()["data"]["approverName"] == "Manager Tester"
    mine = _request_thread(answered)
    listing = "\n".join(mine)
    assert len(mine) <= MAX_REQUEST_STATEMENTS, f"{len(mine)} statements:\n{listing}"
    assert not any(s.startswith(("INSERT INTO notifications", "INSERT INTO outbox_emails",
                                 "INSERT INTO notification_keys")) for s in mine), listing
    events.drain()
    worker = [sql for thread, sql in statements if thread.startswith("events")]
    assert any(s.startswith("INSERT INTO notifications") for s in worker)
    with Session(get_engine()) as s:
        [note] = s.exec(select(Notification).where(Notification.user_id == people["employee"].user_id)).all()
        assert note.kind == "leave_decision" and "Enjoy" in note.body
        assert s.exec(select(OutboxEmail).where(OutboxEmail.to_address == people["employee"].email,
                                                OutboxEmail.kind == "leave_decision")).first() is not None
