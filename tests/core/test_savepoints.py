"""Events, live topics and the mail kick follow the OUTERMOST transaction, not SAVEPOINTs.

SQLAlchemy fires `after_commit` when a savepoint is released and `after_rollback` when one is rolled
back; core/txhooks.py makes a rolled-back savepoint drop only what was queued inside it and a
released one keep its items until the outer commit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hr_portal.core import events, live, mail, txhooks

EVENT = "test.savepoint_event"


@pytest.fixture
def dispatched():
    seen: list[str] = []

    def listener(_name, payload):
        seen.append(payload["tag"])

    events.subscribe(EVENT, listener)
    yield seen
    events.unsubscribe(EVENT, listener)


@pytest.fixture
def published(monkeypatch):
    seen: list[list[str]] = []
    monkeypatch.setattr(live.hub(), "publish", lambda topics: seen.append(list(topics)))
    return seen


@pytest.fixture
def kicks(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(mail, "_kick_after_commit",
                        lambda session: calls.append(1) if session.info.pop("mail_queued", False) else None)
    return calls


def _publish(session, tag: str) -> None:
    events.publish(session, EVENT, tag=tag, organization_id=None, actor_user_id=None)


def test_rolled_back_savepoint_drops_only_its_own_events(db, dispatched):
    _publish(db, "outer-before")
    savepoint = db.begin_nested()
    _publish(db, "inside")
    savepoint.rollback()
    _publish(db, "outer-after")
    assert dispatched == []
    db.commit()
    assert dispatched == ["outer-before", "outer-after"]


def test_released_savepoint_keeps_events_until_the_outer_commit(db, dispatched):
    _publish(db, "outer")
    with db.begin_nested():
        _publish(db, "inside")
    assert dispatched == []  # the release fired after_commit: nothing may be dispatched yet
    assert [p[1]["tag"] for p in txhooks.pending(db, "events")] == ["outer", "inside"]
    db.commit()
    assert dispatched == ["outer", "inside"]


def test_released_child_of_a_rolled_back_savepoint_is_dropped(db, dispatched):
    _publish(db, "outer")
    parent = db.begin_nested()
    _publish(db, "parent")
    with db.begin_nested():
        _publish(db, "child")
    parent.rollback()
    with db.begin_nested():
        _publish(db, "sibling")
    db.commit()
    assert dispatched == ["outer", "sibling"]


def test_rolled_back_inner_savepoint_keeps_the_enclosing_savepoints_events(db, dispatched):
    with db.begin_nested():
        _publish(db, "parent")
        child = db.begin_nested()
        _publish(db, "child")
        child.rollback()
    db.commit()
    assert dispatched == ["parent"]


def test_outer_rollback_drops_released_savepoints_too(db, dispatched):
    _publish(db, "outer")
    with db.begin_nested():
        _publish(db, "inside")
    db.rollback()
    db.commit()  # a later, empty transaction on the same session dispatches nothing old
    assert dispatched == []


def test_closing_without_commit_drops_everything(db, dispatched):
    db.exec(text("SELECT 1"))  # a transaction is open (services publish after their reads and writes)
    _publish(db, "never")
    db.close()
    _publish(db, "next")
    db.commit()
    assert dispatched == ["next"]


def test_exception_inside_begin_nested_block_drops_its_event_and_outer_commit_sends_the_rest(db, dispatched):
    _publish(db, "outer")
    with pytest.raises(RuntimeError):
        with db.begin_nested():
            _publish(db, "inside")
            raise RuntimeError("boom")
    db.commit()
    assert dispatched == ["outer"]


def test_live_topics_follow_the_outer_transaction(db, published):
    live.notify(db, "t:outer")
    savepoint = db.begin_nested()
    live.notify(db, "t:dropped")
    savepoint.rollback()
    with db.begin_nested():
        live.notify(db, "t:kept", "t:outer")
    assert published == []
    db.commit()
    assert published == [["t:outer", "t:kept"]]  # once each, after the outer commit only


def _queue_mail(session, to: str) -> None:
    mail.enqueue(session, to=to, subject="Hi", text="x", html_body="<p>x</p>", kind="test")


def test_mail_kick_waits_for_the_outer_commit_and_ignores_rolled_back_savepoints(db, kicks):
    savepoint = db.begin_nested()
    _queue_mail(db, "dropped@example.com")
    savepoint.rollback()
    db.commit()
    assert kicks == []  # the only mail was rolled back with its savepoint: no delivery run

    with db.begin_nested():
        _queue_mail(db, "kept@example.com")
    assert kicks == []  # released savepoint: not yet
    db.commit()
    assert kicks == [1]
    rows = db.exec(mail.select(mail.OutboxEmail.to_address)).all()
    assert rows == ["kept@example.com"]
