"""Attendance pages: the check-in card (on Home and My attendance), My attendance, Team (today and month),
Attendance approvals and Attendance settings."""

from __future__ import annotations

import reflex as rx

from hr_portal.attendance.state import (
    GEO_JS,
    ApprovalsState,
    AttendanceSettingsState,
    CheckInState,
    MyAttendanceState,
    TeamState,
)
from hr_portal.core.authz import ALL_ROLES, APPROVER_ROLES, HR_ROLES, register_page
from hr_portal.ui.components import error_callout, field, page_header
from hr_portal.ui.layout import app_shell

register_page("attendance", ALL_ROLES, nav=("My attendance", "/attendance", "clock"), order=10)
register_page("attendance_team", APPROVER_ROLES, nav=("Team", "/attendance/team", "users"), order=30)
register_page("attendance_approvals", APPROVER_ROLES,
              nav=("Attendance approvals", "/attendance/approvals", "clipboard-check"), order=45)
register_page("attendance_settings", HR_ROLES,
              nav=("Attendance settings", "/attendance/settings", "timer"), order=80)


def register(app: rx.App) -> None:
    app.add_page(my_attendance_page, route="/attendance", title="My attendance · HR Portal",
                 on_load=MyAttendanceState.open_page)
    app.add_page(team_page, route="/attendance/team", title="Team · HR Portal", on_load=TeamState.open_page)
    app.add_page(approvals_page, route="/attendance/approvals", title="Attendance approvals · HR Portal",
                 on_load=ApprovalsState.open_page)
    app.add_page(settings_page, route="/attendance/settings", title="Attendance settings · HR Portal",
                 on_load=AttendanceSettingsState.open_page)


_SELECT_STYLE = {"width": "100%", "padding": "8px", "border_radius": "6px", "font_size": "15px",
                 "border": "1px solid var(--gray-7)", "background": "var(--color-surface)", "color": "var(--gray-12)"}


def _scroll_table(*parts: rx.Component, size: str = "2") -> rx.Component:
    # contain: inline-size keeps a wide table (the month matrix) from widening the page: it scrolls inside.
    return rx.box(rx.table.root(*parts, width="100%", variant="surface", size=size), width="100%", overflow_x="auto",
                  style={"contain": "inline-size"})


def _badge(label: rx.Var, color: rx.Var, **props) -> rx.Component:
    return rx.badge(label, color_scheme=color.to(str), variant="soft", size="2", **props)


def _month_switcher(state, *, label: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("chevron-left", size=18), variant="soft", color_scheme="gray",
                       on_click=state.change_month(-1), aria_label="Previous month"),
        rx.text(label, size="3", weight="bold", min_width="130px", text_align="center", data_testid="month-label"),
        rx.icon_button(rx.icon("chevron-right", size=18), variant="soft", color_scheme="gray",
                       on_click=state.change_month(1), aria_label="Next month", disabled=state.is_current_month),
        spacing="2", align="center",
    )


# ================================================================ check-in card


# A freshly shown punch button ignores the pointer for 0.7 s, so the second click of a double click on
# "Check in" cannot land on the "Check out" button that replaced it.
_ARM_CSS = "@keyframes hr-punch-arm { from { pointer-events: none; } to { pointer-events: none; } }"
_ARM = {"animation": "hr-punch-arm 0.7s"}


