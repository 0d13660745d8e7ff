"""Reports: headcount, attendance, the monthly attendance sheet and leave, each with filters (date range,
company, department), charts and a CSV export. HR and admins see the organization, a manager their team."""

from __future__ import annotations

import reflex as rx

from hr_portal.attendance import service as attendance_service
from hr_portal.core.authz import APPROVER_ROLES, register_page
from hr_portal.reports.state import (
    PRESETS,
    AttendanceReportState,
    HeadcountState,
    LeaveReportState,
    ReportsState,
    SheetState,
)
from hr_portal.ui.components import field, page_header
from hr_portal.ui.layout import app_shell

register_page("reports", APPROVER_ROLES, nav=("Reports", "/reports", "chart-column"), order=60)

TICK = {"fill": rx.color("gray", 11), "fontSize": 12}
AXIS = rx.color("gray", 8)
GRID_STROKE = rx.color("gray", 5)
STATUS_COLORS = {"present": "green", "late": "orange", "half_day": "amber", "absent": "red", "on_leave": "blue",
                 "holiday": "cyan", "weekly_off": "gray", "": "gray"}
TABS = [("Headcount", "/reports", "users"), ("Attendance", "/reports/attendance", "calendar-check"),
        ("Monthly sheet", "/reports/sheet", "table"), ("Leave", "/reports/leave", "plane")]
SELECT_STYLE = {"width": "100%", "padding": "7px 8px", "border_radius": "6px", "font_size": "14px",
                "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1),
                "color": rx.color("gray", 12), "min_height": "36px"}


def register(app: rx.App) -> None:
    app.add_page(headcount_page, route="/reports", title="Reports · HR Portal", on_load=HeadcountState.open_page)
    app.add_page(attendance_page, route="/reports/attendance", title="Attendance report · HR Portal",
                 on_load=AttendanceReportState.open_page)
    app.add_page(sheet_page, route="/reports/sheet", title="Monthly attendance sheet · HR Portal",
                 on_load=SheetState.open_page)
    app.add_page(leave_page, route="/reports/leave", title="Leave report · HR Portal",
                 on_load=LeaveReportState.open_page)


# ================================================================ building blocks


def _tabs(active: str) -> rx.Component:
    return rx.el.nav(
        rx.flex(
            *[rx.link(rx.button(rx.icon(icon, size=15), label, size="2",
                                variant="solid" if path == active else "soft",
                                color_scheme="indigo" if path == active else "gray"),
                      href=path, underline="none", aria_current="page" if path == active else "false")
              for label, path, icon in TABS],
            gap="6px", wrap="wrap",
        ),
        aria_label="Reports", width="100%", padding_bottom="12px",
    )


def _native_select(id: str, value: rx.Var, on_change, *options: rx.Component) -> rx.Component:
    return rx.el.select(*options, id=id, name=id, value=value, on_change=on_change, style=SELECT_STYLE)


def _company_department(state) -> list[rx.Component]:
    return [
        rx.box(field("Company", _native_select(
            "report_company", ReportsState.company, state.pick_company, rx.el.option("All companies", value=""),
            rx.foreach(ReportsState.companies, lambda c: rx.el.option(c["name"], value=c["id"]))),
            id="report_company"), min_width="170px", flex="1"),
        rx.box(field("Department", _native_select(
            "report_department", ReportsState.department, state.pick_department,
            rx.el.option("All departments", value=""),
            rx.foreach(ReportsState.departments, lambda d: rx.el.option(d["name"], value=d["id"]))),
            id="report_department"), min_width="170px", flex="1"),
    ]


def _date_range(state, presets: list[str]) -> list[rx.Component]:
    return [
        rx.box(field("From", rx.input(id="report_start", type="date", value=state.start, on_change=state.set_start,
                                      size="2", width="100%"), id="report_start"), min_width="150px", flex="1"),
        rx.box(field("To", rx.input(id="report_end", type="date", value=state.end, on_change=state.set_end,
                                    size="2", width="100%"), id="report_end"), min_width="150px", flex="1"),
        rx.box(field("Quick range", _native_select(
            "report_preset", "", state.preset, rx.el.option("Choose…", value="", disabled=True),
            *[rx.el.option(PRESETS[p], value=p) for p in presets]), id="report_preset"),
            min_width="150px", flex="1"),
    ]


