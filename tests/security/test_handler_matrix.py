"""Authorization matrix of every Reflex event handler (issue 8), driven over the real websocket.

A browser can call any event handler of any state with any arguments. This suite lists every
handler the app registers (Reflex's own included: `RegistrationContext.event_handlers` is exactly
what the websocket dispatches to) and says, in one table, who may change data through it:

- ``ui``: a UI-only setter (dialog open, a form field, a tab): it touches no data;
- ``read``: it loads or shows data and never writes;
- letters: the roles that may write through it, called with the arguments below (ids of the demo
  organization's *victim*, who is outside the demo manager's team): N anonymous, E employee,
  M manager, H hr_manager, A admin, O the other organization's admin. The database check leaves out
  the outsider's own organization (where it may act), so O appears only where anyone at all may
  act on the demo organization (asking for a password reset link of any address).

A handler missing from the table fails `test_every_handler_has_a_row` (deny by default); a row
whose handler is gone fails it too. `test_matrix` then signs in as each role (plus anonymous and
the outsider), sends every handler with the standard arguments, and checks after each one:
nothing in the database changed unless the row allows that role, and nothing the role may not see
(markers, see conftest.MARKERS) came back in any state delta or event. The roles run at the same
time, each on its own tab; an event the row lets the role write through runs alone, so no allowed
write ever falls into another role's database check (forge.Gate).
"""

from __future__ import annotations

import inspect
import json
import typing

import pytest

from tests.security.conftest import ROLES, World, leaks
from tests.security.forge import ForgedClient, Gate, run_parallel

LETTERS = {"N": "anonymous", "E": "employee", "M": "manager", "H": "hr_manager", "A": "admin", "O": "outsider"}