def checkin_card() -> rx.Component:
    """The one-click check-in/check-out card: live clock in the company's time zone, status, hours."""
    c = CheckInState.card
    is_in = CheckInState.card_state == "in"
    status_line = rx.match(
        CheckInState.card_state,
        ("in", rx.hstack(rx.badge(rx.icon("circle-check", size=14), "Checked in since " + c["since"].to(str),
                                  color_scheme="green", variant="soft", size="3"),
                         rx.cond(c["late"].to(bool), rx.badge("Late", color_scheme="orange", variant="soft", size="3"),
                                 rx.fragment()),
                         spacing="2", wrap="wrap")),
        ("out", rx.hstack(rx.badge(rx.icon("log-out", size=14), "Checked out at " + c["last_out"].to(str),
                                   color_scheme="indigo", variant="soft", size="3"),
                          rx.cond(c["system_closed"].to(bool),
                                  rx.badge("Closed automatically", color_scheme="amber", variant="soft", size="3"),
                                  rx.fragment()),
                          spacing="2", wrap="wrap")),
        rx.badge(rx.icon("circle-dashed", size=14), "Not checked in", color_scheme="gray", variant="soft", size="3"),
    )
    button = rx.cond(
        is_in,
        rx.button(rx.cond(CheckInState.punch_busy, rx.spinner(size="3"), rx.icon("log-out", size=22)), "Check out",
                  size="4", color_scheme="tomato", on_click=rx.call_script(GEO_JS, callback=CheckInState.punch_out),
                  disabled=CheckInState.punch_busy, width="100%", min_height="56px", data_testid="punch-button",
                  key="punch-out", style=_ARM),
        rx.button(rx.cond(CheckInState.punch_busy, rx.spinner(size="3"), rx.icon("log-in", size=22)),
                  rx.cond(CheckInState.card_state == "out", "Check in again", "Check in"),
                  size="4", color_scheme="grass", on_click=rx.call_script(GEO_JS, callback=CheckInState.punch_in),
                  disabled=CheckInState.punch_busy, width="100%", min_height="56px", data_testid="punch-button",
                  key="punch-in", style=_ARM),
    )
    body = rx.vstack(
        rx.flex(
            rx.vstack(
                rx.text(c["date_label"].to(str), size="2", color_scheme="gray"),
                rx.text(rx.el.span(c["clock"].to(str), custom_attrs={"data-hr-clock": c["timezone"].to(str)}),
                        size="8", weight="bold", style={"font_variant_numeric": "tabular-nums", "line_height": "1.1"},
                        aria_label="Current time", data_testid="live-clock"),
                rx.text(c["timezone"].to(str) + " · shift " + c["shift_label"].to(str), size="1",
                        color_scheme="gray"),
                spacing="1", min_width="0",
            ),
            rx.vstack(
                rx.box(status_line, role="status", aria_live="polite", data_testid="punch-status"),
                rx.hstack(
                    rx.text("Worked today", size="2", color_scheme="gray"),
                    rx.text(rx.el.span(c["worked_label"].to(str),
                                       custom_attrs={"data-hr-worked": c["worked_base"].to(str),
                                                     "data-hr-since": c["since_ms"].to(str)}),
                            size="3", weight="bold", data_testid="worked-today"),
                    spacing="2", align="baseline",
                ),
                rx.cond(c["first_in"].to(str) != "",
                        rx.text("First in " + c["first_in"].to(str)
                                + rx.cond(c["last_out"].to(str) != "", " · last out " + c["last_out"].to(str), ""),
                                size="1", color_scheme="gray"),
                        rx.fragment()),
                spacing="2", min_width="0",
            ),
            direction=rx.breakpoints(initial="column", sm="row"), justify="between",
            gap="16px", width="100%",
        ),
        error_callout(CheckInState.card_error),
        rx.box(button, width="100%"),
        rx.cond(c["location_required"].to(bool),
                rx.text(rx.icon("map-pin", size=12), " Your company records your location with each check-in.",
                        size="1", color_scheme="gray"),
                rx.fragment()),
        rx.el.span(custom_attrs={"data-hr-geo-required": CheckInState.geo_required}, hidden=True),
        rx.el.style(_ARM_CSS),
        spacing="3", width="100%",
    )
    return rx.card(
        rx.cond(CheckInState.card_ready, body,
                rx.cond(CheckInState.card_error != "", error_callout(CheckInState.card_error),
                        rx.vstack(rx.skeleton(height="28px", width="60%"), rx.skeleton(height="56px", width="100%"),
                                  spacing="3", width="100%"))),
        width="100%", size="3", on_mount=CheckInState.load_card, data_testid="checkin-card",
        margin_bottom="16px",
    )


# ================================================================ My attendance


def _stat(label: str, value: rx.Var, icon: str, hint: rx.Var | str | None = None) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=18), width="34px", height="34px", border_radius="8px",
                      background_color=rx.color("accent", 3), color=rx.color("accent", 11), flex_shrink="0"),
            rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                      rx.text(value, size="4", weight="bold", white_space="nowrap"),
                      rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
                      spacing="0"),
            spacing="3", align="center",
        ),
        width="100%", size="1",
    )


def _totals(t: rx.Var) -> rx.Component:
    return rx.grid(
        _stat("Present", t["present_days"].to(str) + " / " + t["working_days"].to(str), "calendar-check",
              "days / working days"),
        _stat("Late", t["late_days"].to(str), "alarm-clock", "half days: " + t["half_days"].to(str)),
        _stat("Absent", t["absent_days"].to(str), "calendar-x"),
        _stat("Leave", t["leave_label"].to(str), "plane", "days"),
        rx.box(_stat("Hours", t["total_short"].to(str), "timer", "avg " + t["average_label"].to(str) + " / day"),
               grid_column=rx.breakpoints(initial="span 2", sm="span 1")),
        columns=rx.breakpoints(initial="2", sm="3", lg="5"), spacing="3", width="100%",
    )