def _apply(state) -> rx.Component:
    return rx.button(rx.cond(ReportsState.busy, rx.spinner(size="2"), rx.icon("refresh-cw", size=15)), "Apply",
                     on_click=state.reload, disabled=ReportsState.busy, size="2")


def _export(state) -> rx.Component:
    return rx.button(rx.cond(ReportsState.exporting, rx.spinner(size="2"), rx.icon("download", size=16)),
                     rx.cond(ReportsState.exporting, "Preparing…", "Export CSV"), variant="soft", size="2",
                     on_click=state.export_csv, disabled=ReportsState.exporting, data_testid="export-csv")


def _filter_bar(*controls: rx.Component, actions: list[rx.Component]) -> rx.Component:
    return rx.card(
        rx.flex(*controls, rx.hstack(*actions, spacing="2", align="end", margin_left="auto"), gap="12px",
                wrap="wrap", align="end", width="100%"),
        width="100%", size="1", margin_bottom="16px",
    )


def _error() -> rx.Component:
    return rx.cond(ReportsState.error != "",
                   rx.callout(ReportsState.error, icon="triangle-alert", color_scheme="red", role="alert",
                              width="100%", margin_bottom="12px"),
                   rx.fragment())


def _stat(label: str, value: rx.Var, icon: str, color: str = "accent", hint: rx.Var | str | None = None
          ) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=18), width="34px", height="34px", border_radius="8px", flex_shrink="0",
                      background_color=rx.color(color, 3), color=rx.color(color, 11)),
            rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                      rx.text(value, size="5", weight="bold", line_height="1.1", data_testid="stat-" + label.lower()
                              .replace(" ", "-")),
                      rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
                      spacing="1", min_width="0"),
            spacing="3", align="center"),
        width="100%", size="1",
    )


def _panel(title: str, *children: rx.Component, subtitle: rx.Var | str | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading(title, size="3"),
                      rx.text(subtitle, size="1", color_scheme="gray") if subtitle is not None else rx.fragment(),
                      spacing="0"),
            *children, spacing="3", width="100%"),
        width="100%", size="2",
    )


def _chart(chart: rx.Component, label: str, height: str = "300px") -> rx.Component:
    return rx.box(chart, width="100%", height=height, role="img", aria_label=label)


def _axis_label(text: str, *, vertical: bool = False) -> dict:
    if vertical:
        return {"value": text, "angle": -90, "position": "insideLeft", "fill": rx.color("gray", 11), "fontSize": 12,
                "style": {"textAnchor": "middle"}}
    return {"value": text, "position": "insideBottom", "offset": -4, "fill": rx.color("gray", 11), "fontSize": 12}


def _table(header: list[str], rows: rx.Var, render, *, testid: str = "", numeric_from: int = 1) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[
                rx.table.column_header_cell(h, text_align="right" if i >= numeric_from else "left",
                                            white_space="nowrap")
                for i, h in enumerate(header)])),
            rx.table.body(rx.foreach(rows, render)),
            width="100%", variant="surface", size="1",
        ),
        width="100%", overflow_x="auto", data_testid=testid or None,
    )


def _num(value: rx.Var) -> rx.Component:
    return rx.table.cell(rx.text(value, white_space="nowrap"), text_align="right")


def _empty_note(condition: rx.Var, text: str) -> rx.Component:
    return rx.cond(condition, rx.callout(text, icon="info", color_scheme="gray", width="100%"), rx.fragment())


def _shell(title: str, subtitle: str, active: str, *content: rx.Component) -> rx.Component:
    return app_shell(
        page_header(title, rx.badge(ReportsState.scope_label, variant="soft", color_scheme="gray", size="2"),
                    subtitle=subtitle),
        _tabs(active),
        *content,
    )


