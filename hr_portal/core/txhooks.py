"""Work deferred to the commit of the OUTERMOST transaction, savepoint-aware.

SQLAlchemy's `after_commit` also fires when a SAVEPOINT is released (`begin_nested()`), and
`after_rollback` when one is rolled back. Events (`core/events.py`), live topics (`core/live.py`) and
the mail kick (`core/mail.py`) must instead follow the real transaction:

- an item is tagged with the innermost savepoint open when it was queued (None: the outer level);
- a rolled-back savepoint drops the items queued inside it, including inside its released children;
- a released savepoint keeps its items, which wait for the outer commit (and are dropped if an
  enclosing savepoint or the outer transaction rolls back later);
- the outer commit hands every surviving item, in queue order, to its kind's handler;
- when the outer transaction ends any other way (rollback, close), whatever is left is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

Handler = Callable[[Session, list[Any]], None]

_STATE = "txhooks"


def defer(session: Session, kind: str, item: Any, handler: Handler) -> None:
    """Queue `item`; at the outer commit `handler(session, items_of_this_kind)` is called once."""
    state = session.info.get(_STATE)
    if state is None:
        state = session.info[_STATE] = {"items": [], "handlers": {}}
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
        event.listen(session, "after_transaction_end", _after_transaction_end)
    state["handlers"][kind] = handler
    state["items"].append((session.get_nested_transaction(), kind, item))


def pending(session: Session, kind: str) -> list[Any]:
    """Items of `kind` waiting for the outer commit (for tests and diagnostics)."""
    state = session.info.get(_STATE)
    return [item for _tx, k, item in state["items"] if k == kind] if state else []


def _inside(tag: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    while tag is not None:
        if tag is transaction:
            return True
        tag = tag.parent
    return False


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its items wait for the outer commit
    state = session.info[_STATE]
    items, state["items"] = state["items"], []
    by_kind: dict[str, list[Any]] = {}
    for _tx, kind, item in items:
        by_kind.setdefault(kind, []).append(item)
    for kind, kind_items in by_kind.items():
        try:
            state["handlers"][kind](session, kind_items)
        except Exception:  # the commit already happened: never raise into the caller
            log.exception("after-commit handler for %s failed", kind)


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    state = session.info[_STATE]
    if previous_transaction.nested:
        state["items"] = [entry for entry in state["items"] if not _inside(entry[0], previous_transaction)]
    elif previous_transaction.parent is None:
        state["items"] = []


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info[_STATE]["items"] = []
