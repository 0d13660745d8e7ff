"""Forged events over the websocket (issue 8): attacks a socket.io client can make without the UI.

Each scenario is a sequence of events a real page would never send for this user: preparing
setters of another page's state with the victim's ids followed by the action (approve, deactivate,
role change, settings save, allocation, ...), handlers of pages the role may not open, background
tasks, client-storage tricks. It runs as anonymous, as an employee, as a manager outside the
victim's reporting line and as another organization's admin, each on a fresh tab (token); the four
attackers at the same time (none of them may change anything).

After each scenario: the demo organization's rows are unchanged (tests/security/forge.py
Fingerprint), no marker the role may not see came back (conftest.MARKERS), and the states of pages
the role may not open received no rows. The number of forged events sent is printed and recorded.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import World, leaks
from tests.security.forge import COOKIE_VAR, SESSION_STATE, ForgedClient, run_parallel
from tests.security.test_handler_matrix import registered_handlers

pytestmark = pytest.mark.e2e

ATTACKERS = ("anonymous", "employee", "manager", "outsider")

# Pages each attacker may not open (their states must receive no rows); others just see no foreign data.
HR_PAGES = ("attendance.AttendanceSettingsState", "employees.DepartmentsState", "employees.ImportState",
            "leave.SetupState")
ADMIN_PAGES = ("notifications.MailOutboxState", "org.SettingsState", "org.JobsState", "org.AuditState")
APPROVER_PAGES = ("attendance.TeamState", "attendance.ApprovalsState", "leave.ApprovalsState",
                  "leave.CalendarState", "reports.HeadcountState", "reports.AttendanceReportState",
                  "reports.LeaveReportState", "reports.SheetState")
FORBIDDEN_PAGES = {
    "anonymous": HR_PAGES + ADMIN_PAGES + APPROVER_PAGES,
    "employee": HR_PAGES + ADMIN_PAGES + APPROVER_PAGES,
    "manager": HR_PAGES + ADMIN_PAGES,
    "outsider": (),  # an admin in its own organization: it sees its own pages, never Acme's data
}


def scenarios(w: World) -> list[tuple[str, list[tuple[str, dict, str, dict]]]]:
    """(name, [(handler key, payload, path, query)]) -- every step claims to come from the handler's page."""
    i = w.ids
    victim, victim_s = i["employee"], str(i["employee"])
    profile = (f"/employees/{victim}", {"profile_id": victim_s})
    return [
        ("approve the victim's leave through the queue", [
            ("leave.ApprovalsState.open_page", {}, "/leave/approvals", {}),
            ("leave.ApprovalsState.toggle", {"leave_id": i["leave"], "checked": True}, "/leave/approvals", {}),
            ("leave.ApprovalsState.set_comment", {"value": "forged"}, "/leave/approvals", {}),
            ("leave.ApprovalsState.ask_selected", {"status": "approved"}, "/leave/approvals", {}),
            ("leave.ApprovalsState.confirm", {}, "/leave/approvals", {}),
            ("leave.ApprovalsState.ask", {"leave_id": i["leave"], "status": "rejected"}, "/leave/approvals", {}),
            ("leave.ApprovalsState.confirm", {}, "/leave/approvals", {}),
        ]),
        ("cancel the victim's leave from My leave", [
            ("leave.MyLeaveState.cancel_request", {"leave_id": i["leave"]}, "/leave", {}),
        ]),
        ("approve the victim's attendance correction", [
            ("attendance.ApprovalsState.start_decision", {"correction_id": i["correction"], "approve": True},
             "/attendance/approvals", {}),
            ("attendance.ApprovalsState.set_decide_comment", {"value": "forged"}, "/attendance/approvals", {}),
            ("attendance.ApprovalsState.confirm_decision", {}, "/attendance/approvals", {}),
            ("attendance.MyAttendanceState.cancel_correction", {"correction_id": i["correction"]}, "/attendance", {}),
        ]),
        ("deactivate the victim", [
            ("employees.ProfileState.open_profile", {}, *profile),
            ("employees.ProfileState.ask_deactivate", {}, *profile),
            ("employees.ProfileState.set_move_reports", {"value": True}, *profile),
            ("employees.ProfileState.deactivate", {}, *profile),
            ("employees.ProfileState.remove_photo", {}, *profile),
        ]),
        ("edit the victim and make them admin", [
            ("employees.EmployeeFormState.start_edit", {"employee_id": victim}, "/employees", {}),
            ("employees.EmployeeFormState.set_value", {"name": "role", "value": "admin"}, "/employees", {}),
            ("employees.EmployeeFormState.pick_manager", {"employee_id": i["manager"]}, "/employees", {}),
            ("employees.EmployeeFormState.save", {"form": {"first_name": "Forged", "last_name": "Name",
                                                           "email": w.victim_email, "role": "admin"}},
             "/employees", {}),
        ]),
        ("create an admin account", [
            ("employees.EmployeeFormState.start_create", {}, "/employees", {}),
            ("employees.EmployeeFormState.set_value", {"name": "role", "value": "admin"}, "/employees", {}),
            ("employees.EmployeeFormState.save", {"form": {"first_name": "Forged", "last_name": "Admin",
                                                           "email": "forged-admin@forged.example"}}, "/employees", {}),
        ]),
        ("rename the organization and its company", [
            ("org.SettingsState.save_org_name", {"form": {"org_name": "Forged Org"}}, "/settings", {}),
            ("org.SettingsState.start_edit", {"company_id": i["company"]}, "/settings", {}),
            ("org.SettingsState.set_form_name", {"value": "Forged Company"}, "/settings", {}),
            ("org.SettingsState.set_form_timezone", {"value": "Pacific/Fiji"}, "/settings", {}),
            ("org.SettingsState.toggle_off", {"day": 3}, "/settings", {}),
            ("org.SettingsState.save_company", {}, "/settings", {}),
        ]),
        ("give the victim 50 days of leave", [
            ("leave.SetupState.set_a", {"key": "a_target", "value": "person"}, "/leave/setup", {}),
            ("leave.SetupState.set_a", {"key": "a_person", "value": victim_s}, "/leave/setup", {}),
            ("leave.SetupState.set_a", {"key": "a_type", "value": str(i["leave_type"])}, "/leave/setup", {}),
            ("leave.SetupState.set_a", {"key": "a_kind", "value": "adjustment"}, "/leave/setup", {}),
            ("leave.SetupState.set_a", {"key": "a_amount", "value": "50"}, "/leave/setup", {}),
            ("leave.SetupState.set_a", {"key": "a_reason", "value": "forged"}, "/leave/setup", {}),
            ("leave.SetupState.allocate", {}, "/leave/setup", {}),
        ]),
        ("change leave types and holidays", [
            ("leave.SetupState.edit_type", {"type_id": i["leave_type"]}, "/leave/setup", {}),
            ("leave.SetupState.set_tf", {"key": "name", "value": "Forged type"}, "/leave/setup", {}),
            ("leave.SetupState.save_type", {}, "/leave/setup", {}),
            ("leave.SetupState.edit_holiday", {"holiday_id": i["holiday"]}, "/leave/setup", {}),
            ("leave.SetupState.set_h_name", {"value": "Forged holiday"}, "/leave/setup", {}),
            ("leave.SetupState.save_holiday", {}, "/leave/setup", {}),
            ("leave.SetupState.delete_holiday", {"holiday_id": i["holiday"]}, "/leave/setup", {}),
            ("leave.SetupState.set_csv_text", {"value": "date,name\n2026-12-30,Forged day"}, "/leave/setup", {}),
            ("leave.SetupState.import_csv", {}, "/leave/setup", {}),
        ]),
        ("change shifts, sites and assignments", [
            ("attendance.AttendanceSettingsState.pick_company", {"value": str(i["company"])},
             "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.start_shift", {"shift_id": i["shift"]}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.set_sd_field", {"name": "name", "value": "Forged shift"},
             "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.save_shift", {}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.delete_shift", {"shift_id": i["shift"]}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.delete_site", {"site_id": i["site"]}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.set_location_required", {"value": True},
             "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.set_as_employee", {"value": victim_s}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.set_as_shift", {"value": str(i["shift"])},
             "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.assign", {}, "/attendance/settings", {}),
            ("attendance.AttendanceSettingsState.unassign", {"employee_id": victim}, "/attendance/settings", {}),
        ]),
        ("archive the victim's department", [
            ("employees.DepartmentsState.ask_archive", {"department_id": i["department"]}, "/departments", {}),
            ("employees.DepartmentsState.confirm", {}, "/departments", {}),
            ("employees.DepartmentsState.start_edit", {"department_id": i["department"]}, "/departments", {}),
            ("employees.DepartmentsState.pick_head", {"employee_id": victim}, "/departments", {}),
            ("employees.DepartmentsState.save", {}, "/departments", {}),
        ]),
        ("delegations, notifications and mails of others", [
            ("leave.ApprovalsState.revoke", {"delegation_id": i["delegation"]}, "/leave/approvals", {}),
            ("leave.ApprovalsState.set_d_delegate", {"value": victim_s}, "/leave/approvals", {}),
            ("leave.ApprovalsState.add_delegation", {}, "/leave/approvals", {}),
            ("notifications.NotificationsPageState.mark_read", {"notification_id": i["notification"]},
             "/notifications", {}),
            ("notifications.NotificationsPageState.open_item", {"notification_id": i["notification"]},
             "/notifications", {}),
            ("notifications.NotificationBellState.open_item", {"notification_id": i["notification"]}, "/", {}),
            ("notifications.MailOutboxState.view", {"mail_id": i["mail"]}, "/settings/mail", {}),
            ("notifications.MailOutboxState.resend", {"mail_id": i["mail"]}, "/settings/mail", {}),
            ("org.JobsState.run_now", {"job_id": "leave.accrual"}, "/settings/jobs", {}),
        ]),
        ("read pages the role may not open", [
            ("org.AuditState.open_audit", {}, "/settings/audit", {}),
            ("org.AuditState.apply_filters", {"form": {"action": "*"}}, "/settings/audit", {}),
            ("notifications.MailOutboxState.open_outbox", {}, "/settings/mail", {}),
            ("notifications.MailOutboxState.search_mails", {"form": {"q": "ZQSECRET"}}, "/settings/mail", {}),
            ("org.SettingsState.open_settings", {}, "/settings", {}),
            ("org.JobsState.open_jobs", {}, "/settings/jobs", {}),
            ("leave.SetupState.open_page", {}, "/leave/setup", {}),
            ("leave.SetupState.set_tab", {"value": "holidays"}, "/leave/setup", {}),
            ("attendance.AttendanceSettingsState.open_page", {}, "/attendance/settings", {}),
            ("employees.DepartmentsState.open_departments", {}, "/departments", {}),
            ("employees.ImportState.open_import", {}, "/employees/import", {}),
            ("reports.HeadcountState.open_page", {}, "/reports", {}),
            ("reports.SheetState.pick_month", {"value": "2026-01"}, "/reports/sheet", {}),
            ("reports.LeaveReportState.reload", {}, "/reports/leave", {}),
            ("reports.AttendanceReportState.export_csv", {}, "/reports/attendance", {}),
            ("attendance.TeamState.export_csv", {}, "/attendance/team", {}),
            ("leave.CalendarState.set_department", {"value": str(i["department"])}, "/leave/calendar", {}),
            ("attendance.ApprovalsState.open_page", {}, "/attendance/approvals", {}),
            ("leave.ApprovalsState.open_page", {}, "/leave/approvals", {}),
        ]),
        ("look at the victim's private data", [
            ("employees.ProfileState.open_profile", {}, *profile),
            ("employees.ProfileState.set_tab", {"value": "history"}, *profile),
            ("employees.ProfileState.refresh", {}, *profile),
            ("employees.DirectoryState.set_search", {"value": "ZQSECRET"}, "/employees", {}),
            ("employees.DirectoryState.export", {}, "/employees", {}),
            ("employees.OrgChartState.start_from", {"employee_id": victim}, "/org-chart", {}),
            ("employees.OrgChartState.open_person", {"employee_id": victim}, "/org-chart", {}),
            ("leave.MyLeaveState.show_ledger", {"leave_type_id": i["leave_type"]}, "/leave", {}),
            ("attendance.MyAttendanceState.open_correction", {"day": "2026-01-05"}, "/attendance", {}),
        ]),
        ("background tasks of other pages", [
            ("employees.ImportState.apply", {}, "/employees/import", {}),
            ("org.SettingsState.watch", {}, "/settings", {}),
            ("leave.ApprovalsState.watch", {}, "/leave/approvals", {}),
            ("attendance.ApprovalsState.watch", {}, "/attendance/approvals", {}),
            ("employees.ProfileState.watch", {}, *profile),
        ]),
        ("claim a role through client storage", [
            ("reflex.UpdateVarsInternalState.update_vars_internal",
             {"vars": {f"{SESSION_STATE}.role": "admin", f"{SESSION_STATE}.signed_in": True,
                       f"{SESSION_STATE}._live_generation": 5}}, "/", {}),
            ("reflex.State.setvar", {"var_name": "role", "value": "admin"}, "/", {}),
            ("ui.SessionState.setvar", {"var_name": "role", "value": "admin"}, "/", {}),
            ("ui.SessionState.guard_page", {"page": "settings"}, "/settings", {}),
            ("org.SettingsState.save_org_name", {"form": {"org_name": "Forged Org"}}, "/settings", {}),
            ("employees.ProfileState.deactivate", {}, *profile),
        ]),
    ]