def _loading(state, body: rx.Component) -> rx.Component:
    return rx.cond(state.loaded, body,
                   rx.vstack(rx.skeleton(height="90px", width="100%"), rx.skeleton(height="300px", width="100%"),
                             spacing="3", width="100%"))


# ================================================================ headcount


def _breakdown_row(r: rx.Var) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(r["name"]), _num(r["headcount"]), _num(r["share"].to(str) + "%"))


def headcount_page() -> rx.Component:
    s = HeadcountState
    t = s.totals
    body = rx.vstack(
        rx.grid(
            _stat("Headcount", t["headcount"], "users", hint="on " + s.end),
            _stat("Joiners", t["joiners"], "user-plus", "grass"),
            _stat("Leavers", t["leavers"], "user-minus", "tomato", hint="turnover " + t["turnover"] + "%"),
            _stat("Net change", t["net"], "trending-up", "blue", hint="from " + t["start_headcount"]),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%",
        ),
        _panel("Headcount over time", _chart(rx.recharts.area_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=GRID_STROKE),
            rx.recharts.x_axis(data_key="label", tick=TICK, stroke=AXIS, label=_axis_label("Month"), height=44),
            rx.recharts.y_axis(tick=TICK, stroke=AXIS, allow_decimals=False, label=_axis_label("People", vertical=True),
                               width=64),
            rx.recharts.graphing_tooltip(),
            rx.recharts.area(data_key="headcount", name="Headcount at month end", type_="monotone",
                             stroke=rx.color("accent", 9), fill=rx.color("accent", 5), stroke_width=2),
            data=s.series, margin={"top": 8, "right": 16, "bottom": 8, "left": 0},
        ), "Headcount at the end of each month"), subtitle=s.range_label),
        _panel("Joiners and leavers", _chart(rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=GRID_STROKE),
            rx.recharts.x_axis(data_key="label", tick=TICK, stroke=AXIS, label=_axis_label("Month"), height=44),
            rx.recharts.y_axis(tick=TICK, stroke=AXIS, allow_decimals=False, label=_axis_label("People", vertical=True),
                               width=64),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(vertical_align="top", height=28),
            rx.recharts.bar(data_key="joiners", name="Joiners", fill=rx.color("grass", 9), radius=[3, 3, 0, 0]),
            rx.recharts.bar(data_key="leavers", name="Leavers", fill=rx.color("tomato", 9), radius=[3, 3, 0, 0]),
            data=s.series, margin={"top": 8, "right": 16, "bottom": 8, "left": 0},
        ), "Joiners and leavers per month", "260px")),
        rx.grid(
            _panel("By department", _table(["Department", "People", "Share"], s.by_department, _breakdown_row,
                                           testid="headcount-by-department")),
            rx.vstack(
                _panel("By company", _table(["Company", "People", "Share"], s.by_company, _breakdown_row,
                                            testid="headcount-by-company")),
                _panel("By employment type", _table(["Type", "People", "Share"], s.by_type, _breakdown_row,
                                                    testid="headcount-by-type")),
                spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        spacing="4", width="100%",
    )
    return _shell(
        "Reports", "Headcount at each month's end, joiners and leavers, and who works where.", "/reports",
        _filter_bar(*_date_range(s, ["12m", "24m", "year", "quarter"]), *_company_department(s),
                    actions=[_apply(s), _export(s)]),
        _error(),
        _loading(s, body),
    )


# ================================================================ attendance


def _att_dept_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r["department"]), _num(r["scheduled"]), _num(r["present"]), _num(r["late"]),
        _num(r["on_leave"]), _num(r["absent"]), _num(r["rate"].to(str) + "%"), _num(r["avg_hours"].to(str) + " h"),
    )


def _att_day_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(r["weekday"].to(str) + " " + r["label"].to(str), white_space="nowrap")),
        _num(r["scheduled"]), _num(r["present"]), _num(r["late"]), _num(r["on_leave"]), _num(r["absent"]),
        _num(r["rate"].to(str) + "%"),
    )


