"""A small in-process domain-event dispatcher.

Services call `publish(session, name, **payload)`; listeners run only after the outermost transaction
commits (never for a rolled-back change or savepoint), and a failing listener is logged, never raised to the caller.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
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


def subscribe(name: str, listener: Listener) -> None:
    if listener not in _listeners[name]:
        _listeners[name].append(listener)


def unsubscribe(name: str, listener: Listener) -> None:
    if listener in _listeners.get(name, []):
        _listeners[name].remove(listener)


FailureHandler = Callable[[str, Listener, dict[str, Any], BaseException], None]
_failure_handler: FailureHandler | None = None


def set_failure_handler(handler: FailureHandler | None) -> None:
    """Who keeps failed deliveries for a retry (the notifications module's durable store)."""
    global _failure_handler
    _failure_handler = handler


def dispatch(name: str, payload: dict[str, Any]) -> None:
    for listener in list(_listeners.get(name, [])) + list(_listeners.get("*", [])):
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
    for name, payload in pending:
        dispatch(name, payload)