_CELL = {"padding_left": "6px", "padding_right": "6px"}
_SMALL_ON_PHONE = rx.breakpoints(initial="1", sm="2")


def _day_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(d["label"], weight="medium", size=_SMALL_ON_PHONE, white_space="nowrap"),
            rx.cond(d["is_today"], rx.text("today", size="1", color_scheme="gray"), rx.fragment()),
            spacing="0"), style=_CELL),
        rx.table.cell(rx.flex(
            rx.cond(d["status"] != "", _badge(d["status_label"], d["color"]),
                    rx.text("—", color_scheme="gray", size="2")),
            rx.cond(d["system_closed"], rx.tooltip(rx.badge("auto", color_scheme="amber", size="1"),
                                                   content="Closed automatically at shift end: check the times"),
                    rx.fragment()),
            rx.cond(d["corrected"], rx.badge("corrected", color_scheme="gray", size="1"), rx.fragment()),
            rx.cond(d["leave_label"] != "", rx.badge(d["leave_label"], color_scheme="blue", size="1"), rx.fragment()),
            rx.cond(d["pending"], rx.badge("correction pending", color_scheme="amber", size="1"), rx.fragment()),
            gap="4px", wrap="wrap", align="center"), style=_CELL),
        rx.table.cell(rx.vstack(
            rx.text(d["times"], white_space="nowrap", size=_SMALL_ON_PHONE,
                    style={"font_variant_numeric": "tabular-nums"}),
            rx.text(d["hours"], white_space="nowrap", size="1", color_scheme="gray"),
            spacing="0"), style=_CELL),
        rx.table.cell(rx.cond(
            d["can_correct"],
            rx.icon_button(rx.icon("pencil", size=14), size="1", variant="ghost",
                           on_click=MyAttendanceState.open_correction(d["date"]),
                           aria_label="Request a correction for " + d["label"].to(str)),
            rx.fragment()), style={"padding_left": "2px", "padding_right": "6px"}),
        data_testid="day-row",
    )


def _correction_dialog() -> rx.Component:
    s = MyAttendanceState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Request a correction"),
            rx.dialog.description(s.corr_date_label + " · times in " + s.timezone, size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(s.corr_error),
                rx.flex(
                    field("Check-in", rx.input(id="corr_in", type="time", value=s.corr_in, on_change=s.set_corr_in,
                                               size="3", width="100%", required=True), id="corr_in"),
                    field("Check-out", rx.input(id="corr_out", type="time", value=s.corr_out,
                                                on_change=s.set_corr_out, size="3", width="100%", required=True),
                          id="corr_out"),
                    gap="12px", width="100%", direction="row",
                ),
                rx.text("A check-out earlier than the check-in counts as the next morning (night shifts).", size="1",
                        color_scheme="gray"),
                field("Reason", rx.text_area(id="corr_reason", value=s.corr_reason, on_change=s.set_corr_reason,
                                             placeholder="For example: forgot to check out, badge reader was down",
                                             max_length=500, rows="3", width="100%"), id="corr_reason"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(s.corr_busy, rx.spinner(size="2"), rx.fragment()), "Send request",
                              on_click=s.submit_correction, disabled=s.corr_busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="480px",
        ),
        open=s.corr_open, on_open_change=s.set_corr_open,
    )


def _correction_row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(c["date_label"], weight="medium", size="2", white_space="nowrap"),
            rx.text(c["check_in"].to(str) + "–" + c["check_out"].to(str), size="2", white_space="nowrap"),
            rx.text(c["reason"], size="1", color_scheme="gray"),
            spacing="1")),
        rx.table.cell(rx.vstack(
            _badge(c["status_label"], c["color"], data_testid="correction-status"),
            rx.cond(c["comment"] != "", rx.text("“" + c["comment"].to(str) + "”", size="1"), rx.fragment()),
            spacing="1")),
        rx.table.cell(rx.cond(
            c["status"] == "pending",
            rx.button("Cancel", size="1", variant="soft", color_scheme="red",
                      on_click=MyAttendanceState.cancel_correction(c["id"]),
                      aria_label="Cancel correction for " + c["date_label"].to(str)),
            rx.fragment())),
        data_testid="correction-row",
    )