def attendance_page() -> rx.Component:
    s = AttendanceReportState
    t = s.totals
    body = rx.vstack(
        rx.cond(s.note != "", rx.text(s.note, size="1", color_scheme="gray"), rx.fragment()),
        rx.grid(
            _stat("Presence rate", t["rate"] + "%", "calendar-check", "green", hint="present ÷ (scheduled − on leave)"),
            _stat("Late arrivals", t["late"], "alarm-clock", "orange", hint=t["late_rate"] + "% of days present"),
            _stat("Absent days", t["absent"], "calendar-x", "red"),
            _stat("Leave days", t["on_leave"], "plane", "blue", hint="working days on approved leave"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%",
        ),
        _empty_note(s.daily.length() == 0, "No complete working days in this range yet. Pick an earlier range."),
        _panel("Daily presence rate", _chart(rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=GRID_STROKE),
            rx.recharts.x_axis(data_key="label", tick=TICK, stroke=AXIS, label=_axis_label("Day"), height=44),
            rx.recharts.y_axis(tick=TICK, stroke=AXIS, domain=[0, 100], unit="%",
                               label=_axis_label("Present", vertical=True), width=64),
            rx.recharts.graphing_tooltip(),
            rx.recharts.line(data_key="rate", name="Presence rate (%)", stroke=rx.color("accent", 9), stroke_width=2,
                             dot=False, type_="linear"),
            data=s.daily, margin={"top": 8, "right": 16, "bottom": 8, "left": 0},
        ), "Presence rate per working day"), subtitle=s.range_label),
        _panel("Late arrivals and absences", _chart(rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=GRID_STROKE),
            rx.recharts.x_axis(data_key="label", tick=TICK, stroke=AXIS, label=_axis_label("Day"), height=44),
            rx.recharts.y_axis(tick=TICK, stroke=AXIS, allow_decimals=False, label=_axis_label("People",
                                                                                               vertical=True),
                               width=64),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(vertical_align="top", height=28),
            rx.recharts.bar(data_key="late", name="Late", fill=rx.color("orange", 9), radius=[3, 3, 0, 0]),
            rx.recharts.bar(data_key="absent", name="Absent", fill=rx.color("red", 9), radius=[3, 3, 0, 0]),
            data=s.daily, margin={"top": 8, "right": 16, "bottom": 8, "left": 0},
        ), "Late arrivals and absences per working day", "260px")),
        _panel("By department", _table(["Department", "Scheduled", "Present", "Late", "On leave", "Absent", "Rate",
                                        "Avg hours"], s.by_department, _att_dept_row,
                                       testid="attendance-by-department"),
               subtitle="Person-days over the range"),
        _panel("Day by day", _table(["Day", "Scheduled", "Present", "Late", "On leave", "Absent", "Rate"], s.daily,
                                    _att_day_row, testid="attendance-daily")),
        spacing="4", width="100%",
    )
    return _shell(
        "Reports", "Presence and late arrivals per working day, by department.", "/reports/attendance",
        _filter_bar(*_date_range(s, ["30d", "month", "last_month", "quarter", "year"]), *_company_department(s),
                    actions=[_apply(s), _export(s)]),
        _error(),
        _loading(s, body),
    )


# ================================================================ monthly sheet


def _sheet_cell(c: rx.Var, i: rx.Var) -> rx.Component:
    # The tooltip of the monthly sheet's service ("Mon 3 Nov: Present"), from the day's label and the status.
    label = rx.match(c["status"], *[(k, v) for k, v in attendance_service.STATUS_LABELS.items() if v], "No record")
    return rx.table.cell(
        rx.cond(c["code"] != "",
                rx.badge(c["code"], color_scheme=rx.match(c["status"], *STATUS_COLORS.items(), "gray"),
                         variant="soft", size="1", style={"min_width": "26px", "justify_content": "center"}),
                rx.text("·", color_scheme="gray")),
        title=SheetState.days[i]["label"].to(str) + ": " + label.to(str), padding="4px", text_align="center",
    )


