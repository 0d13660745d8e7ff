"""Durable event listeners: a listener that raises never breaks the action that published the event
(core/events.py already guarantees that; durable listeners run on its background event worker, after
the commit and off the request); here its failure is also *kept* (event, payload, error) in
`listener_failures` and retried by the job `notifications.retry_listeners` with exponential backoff,
until it succeeds or has failed `HR_NOTIFY_LISTENER_MAX_ATTEMPTS` times (then status `failed`).

    from hr_portal.notifications.reliable import subscribe_durable
    subscribe_durable(events.LEAVE_APPLIED, on_leave_applied)

A durable listener should do its work in one transaction of its own, so a failed attempt leaves
nothing behind and the retry starts clean.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from hr_portal.core import events
from hr_portal.core.db import session_scope, utcnow
from hr_portal.notifications.config import notify_settings
from hr_portal.notifications.models import ListenerFailure

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_DURABLE: dict[str, Listener] = {}
CLAIM_MINUTES = 10


def listener_key(fn: Listener) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, default=str))


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 1, 2, 4, 8 ... minutes (at most 6 h)."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def record_failure(name: str, key: str, payload: dict[str, Any], exc: BaseException) -> int | None:
    """Keep a failed delivery for the retry job (own transaction). Returns the row id (None if even that failed)."""
    try:
        with session_scope() as session:
            org = payload.get("organization_id")
            row = ListenerFailure(
                organization_id=org if isinstance(org, int) else None, event_name=name[:80], listener=key[:200],
                payload=_jsonable(payload), last_error=f"{type(exc).__name__}: {exc}"[:4000],
                next_attempt_at=utcnow() + backoff(1))
            session.add(row)
            session.flush()
            return row.id
    except Exception:  # the database itself may be the problem: the log is all that is left
        log.exception("could not record the failure of listener %s for %s", key, name)
        return None


def durable(fn: Listener) -> Listener:
    """Wrap a listener so that a failure is recorded for retry instead of only logged."""
    key = listener_key(fn)
    _DURABLE[key] = fn

    def run(name: str, payload: dict[str, Any]) -> None:
        try:
            fn(name, payload)
        except Exception as exc:
            log.exception("listener %s failed for %s; recorded for retry", key, name)
            record_failure(name, key, payload, exc)

    run.__qualname__ = f"durable({key})"
    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run


_subscribed: dict[tuple[str, str], Listener] = {}


def subscribe_durable(name: str, fn: Listener, *, background: bool = True) -> Listener:
    """Subscribe `fn` (wrapped by `durable`) to event `name`; idempotent per (event, listener). A durable
    listener works in a transaction of its own, so by default it runs on the event worker, off the
    committing request (core/events.py: `background`)."""
    key = (name, listener_key(fn))
    if key not in _subscribed:
        _subscribed[key] = durable(fn)
    events.subscribe(name, _subscribed[key], background=background)
    return _subscribed[key]


def _resolve(key: str) -> Listener | None:
    """A listener by its `module.qualname` key (for retries in a process where it has not failed)."""
    if key in _DURABLE:
        return _DURABLE[key]
    import importlib

    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj if callable(obj) else None
    return None


def _record_any_failure(name: str, listener: Listener, payload: dict[str, Any], exc: BaseException) -> None:
    """core/events failure hook: every plain listener's failure is kept for the retry job too."""
    key = listener_key(listener)
    if "<locals>" in key or "<lambda>" in key:  # cannot be found again by name: log only
        return
    _DURABLE.setdefault(key, listener)
    record_failure(name, key, payload, exc)


events.set_failure_handler(_record_any_failure)


def retry_failed_listeners(*, session: Session, now: datetime, limit: int = 100) -> int:
    """Job body: run due failed listeners again. Returns how many succeeded this time. Each row is claimed
    with a conditional UPDATE first, so two processes never retry the same delivery at once."""
    session.commit()  # the rows below use short transactions of their own
    max_attempts = notify_settings().listener_max_attempts
    due = session.exec(select(ListenerFailure.id).where(ListenerFailure.status == "pending",
                                                        ListenerFailure.next_attempt_at <= now)
                       .order_by(ListenerFailure.id).limit(limit)).all()
    session.rollback()
    succeeded = 0
    for row_id in due:
        with session_scope() as s:
            claimed = s.exec(update(ListenerFailure)
                             .where(ListenerFailure.id == row_id, ListenerFailure.status == "pending",
                                    ListenerFailure.next_attempt_at <= now)
                             .values(next_attempt_at=utcnow() + timedelta(minutes=CLAIM_MINUTES),
                                     attempts=ListenerFailure.attempts + 1, updated_at=utcnow())).rowcount
            row = s.get(ListenerFailure, row_id) if claimed else None
        if row is None:
            continue
        fn = _resolve(row.listener)
        error: str | None = None
        if fn is None:
            error = f"listener {row.listener} no longer exists"
        else:
            try:
                fn(row.event_name, dict(row.payload))
            except Exception as exc:
                log.warning("retry %s of listener %s for %s failed: %s", row.attempts, row.listener,
                            row.event_name, exc)
                error = f"{type(exc).__name__}: {exc}"[:4000]
        with session_scope() as s:
            row = s.get(ListenerFailure, row_id)
            row.updated_at = utcnow()
            if error is None:
                row.status, row.last_error = "done", None
                succeeded += 1
            else:
                row.last_error = error
                if row.attempts >= max_attempts or fn is None:
                    row.status = "failed"
                    log.error("listener %s for %s gave up after %s attempts: %s", row.listener, row.event_name,
                              row.attempts, error)
                else:
                    row.next_attempt_at = utcnow() + backoff(row.attempts)
            s.add(row)
    return succeeded