def my_attendance_page() -> rx.Component:
    s = MyAttendanceState
    return app_shell(
        page_header("My attendance",
                    rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", on_click=s.export_csv),
                    subtitle="Times in " + s.timezone + " · your shift " + s.shift_label),
        checkin_card(),
        rx.vstack(
            rx.flex(_month_switcher(s, label=s.month_label), justify="between", width="100%", align="center"),
            _totals(s.totals),
            _scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Day"), rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Times"), rx.table.column_header_cell(""),
                )),
                rx.table.body(rx.foreach(s.days, _day_row)),
                size="1",
            ),
            rx.card(
                rx.vstack(
                    rx.heading("My correction requests", size="4"),
                    rx.cond(
                        s.corrections.length() > 0,
                        _scroll_table(
                            rx.table.header(rx.table.row(
                                rx.table.column_header_cell("Day, proposed times, reason"),
                                rx.table.column_header_cell("Status"), rx.table.column_header_cell(""),
                            )),
                            rx.table.body(rx.foreach(s.corrections, _correction_row)),
                        ),
                        rx.text("No correction requests. If a past day's times are wrong or missing, use the pencil "
                                "on that day to ask your manager for a fix.", size="2", color_scheme="gray"),
                    ),
                    spacing="3", width="100%",
                ),
                width="100%",
            ),
            spacing="4", width="100%",
        ),
        _correction_dialog(),
    )


# ================================================================ Team


def _count_chip(label: str, key: str, color: str) -> rx.Component:
    return rx.badge(label + " " + TeamState.counts[key].to(str), color_scheme=color, variant="soft", size="3",
                    data_testid=f"count-{key}")


def _today_row(r: rx.Var) -> rx.Component:
    wide = ["none", "none", "table-cell"]
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(r["name"], weight="medium", size="2"),
            rx.text(r["designation"], size="1", color_scheme="gray"),
            spacing="0")),
        rx.table.cell(rx.vstack(
            rx.flex(_badge(r["label"], r["color"]),
                    rx.cond(r["late"] & (r["status"] != "late"),
                            rx.badge("late", color_scheme="orange", size="1"), rx.fragment()),
                    rx.cond(r["system_closed"], rx.badge("auto", color_scheme="amber", size="1"), rx.fragment()),
                    gap="4px", wrap="wrap", align="center"),
            rx.cond(r["hours"] != "",
                    rx.text(r["first_in"].to(str) + "–" + rx.cond(r["last_out"] != "", r["last_out"].to(str), "…")
                            + " · " + r["hours"].to(str), size="1", color_scheme="gray", white_space="nowrap"),
                    rx.fragment()),
            spacing="1")),
        rx.table.cell(rx.text(r["department"], size="1", color_scheme="gray"), display=wide),
        rx.table.cell(rx.text(r["shift"], size="1", color_scheme="gray", white_space="nowrap"), display=wide),
        data_testid="today-row",
    )


def _pager(page: rx.Var, pages: rx.Var, goto) -> rx.Component:
    return rx.cond(
        pages > 1,
        rx.hstack(
            rx.button("Previous", size="1", variant="soft", disabled=page <= 1, on_click=goto(page - 1)),
            rx.text("Page " + page.to(str) + " of " + pages.to(str), size="2"),
            rx.button("Next", size="1", variant="soft", disabled=page >= pages, on_click=goto(page + 1)),
            spacing="3", align="center", justify="end", width="100%",
        ),
        rx.fragment(),
    )


def _team_today() -> rx.Component:
    s = TeamState
    return rx.vstack(
        rx.flex(
            _count_chip("In", "in", "green"), _count_chip("Late", "late", "orange"),
            _count_chip("Not in yet", "not_in", "gray"), _count_chip("On leave", "on_leave", "blue"),
            _count_chip("Checked out", "out", "indigo"), _count_chip("Absent", "absent", "red"),
            gap="8px", wrap="wrap",
        ),
        rx.cond(
            s.today_total > 0,
            rx.card(_scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Person"), rx.table.column_header_cell("Today"),
                    rx.table.column_header_cell("Department", display=["none", "none", "table-cell"]),
                    rx.table.column_header_cell("Shift", display=["none", "none", "table-cell"]),
                )),
                rx.table.body(rx.foreach(s.today_rows, _today_row)),
            ), width="100%", size="1"),
            rx.callout("Nobody reports to you yet. When people are added to your team, their day shows up here.",
                       icon="info", width="100%"),
        ),
        _pager(s.today_page, s.today_pages, TeamState.today_goto),
        rx.text("Updates live as people check in and out.", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    )