# The widest the content column gets (viewport minus the sidebar and the shell's padding): a wide table
# scrolls inside its card instead of stretching the page.
CONTENT_MAX = ["calc(100vw - 50px)", "calc(100vw - 58px)", "min(1130px, calc(100vw - 314px))"]
STICKY = {"position": "sticky", "left": "0", "background": rx.color("gray", 1), "z_index": "1"}


def _sheet_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.link(r["name"], href="/employees/" + r["employee_id"].to(str), size="2", weight="medium",
                    white_space="nowrap"),
            rx.text(r["code"].to(str) + rx.cond(r["department"] != "", " · " + r["department"].to(str), ""),
                    size="1", color_scheme="gray", white_space="nowrap"),
            spacing="0"), style=STICKY),
        rx.foreach(r["cells"].to(list[dict[str, str]]), lambda c, i: _sheet_cell(c, i)),
        _num(r["present"]), _num(r["late"]), _num(r["half_days"]), _num(r["absent"]), _num(r["leave"]),
        _num(r["hours"]),
        data_testid="sheet-row",
    )


def _legend() -> rx.Component:
    items = [("P", "present", "green"), ("L", "late", "orange"), ("H", "half day", "amber"), ("A", "absent", "red"),
             ("LV", "on leave", "blue"), ("HO", "holiday", "cyan"), ("WO", "weekly off", "gray")]
    return rx.flex(*[rx.hstack(rx.badge(code, color_scheme=color, variant="soft", size="1"),
                               rx.text(text, size="1", color_scheme="gray"), spacing="1", align="center")
                     for code, text, color in items], gap="12px", wrap="wrap")


def _pager() -> rx.Component:
    s = SheetState
    return rx.hstack(
        rx.text(s.total.to(str) + " people", size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button("Previous", size="1", variant="soft", disabled=(s.page <= 1) | s.busy, on_click=s.goto(s.page - 1)),
        rx.text("Page " + s.page.to(str) + " of " + s.pages.to(str), size="2", white_space="nowrap"),
        rx.button("Next", size="1", variant="soft", disabled=(s.page >= s.pages) | s.busy, on_click=s.goto(s.page + 1)),
        spacing="3", align="center", width="100%",
    )


def sheet_page() -> rx.Component:
    s = SheetState
    body = rx.vstack(
        _legend(),
        rx.cond(
            s.total > 0,
            rx.card(rx.box(rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Person", style=STICKY),
                    rx.foreach(s.days, lambda d: rx.table.column_header_cell(
                        rx.vstack(rx.text(d["weekday"], size="1", color_scheme="gray"), rx.text(d["day"], size="1"),
                                  spacing="0", align="center"), padding="4px", text_align="center")),
                    *[rx.table.column_header_cell(h, text_align="right", title=t) for h, t in
                      (("P", "Days present"), ("L", "Late"), ("H", "Half days"), ("A", "Absent"), ("Leave", "Leave days"),
                       ("Hours", "Hours worked"))],
                )),
                rx.table.body(rx.foreach(s.rows, _sheet_row)),
                width="100%", variant="ghost", size="1",
            ), width="100%", overflow_x="auto", max_width=CONTENT_MAX, data_testid="sheet-table"), width="100%",
                size="1"),
            rx.callout("Nobody matches these filters. Choose another company or department.", icon="info",
                       color_scheme="gray", width="100%"),
        ),
        _pager(),
        spacing="3", width="100%",
    )
    return _shell(
        "Reports", "People × days with status codes, as payroll expects. 50 people per page; the export has "
                   "everyone.", "/reports/sheet",
        _filter_bar(
            rx.box(field("Month", _native_select("report_month", s.month, s.pick_month,
                                                 rx.foreach(s.months, lambda m: rx.el.option(m["label"],
                                                                                            value=m["value"]))),
                         id="report_month"), min_width="170px", flex="1"),
            *_company_department(s), actions=[_export(s)]),
        _error(),
        _loading(s, body),
    )


# ================================================================ leave