# ---------------------------------------------------------------------------------------- the table
# handler key (module.State.handler) -> ui | read | the roles (letters) that may write through it
TABLE_TEXT = """
*.setvar                                         ui
reflex.State.hydrate                             read
reflex.State.hydrate_and_load                    read
reflex.State.set_is_hydrated                     ui
reflex.FrontendEventExceptionState.handle_frontend_exception read
reflex.OnLoadInternalState.on_load_internal      read
reflex.OnLoadInternalState.set_is_hydrated       ui
reflex.UpdateVarsInternalState.update_vars_internal ui
ui.SessionState.actor                            read
ui.SessionState.require                          read
ui.SessionState.check_session                    read
ui.SessionState.guard_page                       read
ui.SessionState.sign_out                         NEMHA
auth.AuthState.open_login                        read
auth.AuthState.open_forgot                       read
auth.AuthState.open_reset                        read
auth.AuthState.open_account                      read
auth.AuthState.sign_in                           read
auth.AuthState.request_reset                     NEMHAO
auth.AuthState.confirm_reset                     read
auth.AuthState.change_password                   read
dashboard.HomeState.open_home                    read
dashboard.HomeState.load_home                    read
attendance.CheckInState.load_card                read
attendance.CheckInState.watch_card               read
attendance.CheckInState.punch_in                 EMHA
attendance.CheckInState.punch_out                EMHA
attendance.MyAttendanceState.open_page           read
attendance.MyAttendanceState.watch               read
attendance.MyAttendanceState.change_month        read
attendance.MyAttendanceState.export_csv          read
attendance.MyAttendanceState.open_correction     ui
attendance.MyAttendanceState.set_corr_open       ui
attendance.MyAttendanceState.set_corr_in         ui
attendance.MyAttendanceState.set_corr_out        ui
attendance.MyAttendanceState.set_corr_reason     ui
attendance.MyAttendanceState.submit_correction   EMHA
attendance.MyAttendanceState.cancel_correction   -
attendance.TeamState.open_page                   read
attendance.TeamState.watch                       read
attendance.TeamState.set_tab                     ui
attendance.TeamState.today_goto                  read
attendance.TeamState.month_goto                  read
attendance.TeamState.change_month                read
attendance.TeamState.export_csv                  read
attendance.ApprovalsState.open_page              read
attendance.ApprovalsState.watch                  read
attendance.ApprovalsState.start_decision         read
attendance.ApprovalsState.set_dialog_open        ui
attendance.ApprovalsState.set_decide_comment     ui
attendance.ApprovalsState.confirm_decision       HA
attendance.AttendanceSettingsState.open_page     read
attendance.AttendanceSettingsState.pick_company  read
attendance.AttendanceSettingsState.start_shift   read
attendance.AttendanceSettingsState.set_sd_open   ui
attendance.AttendanceSettingsState.set_sd_field  ui
attendance.AttendanceSettingsState.set_sd_default ui
attendance.AttendanceSettingsState.save_shift    HA
attendance.AttendanceSettingsState.delete_shift  HA
attendance.AttendanceSettingsState.set_location_required HA
attendance.AttendanceSettingsState.start_site    ui
attendance.AttendanceSettingsState.set_st_open   ui
attendance.AttendanceSettingsState.set_st_field  ui
attendance.AttendanceSettingsState.save_site     HA
attendance.AttendanceSettingsState.delete_site   HA
attendance.AttendanceSettingsState.set_as_employee ui
attendance.AttendanceSettingsState.set_as_shift  ui
attendance.AttendanceSettingsState.assign        HA
attendance.AttendanceSettingsState.unassign      HA
employees.DirectoryState.open_directory          read
employees.DirectoryState.watch                   read
employees.DirectoryState.refresh                 read
employees.DirectoryState.clear_filters           read
employees.DirectoryState.clear_manager           read
employees.DirectoryState.export                  read
employees.DirectoryState.go_page                 read
employees.DirectoryState.open_profile            read
employees.DirectoryState.pick_manager            read
employees.DirectoryState.search_manager          read
employees.DirectoryState.set_filter              read
employees.DirectoryState.set_page_size           read
employees.DirectoryState.set_search              read
employees.DirectoryState.sort                    read
employees.ProfileState.open_profile              read
employees.ProfileState.watch                     read
employees.ProfileState.refresh                   read
employees.ProfileState.open_person               read
employees.ProfileState.set_tab                   ui
employees.ProfileState.set_confirm_open          ui
employees.ProfileState.set_move_reports          ui
employees.ProfileState.ask_deactivate            ui
employees.ProfileState.deactivate                HA
employees.ProfileState.reactivate                HA
employees.ProfileState.upload_photo              HA
employees.ProfileState.ask_remove_photo          ui
employees.ProfileState.set_remove_photo_open     ui
employees.ProfileState.remove_photo              HA
employees.EmployeeFormState.start_create         read
employees.EmployeeFormState.start_edit           read
employees.EmployeeFormState.set_open             ui
employees.EmployeeFormState.set_value            ui
employees.EmployeeFormState.search_department    read
employees.EmployeeFormState.search_manager       read
employees.EmployeeFormState.pick_department      ui
employees.EmployeeFormState.pick_manager         ui
employees.EmployeeFormState.clear_department     ui
employees.EmployeeFormState.clear_manager        ui
employees.EmployeeFormState.save                 HA
employees.DepartmentsState.open_departments      read
employees.DepartmentsState.watch                 read
employees.DepartmentsState.toggle_archived       read
employees.DepartmentsState.start_create          ui
employees.DepartmentsState.start_edit            read
employees.DepartmentsState.set_name              ui
employees.DepartmentsState.set_company           ui
employees.DepartmentsState.search_head           read
employees.DepartmentsState.pick_head             ui
employees.DepartmentsState.clear_head            ui
employees.DepartmentsState.set_dialog_open       ui
employees.DepartmentsState.set_confirm_open      ui
employees.DepartmentsState.ask_archive           read
employees.DepartmentsState.save                  HA
employees.DepartmentsState.confirm               HA
employees.OrgChartState.open_chart               read
employees.OrgChartState.open_person              read
employees.OrgChartState.expand_all_levels        read
employees.OrgChartState.reveal                   read
employees.OrgChartState.search                   read
employees.OrgChartState.show_top                 read
employees.OrgChartState.start_from               read
employees.OrgChartState.toggle                   read
employees.ImportState.open_import                read
employees.ImportState.download_template          read
employees.ImportState.go_rows                    read
employees.ImportState.set_only_valid             ui
employees.ImportState.set_row_filter             ui
employees.ImportState.set_send_welcome           ui
employees.ImportState.start_over                 ui
employees.ImportState.handle_upload              HA
employees.ImportState.apply                      HA
leave.MyLeaveState.open_page                     read
leave.MyLeaveState.watch                         read
leave.MyLeaveState.go_page                       read
leave.MyLeaveState.open_apply                    read
leave.MyLeaveState.refresh_quote                 read
leave.MyLeaveState.show_ledger                   read
leave.MyLeaveState.set_apply_open                ui
leave.MyLeaveState.set_f_type                    read
leave.MyLeaveState.set_f_start                   read
leave.MyLeaveState.set_f_end                     read
leave.MyLeaveState.set_f_half_start              read
leave.MyLeaveState.set_f_half_end                read
leave.MyLeaveState.set_f_reason                  ui
leave.MyLeaveState.set_ledger_open               ui
leave.MyLeaveState.upload_attachment             EMHA
leave.MyLeaveState.clear_attachment              read
leave.MyLeaveState.submit                        EMHA
leave.MyLeaveState.cancel_request                -
leave.ApprovalsState.open_page                   read
leave.ApprovalsState.watch                       read
leave.ApprovalsState.go_page                     read
leave.ApprovalsState.ask                         read
leave.ApprovalsState.ask_selected                read
leave.ApprovalsState.toggle                      ui
leave.ApprovalsState.toggle_all                  read
leave.ApprovalsState.set_comment                 ui
leave.ApprovalsState.set_dialog_open             ui
leave.ApprovalsState.confirm                     HA
leave.ApprovalsState.set_d_delegate              ui
leave.ApprovalsState.set_d_start                 ui
leave.ApprovalsState.set_d_end                   ui
leave.ApprovalsState.add_delegation              MHA
leave.ApprovalsState.revoke                      HA
leave.CalendarState.open_page                    read
leave.CalendarState.watch                        read
leave.CalendarState.set_department              read
leave.CalendarState.set_only_off                 ui
leave.CalendarState.shift                        read
leave.SetupState.open_page                       read
leave.SetupState.watch                           read
leave.SetupState.set_tab                         read
leave.SetupState.shift_year                      read
leave.SetupState.preview                         read
leave.SetupState.new_type                        ui
leave.SetupState.edit_type                       read
leave.SetupState.set_type_open                   ui
leave.SetupState.set_tf                          ui
leave.SetupState.save_type                       HA
leave.SetupState.new_holiday                     ui
leave.SetupState.edit_holiday                    read
leave.SetupState.set_h_open                      ui
leave.SetupState.set_h_company                   read
leave.SetupState.set_h_date                      ui
leave.SetupState.set_h_name                      ui
leave.SetupState.set_h_recurring                 ui
leave.SetupState.save_holiday                    HA
leave.SetupState.delete_holiday                  HA
leave.SetupState.set_csv_text                    ui
leave.SetupState.upload_csv                      HA
leave.SetupState.import_csv                      HA
leave.SetupState.set_a                           ui
leave.SetupState.allocate                        HA
notifications.NotificationBellState.start_bell   read
notifications.NotificationBellState.watch_bell   read
notifications.NotificationBellState.set_bell_open read
notifications.NotificationBellState.open_item    -
notifications.NotificationBellState.mark_all_read EMHA
notifications.NotificationsPageState.open_page   read
notifications.NotificationsPageState.watch       read
notifications.NotificationsPageState.go_page     read
notifications.NotificationsPageState.set_kind    read
notifications.NotificationsPageState.set_show    read
notifications.NotificationsPageState.open_item   -
notifications.NotificationsPageState.mark_read   -
notifications.NotificationsPageState.mark_all_read EMHA
notifications.NotificationPrefsState.open_prefs  read
notifications.NotificationPrefsState.set_channel EMHA
notifications.NotificationPrefsState.set_share   EMHA
notifications.MailOutboxState.open_outbox        read
notifications.MailOutboxState.go_page            read
notifications.MailOutboxState.search_mails      read
notifications.MailOutboxState.set_status        read
notifications.MailOutboxState.set_detail_open   ui
notifications.MailOutboxState.view              read
notifications.MailOutboxState.resend            A
org.SettingsState.open_settings                  read
org.SettingsState.watch                          read
org.SettingsState.start_create                   ui
org.SettingsState.start_edit                     read
org.SettingsState.set_dialog_open                ui
org.SettingsState.set_form_name                  ui
org.SettingsState.set_form_timezone              ui
org.SettingsState.toggle_off                     ui
org.SettingsState.save_company                   A
org.SettingsState.save_org_name                  A
org.JobsState.open_jobs                          read
org.JobsState.run_now                            A
org.AuditState.open_audit                        read
org.AuditState.apply_filters                     read
org.AuditState.go_page                           read
reports.HeadcountState.open_page                 read
reports.HeadcountState.reload                    read
reports.HeadcountState.export_csv                read
reports.HeadcountState.pick_company              read
reports.HeadcountState.pick_department           read
reports.HeadcountState.preset                    read
reports.HeadcountState.set_start                 read
reports.HeadcountState.set_end                   read
reports.AttendanceReportState.open_page          read
reports.AttendanceReportState.reload             read
reports.AttendanceReportState.export_csv         read
reports.AttendanceReportState.pick_company       read
reports.AttendanceReportState.pick_department    read
reports.AttendanceReportState.preset             read
reports.AttendanceReportState.set_start          read
reports.AttendanceReportState.set_end            read
reports.LeaveReportState.open_page               read
reports.LeaveReportState.reload                  read
reports.LeaveReportState.export_csv              read
reports.LeaveReportState.pick_company            read
reports.LeaveReportState.pick_department         read
reports.LeaveReportState.preset                  read
reports.LeaveReportState.set_start               read
reports.LeaveReportState.set_end                 read
reports.SheetState.open_page                     read
reports.SheetState.reload                        read
reports.SheetState.export_csv                    read
reports.SheetState.goto                          read
reports.SheetState.pick_company                  read
reports.SheetState.pick_department               read
reports.SheetState.pick_month                    read
"""