def _cell(c: rx.Var) -> rx.Component:
    return rx.table.cell(
        rx.cond(c["code"] != "",
                rx.badge(c["code"], color_scheme=c["color"].to(str), variant="soft", size="1",
                         style={"min_width": "26px", "justify_content": "center"}),
                rx.text("·", color_scheme="gray")),
        title=c["title"], padding="4px", text_align="center",
    )


def _month_row(r: rx.Var) -> rx.Component:
    sticky = {"position": "sticky", "left": "0", "background": "var(--color-panel-solid)", "z_index": "1"}
    return rx.table.row(
        rx.table.row_header_cell(rx.text(r["name"], size="2", weight="medium", white_space="nowrap"), style=sticky),
        rx.foreach(r["cells"].to(list[dict[str, str]]), _cell),
        rx.table.cell(r["present_days"]), rx.table.cell(r["late_days"]), rx.table.cell(r["half_days"]),
        rx.table.cell(r["absent_days"]), rx.table.cell(r["leave_label"]),
        rx.table.cell(rx.text(r["total_label"], white_space="nowrap")),
        data_testid="month-row",
    )


def _legend() -> rx.Component:
    items = [("P", "present", "green"), ("L", "late", "orange"), ("H", "half day", "amber"), ("A", "absent", "red"),
             ("LV", "on leave", "blue"), ("HO", "holiday", "cyan"), ("WO", "weekly off", "gray")]
    return rx.flex(*[rx.hstack(rx.badge(code, color_scheme=color, variant="soft", size="1"),
                               rx.text(text, size="1", color_scheme="gray"), spacing="1", align="center")
                     for code, text, color in items], gap="12px", wrap="wrap")


def _team_month() -> rx.Component:
    s = TeamState
    sticky = {"position": "sticky", "left": "0", "background": "var(--color-panel-solid)", "z_index": "1"}
    return rx.vstack(
        rx.flex(
            _month_switcher(s, label=s.month_label),
            rx.button(rx.icon("download", size=16), "Export CSV", variant="soft", on_click=s.export_csv),
            justify="between", width="100%", align="center", wrap="wrap", gap="8px",
        ),
        rx.card(_scroll_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Person", style=sticky),
                rx.foreach(s.month_days, lambda d: rx.table.column_header_cell(
                    rx.vstack(rx.text(d["weekday"], size="1", color_scheme="gray"), rx.text(d["day"], size="1"),
                              spacing="0", align="center"), padding="4px", text_align="center")),
                rx.table.column_header_cell("P"), rx.table.column_header_cell("L"),
                rx.table.column_header_cell("H"), rx.table.column_header_cell("A"),
                rx.table.column_header_cell("Leave"), rx.table.column_header_cell("Hours"),
            )),
            rx.table.body(rx.foreach(s.month_rows, _month_row)),
            size="1",
        ), width="100%", size="1"),
        _pager(s.month_page, s.month_pages, TeamState.month_goto),
        _legend(),
        spacing="3", width="100%",
    )


def team_page() -> rx.Component:
    return app_shell(
        page_header("Team", subtitle="Who is in today, and the month per person. Times in each person's company "
                                     "time zone."),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("Today", value="today"), rx.tabs.trigger("Month", value="month")),
            rx.tabs.content(rx.box(_team_today(), padding_top="16px"), value="today"),
            rx.tabs.content(rx.box(_team_month(), padding_top="16px"), value="month"),
            value=TeamState.tab, on_change=TeamState.set_tab, width="100%",
        ),
    )


# ================================================================ Attendance approvals


