"""Any listener subscribed with core/events.subscribe (not only durable ones) is retried after a failure."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from hr_portal.core import events
from hr_portal.core.db import utcnow
from hr_portal.notifications import reliable
from hr_portal.notifications.models import ListenerFailure

CALLS: list[dict] = []
FAIL = {"on": True}


def flaky_listener(name, payload):
    CALLS.append(payload)
    if FAIL["on"]:
        raise RuntimeError("temporarily broken")


def test_a_plain_listener_failure_is_recorded_and_retried(db):
    events.subscribe("tests.plain_event", flaky_listener)
    try:
        FAIL["on"] = True
        events.dispatch("tests.plain_event", {"organization_id": None, "x": 1})
        row = db.exec(select(ListenerFailure).where(ListenerFailure.event_name == "tests.plain_event")).one()
        assert row.listener.endswith("test_reliable_any.flaky_listener") and row.status == "pending"
        db.commit()
        reliable._DURABLE.pop(row.listener, None)  # as in another process: found again by name
        FAIL["on"] = False
        assert reliable.retry_failed_listeners(session=db, now=utcnow() + timedelta(hours=1)) == 1
        db.expire_all()
        assert db.get(ListenerFailure, row.id).status == "done"
        assert CALLS[-1] == {"organization_id": None, "x": 1}
    finally:
        events.unsubscribe("tests.plain_event", flaky_listener)
