"""A small in-process domain-event dispatcher.

Services call `publish(session, name, **payload)`; listeners run only after the outermost transaction
commits (never for a rolled-back change or savepoint), and a failing listener is logged, never raised to the caller.

Two kinds of listeners:
- inline (the default, `subscribe(name, fn)`): run in the committing thread right after the commit, so the
  caller sees their work when its commit returns (the leave entitlements of a new employee);
- background (`subscribe(name, fn, background=True)`): handed to this process's event worker (one thread,
  events in commit order), so the request that committed does not wait for them (in-app notifications and
  mails: notifications/listeners.py). They must do their work in a transaction of their own. A failure is
  handled exactly as for an inline listener (logged, then the failure handler keeps it for the retry job).
  `drain()` waits until every event handed to the worker so far has been handled: tests call it before
  they look at what a background listener wrote (and a process that is exiting normally finishes the queue).
  An event queued in the worker is lost if the process is killed before it runs (as an inline listener's
  work is lost when the process dies right after the commit).

`dispatch(name, payload)` delivers an event now, to every listener, in the calling thread (tests, replays).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlmodel import Session

from hr_portal.core import txhooks

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)

# Payload contract (keyword arguments of publish()): every event carries `organization_id` and
# `actor_user_id` (who caused it; None for the system) plus the ids below, so listeners (in-app
# notifications, mail) can find recipients without guessing:
#   employee.*                       employee_id, user_id
#   employees.imported               employee_ids, user_ids (lists, same order), import_id, source="import":
#                                    ONE event for the people a CSV import created, instead of employee.created
#                                    per row; a listener of employee.created handles this one too, set-based
#   attendance.checked_in/out        employee_id, user_id, attendance_id
#   attendance.correction_requested  correction_id, employee_id, requester_user_id, approver_user_ids (list)
#   attendance.correction_decided    correction_id, employee_id, requester_user_id, status, comment
#   leave.applied                    leave_id, employee_id, requester_user_id, approver_user_ids (list: who
#                                    should act now, delegates included)
#   leave.approved/rejected          leave_id, employee_id, requester_user_id, status, comment,
#                                    next_approver_user_ids (list; non-empty when a further step is pending)
#   leave.cancelled                  leave_id, employee_id, requester_user_id, approver_user_ids
USER_REGISTERED = "user.registered"
USER_LOGGED_IN = "user.logged_in"
PASSWORD_RESET_REQUESTED = "auth.password_reset_requested"
PASSWORD_CHANGED = "auth.password_changed"
MAIL_QUEUED = "mail.queued"
EMPLOYEE_CREATED = "employee.created"
EMPLOYEE_UPDATED = "employee.updated"
EMPLOYEE_DEACTIVATED = "employee.deactivated"
EMPLOYEES_IMPORTED = "employees.imported"
CHECKED_IN = "attendance.checked_in"
CHECKED_OUT = "attendance.checked_out"
CORRECTION_REQUESTED = "attendance.correction_requested"
CORRECTION_DECIDED = "attendance.correction_decided"
LEAVE_APPLIED = "leave.applied"
LEAVE_APPROVED = "leave.approved"
LEAVE_REJECTED = "leave.rejected"
LEAVE_CANCELLED = "leave.cancelled"


_background: set[Listener] = set()  # listeners run by the event worker, not in the committing thread


def subscribe(name: str, listener: Listener, *, background: bool = False) -> None:
    """Run `listener(name, payload)` after each commit that published `name` ("*": every event); with
    `background=True` on the event worker instead of in the committing thread (see the module doc)."""
    if listener not in _listeners[name]:
        _listeners[name].append(listener)
    if background:
        _background.add(listener)
    else:
        _background.discard(listener)


def unsubscribe(name: str, listener: Listener) -> None:
    if listener in _listeners.get(name, []):
        _listeners[name].remove(listener)
    if not any(listener in fns for fns in _listeners.values()):
        _background.discard(listener)


FailureHandler = Callable[[str, Listener, dict[str, Any], BaseException], None]
_failure_handler: FailureHandler | None = None


def set_failure_handler(handler: FailureHandler | None) -> None:
    """Who keeps failed deliveries for a retry (the notifications module's durable store)."""
    global _failure_handler
    _failure_handler = handler


def _listeners_of(name: str) -> list[Listener]:
    return list(_listeners.get(name, [])) + list(_listeners.get("*", []))


def dispatch(name: str, payload: dict[str, Any]) -> None:
    """Deliver an event now, in this thread, to every listener (inline and background ones alike)."""
    _run(name, payload, _listeners_of(name))


def _run(name: str, payload: dict[str, Any], listeners: list[Listener]) -> None:
    for listener in listeners:
        try:
            listener(name, payload)
        except Exception as exc:  # a listener never breaks the action that raised the event
            log.exception("event listener %r failed for %s", listener, name)
            if _failure_handler is not None:
                try:
                    _failure_handler(name, listener, payload, exc)
                except Exception:
                    log.exception("recording the failure of %r failed", listener)


def publish(session: Session, name: str, **payload: Any) -> None:
    """Queue an event on the session; it is dispatched after the outermost transaction commits (a
    released savepoint keeps it queued, a rolled-back one drops it: core/txhooks.py)."""
    txhooks.defer(session, "events", (name, payload), _after_commit)


def _after_commit(_session: Session, pending: list[tuple[str, dict[str, Any]]]) -> None:
    later: list[tuple[str, dict[str, Any], list[Listener]]] = []
    for name, payload in pending:
        listeners = _listeners_of(name)
        _run(name, payload, [fn for fn in listeners if fn not in _background])
        if off_thread := [fn for fn in listeners if fn in _background]:
            later.append((name, payload, off_thread))
    if later:
        _worker.submit(later)


# ---------------------------------------------------------------- the event worker


class _Worker:
    """One thread per process running background listeners, events in commit order. Created lazily (and
    again in a forked child, where the parent's thread does not exist)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._executor: ThreadPoolExecutor | None = None
        self._pid: int | None = None
        self._pending = 0
        self._local = threading.local()

    def submit(self, batch: list[tuple[str, dict[str, Any], list[Listener]]]) -> None:
        with self._cond:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="events")
                self._pid, self._pending = os.getpid(), 0
            executor = self._executor
            self._pending += 1
        try:
            executor.submit(self._handle, batch)
        except RuntimeError:  # the interpreter is shutting down: run them here rather than lose them
            self._handle(batch)

    def _handle(self, batch: list[tuple[str, dict[str, Any], list[Listener]]]) -> None:
        self._local.inside = True
        try:
            for name, payload, listeners in batch:
                _run(name, payload, listeners)
        except Exception:  # pragma: no cover - _run never raises
            log.exception("event worker failed")
        finally:
            self._local.inside = False
            with self._cond:
                self._pending -= 1
                if self._pending <= 0:
                    self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        if getattr(self._local, "inside", False):  # a listener cannot wait for its own queue: no-op there
            return True
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0 and self._pid == os.getpid():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


_worker = _Worker()


def drain(timeout: float = 30.0) -> None:
    """Wait until every event handed to the background worker so far (and whatever those listeners
    published in turn) has been handled. Raises TimeoutError after `timeout` seconds. On SQLite, do not
    hold an open transaction while draining: the listeners need the write lock."""
    if not _worker.drain(timeout):
        raise TimeoutError(f"background event listeners still busy after {timeout:.0f} s")