def _taken_dept_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r["department"]),
        rx.foreach(r["cells"].to(list[str]), lambda c: _num(c)),
        _num(r["days"]),
    )


def _owed_dept_row(r: rx.Var) -> rx.Component:
    return rx.table.row(rx.table.row_header_cell(r["department"]), _num(r["label"]))


def _upcoming_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(r["name"], weight="medium", size="2", white_space="nowrap"),
                                           rx.text(r["department"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(r["type"]),
        rx.table.cell(rx.text(r["dates"], white_space="nowrap")),
        _num(r["days_label"]),
        rx.table.cell(rx.badge(r["status_label"], variant="soft",
                               color_scheme=rx.cond(r["status"] == "approved", "green", "amber"))),
    )


def _bar_by_type(data: rx.Var, name: str, color: str, label: str) -> rx.Component:
    return _chart(rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=GRID_STROKE),
        rx.recharts.x_axis(data_key="type", tick=TICK, stroke=AXIS, label=_axis_label("Leave type"), height=44),
        rx.recharts.y_axis(tick=TICK, stroke=AXIS, label=_axis_label("Days", vertical=True), width=64),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="days", name=name, fill=rx.color(color, 9), radius=[4, 4, 0, 0], max_bar_size=64),
        data=data, margin={"top": 8, "right": 16, "bottom": 8, "left": 0},
    ), label, "260px")


def leave_page() -> rx.Component:
    s = LeaveReportState
    body = rx.vstack(
        rx.grid(
            _stat("Days taken", s.labels["taken"], "plane", hint=s.labels["range"]),
            _stat("Days owed", s.labels["owed"], "piggy-bank", "amber", hint="paid types, " + s.labels["year"]),
            _stat("Upcoming absences", s.upcoming_total.to(str), "calendar-days", "blue", hint="next 30 days"),
            columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
        ),
        rx.grid(
            _panel("Days taken by type", _bar_by_type(s.taken_by_type, "Days taken", "accent",
                                                      "Days of leave taken per leave type"), subtitle=s.labels["range"]),
            _panel("Days owed by type", _bar_by_type(s.liability, "Days owed", "amber",
                                                     "Days of leave owed per paid leave type"),
                   subtitle="Positive balances of active people, " + s.labels["year"]
                   + " (approved leave deducted, pending not)"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        _panel("Days taken by department", rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Department"),
                    rx.foreach(s.type_names, lambda n: rx.table.column_header_cell(n, text_align="right")),
                    rx.table.column_header_cell("Total", text_align="right"))),
                rx.table.body(rx.foreach(s.taken_by_department, _taken_dept_row)),
                width="100%", variant="surface", size="1"),
            width="100%", overflow_x="auto", data_testid="leave-by-department"),
            _empty_note(s.taken_by_department.length() == 0, "No leave taken in this range.")),
        _panel("Days owed by department", _table(["Department", "Days owed"], s.liability_by_department,
                                                 _owed_dept_row, testid="owed-by-department")),
        rx.box(
            _panel("Upcoming absences", _table(["Person", "Type", "Dates", "Days", "Status"], s.upcoming,
                                               _upcoming_row, testid="upcoming-absences", numeric_from=3),
                   _empty_note(s.upcoming.length() == 0, "Nobody has leave planned in the next 30 days."),
                   rx.cond(s.upcoming_total > s.upcoming.length(),
                           rx.text("Showing the first " + s.upcoming.length().to(str) + " of "
                                   + s.upcoming_total.to(str) + "; the export has them too.", size="1",
                                   color_scheme="gray"), rx.fragment()),
                   subtitle=s.labels["upcoming"]),
            width="100%",
        ),
        spacing="4", width="100%",
    )
    return _shell(
        "Reports", "Leave taken by type and department, days owed, and who is away soon.", "/reports/leave",
        _filter_bar(*_date_range(s, ["year", "month", "last_month", "quarter", "12m"]), *_company_department(s),
                    actions=[_apply(s), _export(s)]),
        _error(),
        _loading(s, body),
    )