def rows_in(text: str, state_keys: tuple[str, ...], handlers: dict) -> list[str]:
    """Vars of the given page states that came back holding rows (non-empty lists or dicts of data)."""
    names = {handlers_state(handlers, key) for key in state_keys} - {None}
    found = []
    for update in json.loads(text):
        for state, changes in (update.get("delta") or {}).items():
            if state not in names:
                continue
            for var, value in changes.items():
                if "_options" in var:  # fixed choices (weekdays, ...), not data
                    continue
                if isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
                    found.append(f"{state.rsplit('.', 1)[-1]}.{var}")
    return found


def scrub(text: str, payload) -> str:
    """Drop what the attacker sent itself (an email it typed may come back in "already used" errors)."""
    values: list[str] = []

    def walk(v):
        if isinstance(v, str) and len(v) >= 6:
            values.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(payload)
    for v in values:
        text = text.replace(v, "<sent>")
    return text


def handlers_state(handlers: dict, state_key: str) -> str | None:
    for key, (name, _h) in handlers.items():
        if key.rsplit(".", 1)[0] == state_key:
            return name.rpartition(".")[0]
    return None


def drive_forged(world: World, attackers: tuple[str, ...] = ATTACKERS, *, parallel: bool = True) -> tuple[list[str], int]:
    """Every scenario as every attacker (the attackers at once: none of them may change anything, so
    a change shows in the window of the scenario that made it, and, as noise, in those it overlapped)."""
    handlers = registered_handlers()
    work = {role: (lambda role=role: _drive_attacker(world, role, handlers)) for role in attackers}
    results = run_parallel(work) if parallel else {role: fn() for role, fn in work.items()}
    problems = [p for role in attackers for p in results[role][0]]
    return problems, sum(results[role][1] for role in attackers)


