"""Background event listeners (core/events.py): run after the outermost commit on the event worker, not in
the committing thread; in commit order; savepoint-aware like inline ones; failures go to the failure
handler; `drain()` waits for them."""

from __future__ import annotations

import threading

import pytest

from hr_portal.core import events

EVENT = "test.background_event"


@pytest.fixture
def worker_seen():
    seen: list[tuple[str, str]] = []  # (tag, thread name)
    gate = threading.Event()
    gate.set()

    def listener(_name, payload):
        assert gate.wait(30)
        seen.append((payload["tag"], threading.current_thread().name))

    events.subscribe(EVENT, listener, background=True)
    yield seen, gate
    gate.set()
    events.drain()
    events.unsubscribe(EVENT, listener)


def _publish(session, tag: str) -> None:
    events.publish(session, EVENT, tag=tag, organization_id=None, actor_user_id=None)


def test_a_background_listener_runs_after_the_commit_on_the_event_worker(db, worker_seen):
    seen, gate = worker_seen
    gate.clear()  # the listener waits: the commit must return without it
    _publish(db, "one")
    db.commit()
    assert seen == []
    with pytest.raises(TimeoutError):
        events.drain(timeout=0.2)
    gate.set()
    events.drain()
    assert [tag for tag, _ in seen] == ["one"]
    assert seen[0][1].startswith("events") and seen[0][1] != threading.current_thread().name


def test_background_events_keep_commit_order_and_follow_savepoints(db, worker_seen):
    seen, _gate = worker_seen
    _publish(db, "first")
    db.commit()
    _publish(db, "outer")
    dropped = db.begin_nested()
    _publish(db, "dropped")
    dropped.rollback()
    with db.begin_nested():
        _publish(db, "kept")
    db.commit()
    _publish(db, "rolled back")
    db.rollback()
    events.drain()
    assert [tag for tag, _ in seen] == ["first", "outer", "kept"]


def test_inline_listeners_still_run_in_the_committing_thread(db, worker_seen):
    inline: list[str] = []

    def listener(_name, payload):
        inline.append(threading.current_thread().name)

    events.subscribe(EVENT, listener)
    try:
        _publish(db, "both")
        db.commit()
        assert inline == [threading.current_thread().name]
    finally:
        events.unsubscribe(EVENT, listener)
    events.drain()
    assert [tag for tag, _ in worker_seen[0]] == ["both"]


def test_a_failing_background_listener_goes_to_the_failure_handler(db, monkeypatch):
    failures: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "_failure_handler",
                        lambda name, _listener, payload, exc: failures.append((payload["tag"], str(exc))))

    def broken(_name, _payload):
        raise RuntimeError("smtp down")

    events.subscribe(EVENT, broken, background=True)
    try:
        _publish(db, "x")
        db.commit()  # never raises into the caller
        events.drain()
    finally:
        events.unsubscribe(EVENT, broken)
    assert failures == [("x", "smtp down")]
    assert broken not in events._background  # unsubscribed everywhere: forgotten


def test_dispatch_runs_background_listeners_in_the_calling_thread(worker_seen):
    events.dispatch(EVENT, {"tag": "now"})
    assert worker_seen[0] == [("now", threading.current_thread().name)]