def _pending_card(p: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(rx.text(p["name"], weight="bold", size="3"),
                          rx.text(p["date_label"], size="2", color_scheme="gray"), spacing="0"),
                rx.text("asked " + p["requested"].to(str), size="1", color_scheme="gray"),
                justify="between", width="100%", align="start", gap="8px",
            ),
            rx.grid(
                rx.vstack(rx.text("Proposed", size="1", color_scheme="gray"),
                          rx.text(p["check_in"].to(str) + "–" + p["check_out"].to(str) + " (" + p["hours"].to(str)
                                  + ")", size="2", weight="medium"), spacing="0"),
                rx.vstack(rx.text("Recorded now", size="1", color_scheme="gray"),
                          rx.text(p["current"], size="2"), spacing="0"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            rx.text("“" + p["reason"].to(str) + "”", size="2"),
            rx.hstack(
                rx.button(rx.icon("x", size=16), "Reject", variant="soft", color_scheme="red",
                          on_click=ApprovalsState.start_decision(p["id"], False),
                          aria_label="Reject correction of " + p["name"].to(str)),
                rx.button(rx.icon("check", size=16), "Approve", color_scheme="grass",
                          on_click=ApprovalsState.start_decision(p["id"], True),
                          aria_label="Approve correction of " + p["name"].to(str)),
                justify="end", width="100%", spacing="2",
            ),
            spacing="3", width="100%",
        ),
        width="100%", data_testid="pending-correction",
    )


def _decision_dialog() -> rx.Component:
    s = ApprovalsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(s.decide_approve, "Approve correction", "Reject correction")),
            rx.dialog.description(s.decide_name + " · " + s.decide_when, size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(s.decide_error),
                field(rx.cond(s.decide_approve, "Comment (optional)", "Why? (required)"),
                      rx.text_area(id="decide_comment", value=s.decide_comment, on_change=s.set_decide_comment,
                                   max_length=500, rows="3", width="100%"),
                      id="decide_comment"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()),
                              rx.cond(s.decide_approve, "Approve", "Reject"),
                              color_scheme=rx.cond(s.decide_approve, "grass", "red"),
                              on_click=s.confirm_decision, disabled=s.busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="480px",
        ),
        open=s.dialog_open, on_open_change=s.set_dialog_open,
    )


def _decided_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(d["name"], weight="medium", size="2")),
        rx.table.cell(rx.text(d["date_label"], white_space="nowrap")),
        rx.table.cell(rx.text(d["check_in"].to(str) + "–" + d["check_out"].to(str), white_space="nowrap")),
        rx.table.cell(_badge(d["status_label"], d["color"])),
        rx.table.cell(rx.text(d["decided_by"], size="1")),
        rx.table.cell(rx.text(d["comment"], size="1", color_scheme="gray")),
    )


def approvals_page() -> rx.Component:
    s = ApprovalsState
    return app_shell(
        page_header("Attendance approvals",
                    subtitle="Correction requests from your direct reports (HR: everyone). Updates live."),
        rx.vstack(
            rx.hstack(rx.heading("Waiting for you", size="4"),
                      rx.badge(s.total.to(str), color_scheme="amber", variant="soft", size="2",
                               data_testid="pending-count"),
                      spacing="2", align="center"),
            rx.cond(
                s.pending.length() > 0,
                rx.grid(rx.foreach(s.pending, _pending_card), columns=rx.breakpoints(initial="1", md="2"),
                        spacing="3", width="100%"),
                rx.callout("Nothing to decide. New correction requests appear here as they arrive, without a reload.",
                           icon="inbox", width="100%", data_testid="queue-empty"),
            ),
            rx.cond(
                s.decided.length() > 0,
                rx.card(rx.vstack(
                    rx.heading("Recently decided", size="4"),
                    _scroll_table(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Person"), rx.table.column_header_cell("Day"),
                            rx.table.column_header_cell("Times"), rx.table.column_header_cell("Decision"),
                            rx.table.column_header_cell("By"), rx.table.column_header_cell("Comment"),
                        )),
                        rx.table.body(rx.foreach(s.decided, _decided_row)),
                    ),
                    spacing="3", width="100%"), width="100%"),
                rx.fragment(),
            ),
            spacing="4", width="100%",
        ),
        _decision_dialog(),
    )


# ================================================================ Attendance settings