def _drive_attacker(world: World, role: str, handlers: dict) -> tuple[list[str], int]:
    problems: list[str] = []
    sent = 0
    for title, steps in scenarios(world):
        client = ForgedClient(world.base_url, cookie=world.cookies[role])
        try:
            before = world.fingerprint.take()
            for key, payload, path, query in steps:
                name, handler = handlers[key]
                if key == "reflex.UpdateVarsInternalState.update_vars_internal":
                    payload = {"vars": {**payload["vars"], COOKIE_VAR: world.cookies[role]}}
                background = handler.is_background
                text = client.call(name, payload, path=path, query=query, settle=1.0 if background else 0.0)
                found = leaks(role, scrub(text, payload))
                if found:
                    problems.append(f"{role} / {title}: {key} revealed {found}")
                loaded = rows_in(text, FORBIDDEN_PAGES[role], handlers)
                if loaded:
                    problems.append(f"{role} / {title}: {key} loaded rows into a page it may not open: {loaded}")
            changed = world.fingerprint.changed(before, world.fingerprint.take())
            if changed:
                problems.append(f"{role} / {title}: changed {changed}")
            sent += client.sent
        finally:
            client.close()
    return problems, sent


def test_forged_events_change_nothing_and_reveal_nothing(forge_world: World, record_property):
    problems, sent = drive_forged(forge_world)
    record_property("forged_events", sent)
    print(f"forged events: {sent} sent as {', '.join(ATTACKERS)}")
    assert sent > 300
    assert not problems, "\n".join(problems)


