"""ui/live.py: a tab's own change, recognised by its watchers without taking the tab's state lock."""

from __future__ import annotations

from hr_portal.ui import live


def test_an_own_change_is_an_echo_for_its_tab_and_kind_within_the_window(monkeypatch):
    monkeypatch.setattr(live, "_OWN_CHANGES", {})
    clock = [1000.0]
    monkeypatch.setattr(live.time, "time", lambda: clock[0])
    live.note_own_change("tab-a", "punch")
    assert live.own_echo("tab-a", "punch", 2.0)
    assert not live.own_echo("tab-b", "punch", 2.0)  # another tab's watcher reloads
    assert not live.own_echo("tab-a", "reload", 2.0)  # another kind of change of the same tab
    clock[0] += 2.0
    assert not live.own_echo("tab-a", "punch", 2.0)  # the window is over: a change is news again


def test_the_record_of_own_changes_stays_bounded(monkeypatch):
    monkeypatch.setattr(live, "_OWN_CHANGES", {})
    monkeypatch.setattr(live, "_OWN_CHANGES_MAX", 3)
    for tab in ("a", "b", "c"):
        live.note_own_change(tab, "punch", at=100.0)
    live.note_own_change("a", "punch", at=101.0)  # a changed again: now the most recent
    live.note_own_change("d", "punch", at=102.0)  # full: the oldest (b) goes
    assert list(live._OWN_CHANGES) == [("c", "punch"), ("a", "punch"), ("d", "punch")]
