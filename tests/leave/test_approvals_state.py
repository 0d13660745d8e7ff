"""The approvals page's unit of work (leave/state.py ApprovalsState): what it reads at each opening."""

from __future__ import annotations

from hr_portal.leave import state as leave_state
from hr_portal.leave.state import ApprovalsState
from tests.leave.helpers import run
from tests.sql_count import statements


def _open(page: ApprovalsState, actor) -> int:
    """The page's first read as its on_load runs it; how many statements read the delegate candidates."""
    with statements(this_thread=True) as seen:
        page._show_load(run(page._load_work(candidates=None), actor=actor))
    return sum(1 for s in seen if "users.role IN" in s)


def test_a_tab_reads_who_one_may_delegate_to_once_per_user_and_ttl(leave_org, monkeypatch):
    actors = leave_org["actors"]
    page = ApprovalsState(_reflex_internal_init=True)
    assert _open(page, actors["hr_manager"]) == 1
    names = {c["name"] for c in page.candidates}
    assert len(names) == 2 and page.is_hr  # the admin and the manager: never the asker
    assert _open(page, actors["hr_manager"]) == 0  # opened again: the tab's list stands
    assert {c["name"] for c in page.candidates} == names

    assert _open(page, actors["manager"]) == 1  # another user on this tab: their own list
    assert len(page.candidates) == 2 and not page.is_hr

    clock = [page._candidates_at + leave_state.CANDIDATES_TTL_SECONDS + 1]
    monkeypatch.setattr(leave_state.time, "time", lambda: clock[0])
    assert _open(page, actors["manager"]) == 1  # older than the TTL: read again


def test_the_live_reload_never_reads_the_candidates(leave_org):
    page = ApprovalsState(_reflex_internal_init=True)
    with statements(this_thread=True) as seen:
        page._show_load(run(page._load_work(candidates=False), actor=leave_org["actors"]["hr_manager"]))
    assert seen and not any("users.role IN" in s for s in seen)
    assert page.candidates == []


def test_a_reload_that_finds_the_queue_as_it_was_leaves_the_page_clean(leave_org):
    """HR's page reloads at every leave change of the organization (the live watcher). A reload that finds the
    same page assigns nothing: nothing is written back or sent to the browser. A new request shows."""
    from hr_portal.leave import service
    from tests.leave.helpers import NOW

    hr, employee = leave_org["actors"]["hr_manager"], leave_org["actors"]["employee"]
    annual = leave_org["types"]["Annual"].id

    def apply(start: str, end: str) -> None:
        run(service.apply_leave, actor=employee, leave_type_id=annual, start_date=start, end_date=end, now=NOW)

    def reload(page: ApprovalsState) -> None:
        page._show_load(run(page._load_work(candidates=False), actor=hr))

    apply("2030-03-11", "2030-03-12")
    page = ApprovalsState(_reflex_internal_init=True)
    reload(page)
    assert len(page.queue) == 1 and page.is_hr
    page._clean()
    reload(page)
    assert not page.dirty_vars
    apply("2030-03-18", "2030-03-19")
    reload(page)
    assert {"queue", "total"} <= page.dirty_vars and "is_hr" not in page.dirty_vars
    assert len(page.queue) == 2 and page.total == 2
    # Opening the page (a navigation to it) sends the queue even when it is as it was: the tab asked for it.
    page._clean()
    page._show_load(run(page._load_work(candidates=False), actor=hr), opened=True)
    assert "queue" in page.dirty_vars and "total" not in page.dirty_vars