def parse_table(text: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in text.strip().splitlines():
        key, spec = line.split()
        assert key not in table, f"duplicate row {key}"
        assert spec in ("ui", "read", "-") or set(spec) <= set(LETTERS), f"bad spec {spec!r} for {key}"
        table[key] = spec
    return table


TABLE = parse_table(TABLE_TEXT)


def writers(spec: str) -> set[str]:
    """Roles that may change data through a handler with this spec ("-": nobody, through these arguments)."""
    return {LETTERS[c] for c in spec} if spec not in ("ui", "read", "-") else set()


# ------------------------------------------------------------------------------ the app's handlers


def _short(module: str) -> str:
    return module.split(".")[1] if module.startswith("hr_portal.") else "reflex"


def registered_handlers() -> dict[str, tuple[str, object]]:
    """Every handler the websocket dispatches to: key -> (event name, EventHandler)."""
    from reflex_base.registry import RegistrationContext

    import hr_portal.hr_portal  # noqa: F401  (the app: registers every page and state)

    registry = RegistrationContext.get()
    found = {}
    for name, registered in registry.event_handlers.items():
        path, _, handler = name.rpartition(".")
        cls = registry.base_states[path]
        found[f"{_short(cls.__module__)}.{cls.__name__}.{handler}"] = (name, registered.handler)
    return found


def row_for(key: str) -> str | None:
    if key in TABLE:
        return TABLE[key]
    wildcard = "*." + key.rsplit(".", 1)[1]
    return TABLE.get(wildcard)


def test_every_handler_has_a_row():
    handlers = registered_handlers()
    missing = sorted(k for k in handlers if row_for(k) is None)
    assert not missing, "event handlers with no row in the authorization table (deny by default):\n" + "\n".join(missing)
    stale = sorted(k for k in TABLE if not k.startswith("*.") and k not in handlers)
    assert not stale, "rows for handlers that no longer exist:\n" + "\n".join(stale)


# ------------------------------------------------------------------------------ arguments and paths

PAGE_OF = {
    "attendance.CheckInState": "/", "attendance.MyAttendanceState": "/attendance",
    "attendance.TeamState": "/attendance/team", "attendance.ApprovalsState": "/attendance/approvals",
    "attendance.AttendanceSettingsState": "/attendance/settings", "auth.AuthState": "/login",
    "employees.DirectoryState": "/employees", "employees.EmployeeFormState": "/employees",
    "employees.DepartmentsState": "/departments", "employees.OrgChartState": "/org-chart",
    "employees.ImportState": "/employees/import", "leave.MyLeaveState": "/leave",
    "leave.ApprovalsState": "/leave/approvals", "leave.CalendarState": "/leave/calendar",
    "leave.SetupState": "/leave/setup", "notifications.NotificationsPageState": "/notifications",
    "notifications.NotificationPrefsState": "/notifications/preferences",
    "notifications.MailOutboxState": "/settings/mail", "org.SettingsState": "/settings",
    "org.JobsState": "/settings/jobs", "org.AuditState": "/settings/audit", "reports.HeadcountState": "/reports",
    "reports.AttendanceReportState": "/reports/attendance", "reports.LeaveReportState": "/reports/leave",
    "reports.SheetState": "/reports/sheet",
}


def page_for(key: str, world: World) -> tuple[str, dict]:
    """(path, query) the event claims to come from: the handler's own page."""
    state = key.rsplit(".", 1)[0]
    if state == "employees.ProfileState":
        victim = world.ids["employee"]
        return f"/employees/{victim}", {"profile_id": str(victim)}
    return PAGE_OF.get(state, "/"), {}


def arguments(key: str, handler, world: World) -> dict:
    """The standard arguments: the victim's records wherever a handler takes an id."""
    ids = world.ids
    s = {k: str(v) for k, v in ids.items()}
    special = {
        "ui.SessionState.guard_page": {"page": "settings"},
        "auth.AuthState.sign_in": {"form": {"email": world.victim_email, "password": "Wrong-password-1"}},
        "auth.AuthState.request_reset": {"form": {"email": world.victim_email}},
        "auth.AuthState.confirm_reset": {"form": {"new_password": "Forged-pass-2026",
                                                  "confirm_password": "Forged-pass-2026"}},
        "auth.AuthState.change_password": {"form": {"current_password": "Wrong-password-1",
                                                    "new_password": "Forged-pass-2026",
                                                    "confirm_password": "Forged-pass-2026"}},
        "attendance.AttendanceSettingsState.pick_company": {"value": s["company"]},
        "attendance.AttendanceSettingsState.set_sd_field": {"name": "name", "value": "Forged shift"},
        "attendance.AttendanceSettingsState.set_st_field": {"name": "name", "value": "Forged site"},
        "attendance.AttendanceSettingsState.set_as_employee": {"value": s["employee"]},
        "attendance.AttendanceSettingsState.set_as_shift": {"value": s["shift"]},
        "attendance.MyAttendanceState.open_correction": {"day": "2026-01-05"},
        "employees.DirectoryState.set_filter": {"name": "department", "value": s["department"]},
        "employees.DirectoryState.sort": {"column": "name"},
        "employees.EmployeeFormState.set_value": {"name": "designation", "value": "Forged"},
        "employees.EmployeeFormState.save": {"form": {"designation": "Forged", "role": "admin"}},
        "employees.DepartmentsState.set_company": {"value": s["company"]},
        "leave.MyLeaveState.set_f_type": {"value": s["leave_type"]},
        "leave.MyLeaveState.open_apply": {"type_id": s["leave_type"]},
        "leave.ApprovalsState.ask": {"leave_id": ids["leave"], "status": "approved"},
        "leave.ApprovalsState.ask_selected": {"status": "approved"},
        "leave.ApprovalsState.set_d_delegate": {"value": s["employee"]},
        "leave.CalendarState.set_department": {"value": s["department"]},
        "leave.SetupState.set_h_company": {"value": s["company"]},
        "leave.SetupState.set_tf": {"key": "name", "value": "Forged type"},
        "leave.SetupState.set_a": {"key": "a_person", "value": s["employee"]},
        "leave.SetupState.preview": {"job": "accrual"},
        "leave.SetupState.set_tab": {"value": "holidays"},
        "notifications.NotificationPrefsState.set_channel": {"kind": "leave_decided", "channel": "none"},
        "notifications.MailOutboxState.search_mails": {"form": {"q": "ZQSECRET"}},
        "org.SettingsState.save_org_name": {"form": {"name": "Forged Org"}},
        "org.SettingsState.start_edit": {"company_id": ids["company"]},
        "org.JobsState.run_now": {"job_id": "leave.accrual"},
        "org.AuditState.apply_filters": {"form": {}},
        "reports.SheetState.pick_month": {"value": "2026-01"},
    }
    if key in special:
        return special[key]
    if key.endswith(".pick_company"):
        return {"value": s["company"]}
    if key.endswith(".pick_department"):
        return {"value": s["department"]}
    by_name = {
        "employee_id": ids["employee"], "leave_id": ids["leave"], "correction_id": ids["correction"],
        "department_id": ids["department"], "shift_id": ids["shift"], "site_id": ids["site"],
        "holiday_id": ids["holiday"], "type_id": ids["leave_type"], "leave_type_id": ids["leave_type"],
        "delegation_id": ids["delegation"], "mail_id": ids["mail"], "notification_id": ids["notification"],
        "company_id": ids["company"], "delta": 1, "page": 2, "approve": True, "checked": True,
        "day": 3, "geo": None, "form": {}, "files": [], "vars": {}, "info": "x", "component_stack": "x",
        "column": "name", "name": "month", "var_name": "dialog_open",
    }
    fn = handler.fn
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - Reflex's own handlers
        params, hints = [], {}
    out = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in by_name:
            out[p.name] = by_name[p.name]
        elif hints.get(p.name) is bool:
            out[p.name] = True
        elif p.name == "value":
            out[p.name] = "Forged"
        elif p.default is not inspect.Parameter.empty:
            continue
        else:
            out[p.name] = "Forged"
    if key.endswith(".setvar"):
        out = {"var_name": "dialog_open", "value": True}
    return out


# Preparing steps run first within a state (they pick the record the action then works on).
_PREP = ("set_", "start_", "ask", "pick_", "edit_", "open_", "toggle", "new_", "search", "preview", "show_")


def _order(key: str) -> tuple:
    state, _, handler = key.rpartition(".")
    last = handler in ("sign_out",)
    return (last, state, 0 if handler.startswith(_PREP) else 1, handler)


# ---------------------------------------------------------------------------------------- the drive


@pytest.mark.e2e
def test_matrix(forge_world: World, record_property):
    problems, handlers, sent = drive_matrix(forge_world)
    record_property("handlers", handlers)
    record_property("events", sent)
    print(f"authorization matrix: {handlers} handlers x {len(ROLES)} roles, {sent} events sent")
    assert not problems, "\n".join(problems)


def drive_matrix(world: World, roles: tuple[str, ...] = ROLES, *, parallel: bool = True) -> tuple[list[str], int, int]:
    """Send every handler as every role (the roles at once, see forge.Gate); return (problems,
    handlers covered, events sent)."""
    handlers = registered_handlers()
    keys = sorted(handlers, key=_order)
    gate = Gate()
    work = {role: (lambda role=role: _drive_role(world, role, handlers, keys, gate)) for role in roles}
    results = run_parallel(work) if parallel else {role: fn() for role, fn in work.items()}
    problems = [p for role in roles for p in results[role][0]]
    return problems, len(handlers), sum(results[role][1] for role in roles)


def _drive_role(world: World, role: str, handlers: dict, keys: list[str], gate: Gate) -> tuple[list[str], int]:
    problems: list[str] = []
    sent = 0
    last = None  # the fingerprint after the previous checked event: the next one's "before"
    last_epoch = -1
    client = ForgedClient(world.base_url, cookie=world.cookies[role])
    try:
        for key in keys:
            name, handler = handlers[key]
            spec = row_for(key)
            may_write = role in writers(spec)
            path, query = page_for(key, world)
            payload = arguments(key, handler, world)
            with gate.write() if may_write else gate.read():
                if key == "ui.SessionState.sign_out":
                    client.close()
                    client = ForgedClient(world.base_url, cookie=world.new_cookie(role))
                if may_write:
                    before = last = None
                else:
                    before = last if last is not None and last_epoch == gate.epoch else world.fingerprint.take()
                text = client.call(name, payload, path=path, query=query,
                                   settle=0.5 if handler.is_background else 0.0)
                sent += 1
                if key.startswith("reflex.State.hydrate"):
                    client.restore_cookie()  # a hydrate resets client storage, the browser then sends it again
                if before is not None:
                    last, last_epoch = world.fingerprint.take(), gate.epoch
                    changed = world.fingerprint.changed(before, last)
                    if changed:
                        problems.append(f"{role} {key}({json.dumps(payload)}) [{spec}] changed {changed}")
            found = leaks(role, text)
            if found:
                problems.append(f"{role} {key}({json.dumps(payload)}) revealed {found}: "
                                f"{_context(text, found[0])}")
    finally:
        client.close()
    return problems, sent


def _context(text: str, marker: str, width: int = 160) -> str:
    i = text.find(marker)
    return text[max(0, i - width): i + width]