def _shift_row(r: rx.Var) -> rx.Component:
    s = AttendanceSettingsState
    return rx.table.row(
        rx.table.row_header_cell(rx.hstack(
            rx.text(r["name"], weight="medium"),
            rx.cond(r["is_default"], rx.badge("Default", color_scheme="indigo", size="1"), rx.fragment()),
            rx.cond(r["night"], rx.badge("Night", color_scheme="violet", size="1"), rx.fragment()),
            spacing="2", align="center")),
        rx.table.cell(rx.text(r["hours_label"], white_space="nowrap")),
        rx.table.cell(r["grace_minutes"].to(str) + " min"),
        rx.table.cell(r["half_day_label"]),
        rx.table.cell(r["auto_checkout_minutes"].to(str) + " min"),
        rx.table.cell(r["assigned"]),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=s.start_shift(r["id"]),
                      aria_label="Edit shift " + r["name"].to(str)),
            rx.cond(r["is_default"], rx.fragment(),
                    rx.alert_dialog.root(
                        rx.alert_dialog.trigger(rx.button("Delete", size="1", variant="soft", color_scheme="red",
                                                          aria_label="Delete shift " + r["name"].to(str))),
                        rx.alert_dialog.content(
                            rx.alert_dialog.title("Delete shift " + r["name"].to(str) + "?"),
                            rx.alert_dialog.description("People on this shift go back to the company's default shift. "
                                                        "Recorded days keep their status."),
                            rx.hstack(rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                                      rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                                                       on_click=s.delete_shift(r["id"]))),
                                      justify="end", spacing="2", padding_top="12px"),
                        ),
                    )),
            spacing="2")),
    )


def _num_input(id: str, value: rx.Var, name: str, *, step: str = "1", lo: str = "0", hi: str = "720") -> rx.Component:
    s = AttendanceSettingsState
    return rx.input(id=id, type="number", value=value, step=step, min=lo, max=hi, size="3", width="100%",
                    on_change=lambda v: s.set_sd_field(name, v))


def _shift_dialog() -> rx.Component:
    s = AttendanceSettingsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(s.sd_id, "Edit shift", "Add shift")),
            rx.dialog.description("Times are wall-clock times in " + s.company_tz + ". An end before the start means "
                                  "a night shift; it counts toward the day it starts.", size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(s.sd_error),
                field("Name", rx.input(id="sd_name", value=s.sd_name, on_change=lambda v: s.set_sd_field("sd_name", v),
                                       size="3", width="100%", max_length=80), id="sd_name"),
                rx.flex(
                    field("Start", rx.input(id="sd_start", type="time", value=s.sd_start,
                                            on_change=lambda v: s.set_sd_field("sd_start", v), size="3",
                                            width="100%"), id="sd_start"),
                    field("End", rx.input(id="sd_end", type="time", value=s.sd_end,
                                          on_change=lambda v: s.set_sd_field("sd_end", v), size="3", width="100%"),
                          id="sd_end"),
                    gap="12px", width="100%",
                ),
                rx.flex(
                    field("Grace (minutes)", _num_input("sd_grace", s.sd_grace, "sd_grace", hi="240"), id="sd_grace",
                          hint="Late after start + grace"),
                    field("Half-day under (hours)", _num_input("sd_half", s.sd_half, "sd_half", step="0.5", hi="24"),
                          id="sd_half"),
                    gap="12px", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                field("Auto check-out after shift end (minutes)",
                      _num_input("sd_tolerance", s.sd_tolerance, "sd_tolerance"), id="sd_tolerance",
                      hint="A forgotten check-out is closed at shift end once this much time has passed, "
                           "and flagged for review."),
                rx.el.label(rx.hstack(rx.checkbox(checked=s.sd_default, on_change=s.set_sd_default),
                                      rx.text("Company default shift", size="2"), spacing="2", align="center")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save shift", on_click=s.save_shift),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="520px",
        ),
        open=s.sd_open, on_open_change=s.set_sd_open,
    )


def _site_dialog() -> rx.Component:
    s = AttendanceSettingsState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add an allowed site"),
            rx.dialog.description("Check-ins with a location farther than the radius from every site are refused.",
                                  size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(s.st_error),
                field("Name", rx.input(id="st_name", value=s.st_name, on_change=lambda v: s.set_st_field("st_name", v),
                                       size="3", width="100%", max_length=120, placeholder="Berlin office"),
                      id="st_name"),
                rx.flex(
                    field("Latitude", rx.input(id="st_lat", value=s.st_lat, type="number", step="any",
                                               on_change=lambda v: s.set_st_field("st_lat", v), size="3",
                                               width="100%", placeholder="52.52000"), id="st_lat"),
                    field("Longitude", rx.input(id="st_lon", value=s.st_lon, type="number", step="any",
                                                on_change=lambda v: s.set_st_field("st_lon", v), size="3",
                                                width="100%", placeholder="13.40500"), id="st_lon"),
                    gap="12px", width="100%",
                ),
                field("Radius (meters)", rx.input(id="st_radius", value=s.st_radius, type="number", min="10",
                                                  max="100000", on_change=lambda v: s.set_st_field("st_radius", v),
                                                  size="3", width="100%"), id="st_radius"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Add site", on_click=s.save_site),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="480px",
        ),
        open=s.st_open, on_open_change=s.set_st_open,
    )


def _site_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(r["name"], weight="medium")),
        rx.table.cell(rx.text(r["coords"], white_space="nowrap", size="1")),
        rx.table.cell(r["radius_m"].to(str) + " m"),
        rx.table.cell(rx.button("Remove", size="1", variant="soft", color_scheme="red",
                                on_click=AttendanceSettingsState.delete_site(r["id"]),
                                aria_label="Remove site " + r["name"].to(str))),
    )