def test_a_made_up_or_ended_session_cookie_is_anonymous(forge_world: World):
    world = forge_world
    """A cookie the server never issued, or one signed out, opens nothing (and changes nothing)."""
    ended = world.new_cookie("admin")
    closer = ForgedClient(world.base_url, cookie=ended)
    closer.call(registered_handlers()["ui.SessionState.sign_out"][0], {})
    closer.close()
    handlers = registered_handlers()
    for cookie in ("forged-" + "0" * 40, ended):
        client = ForgedClient(world.base_url, cookie=cookie, path="/settings")
        try:
            before = world.fingerprint.take()
            text = client.call(handlers["org.SettingsState.open_settings"][0], {}, path="/settings")
            assert "/login" in text  # sent to sign-in
            text += client.call(handlers["org.SettingsState.save_org_name"][0], {"form": {"org_name": "Forged"}},
                                path="/settings")
            text += client.call(handlers["notifications.MailOutboxState.view"][0], {"mail_id": world.ids["mail"]},
                                path="/settings/mail")
            assert leaks("anonymous", text) == []
            assert world.fingerprint.changed(before, world.fingerprint.take()) == []
        finally:
            client.close()


def test_a_signed_out_tab_keeps_nothing_of_its_user(forge_world: World):
    world = forge_world
    """Reflex keeps a tab's state on the server and a reload sends all of it (hydrate): after sign-out,
    neither an anonymous reload of the same tab nor the next person signing in there gets what the
    previous user loaded. (Found by this suite: the admin's mail outbox came back to the signed-out tab.)"""
    handlers = registered_handlers()
    victim = world.ids["employee"]
    admin = ForgedClient(world.base_url, cookie=world.new_cookie("admin"), path="/settings/mail")
    seen = admin.call(handlers["notifications.MailOutboxState.open_outbox"][0], {}, path="/settings/mail")
    seen += admin.call(handlers["employees.ProfileState.open_profile"][0], {}, path=f"/employees/{victim}",
                       query={"profile_id": str(victim)})
    assert "ZQSECRET-MAIL" in seen and "ZQSECRET-ADDR" in seen  # the admin did load them
    admin.call(handlers["ui.SessionState.sign_out"][0], {}, path="/settings/mail")
    tab = admin.token
    admin.close()

    reloaded = ForgedClient(world.base_url, token=tab, path="/login")  # the same tab, reloaded, signed out
    try:
        assert leaks("anonymous", reloaded.received()) == []
        # the next person signs in on that tab, then reloads it
        reloaded.call(handlers["auth.AuthState.sign_in"][0],
                      {"form": {"email": "employee@acme.example", "password": "Portal-demo-2026"}}, path="/login")
        cookie = reloaded.find_var("session_token")
    finally:
        reloaded.close()
    assert cookie
    after = ForgedClient(world.base_url, token=tab, cookie=cookie, path="/")
    try:
        assert leaks("employee", after.received()) == []
    finally:
        after.close()