def _override_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(r["name"], weight="medium")),
        rx.table.cell(r["shift_name"]),
        rx.table.cell(rx.text(r["hours_label"], white_space="nowrap")),
        rx.table.cell(rx.button("Use default", size="1", variant="soft",
                                on_click=AttendanceSettingsState.unassign(r["employee_id"]),
                                aria_label="Put " + r["name"].to(str) + " back on the default shift")),
    )


def settings_page() -> rx.Component:
    s = AttendanceSettingsState
    return app_shell(
        page_header("Attendance settings", rx.button(rx.icon("plus", size=16), "Add shift",
                                                     on_click=s.start_shift(0)),
                    subtitle="Shifts, grace, half-day and auto check-out rules, and where people may check in."),
        rx.vstack(
            rx.cond(
                s.companies.length() > 1,
                field("Company", rx.el.select(
                    rx.foreach(s.company_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                    id="att_company", value=s.company_id, on_change=s.pick_company, style=_SELECT_STYLE),
                    id="att_company"),
                rx.fragment(),
            ),
            rx.card(rx.vstack(
                rx.heading("Shifts", size="4"),
                _scroll_table(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h, white_space="nowrap") for h in
                          ("Name", "Hours", "Grace", "Half day under", "Auto check-out", "People", "")],
                    )),
                    rx.table.body(rx.foreach(s.shifts, _shift_row)),
                ),
                spacing="3", width="100%"), width="100%"),
            rx.card(rx.vstack(
                rx.heading("Location", size="4"),
                rx.el.label(rx.hstack(
                    rx.switch(checked=s.location_required, on_change=s.set_location_required),
                    rx.text("Require the browser's location to check in", size="2"),
                    spacing="2", align="center")),
                rx.text("Without this, a location is stored when the browser shares it. Allowed sites apply to every "
                        "check-in that has a location; require location to enforce them for everyone.",
                        size="1", color_scheme="gray"),
                rx.cond(s.sites.length() > 0,
                        _scroll_table(
                            rx.table.header(rx.table.row(
                                rx.table.column_header_cell("Site"), rx.table.column_header_cell("Center"),
                                rx.table.column_header_cell("Radius"), rx.table.column_header_cell(""),
                            )),
                            rx.table.body(rx.foreach(s.sites, _site_row)),
                        ),
                        rx.text("No allowed sites: a check-in is accepted anywhere.", size="2", color_scheme="gray")),
                rx.button(rx.icon("map-pin", size=16), "Add site", variant="soft", on_click=s.start_site),
                spacing="3", width="100%"), width="100%"),
            rx.card(rx.vstack(
                rx.heading("Per-person shifts", size="4"),
                rx.flex(
                    field("Person", rx.el.select(
                        rx.el.option("Choose a person…", value=""),
                        rx.foreach(s.people_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                        id="as_employee", value=s.as_employee, on_change=s.set_as_employee, style=_SELECT_STYLE),
                        id="as_employee"),
                    field("Shift", rx.el.select(
                        rx.el.option("Choose a shift…", value=""),
                        rx.foreach(s.shift_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                        id="as_shift", value=s.as_shift, on_change=s.set_as_shift, style=_SELECT_STYLE),
                        id="as_shift"),
                    rx.button("Assign", on_click=s.assign, align_self="end", size="3"),
                    gap="12px", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                rx.cond(s.overrides.length() > 0,
                        _scroll_table(
                            rx.table.header(rx.table.row(
                                rx.table.column_header_cell("Person"), rx.table.column_header_cell("Shift"),
                                rx.table.column_header_cell("Hours"), rx.table.column_header_cell(""),
                            )),
                            rx.table.body(rx.foreach(s.overrides, _override_row)),
                        ),
                        rx.text("Everyone works the default shift.", size="2", color_scheme="gray")),
                spacing="3", width="100%"), width="100%"),
            spacing="4", width="100%",
        ),
        _shift_dialog(),
        _site_dialog(),
    )
