"""Settings (admin): organization name and companies."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core.authz import register_page
from hr_portal.org.state import AuditState, JobsState, SettingsState
from hr_portal.ui.components import error_callout, field, page_header
from hr_portal.ui.layout import app_shell


def _org_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Organization", size="4"),
                field("Organization name",
                      rx.input(id="org_name", name="org_name", default_value=SettingsState.org_display_name,
                               key=SettingsState.org_display_name, required=True, max_length=200, size="3",
                               width="100%"),
                      id="org_name"),
                rx.hstack(rx.button("Save name", type="submit", size="2"), justify="end", width="100%"),
                spacing="3", width="100%",
            ),
            on_submit=SettingsState.save_org_name, reset_on_submit=False, width="100%",
        ),
        width="100%", size="2",
    )


def _company_row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(c["name"], weight="medium")),
        rx.table.cell(c["timezone"]),
        rx.table.cell(c["offs_label"]),
        rx.table.cell(c["headcount"]),
        rx.table.cell(rx.button("Edit", size="1", variant="soft", on_click=SettingsState.start_edit(c["id"]),
                                aria_label="Edit " + c["name"].to(str))),
        style={"cursor": "pointer"},
    )


def _company_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(SettingsState.editing_id, "Edit company", "Add company")),
            rx.dialog.description("Time zone and weekly off days decide which days are worked and how times are shown.",
                                  size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(SettingsState.form_error),
                field("Company name", rx.input(id="company_name", value=SettingsState.form_name,
                                               on_change=SettingsState.set_form_name, size="3", width="100%"),
                      id="company_name"),
                field("Time zone", rx.select(SettingsState.timezones, value=SettingsState.form_timezone,
                                             on_change=SettingsState.set_form_timezone, id="company_tz",
                                             size="3", width="100%"),
                      id="company_tz"),
                rx.text("Weekly off days", size="2", weight="medium"),
                rx.flex(
                    rx.foreach(SettingsState.weekday_options, lambda o: rx.el.label(
                        rx.hstack(rx.checkbox(checked=o["checked"], on_change=lambda _v: SettingsState.toggle_off(o["value"])),
                                  rx.text(o["label"], size="2"), spacing="1", align="center"))),
                    wrap="wrap", spacing="3",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(SettingsState.busy, rx.spinner(size="2"), rx.fragment()), "Save",
                              on_click=SettingsState.save_company, disabled=SettingsState.busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="520px",
        ),
        open=SettingsState.dialog_open, on_open_change=SettingsState.set_dialog_open,
    )


register_page("settings", {Role.admin}, nav=("Settings", "/settings", "settings"), order=900)
register_page("jobs", {Role.admin}, nav=("Jobs", "/settings/jobs", "clock"), order=910)
register_page("audit", {Role.admin}, nav=("Audit log", "/settings/audit", "scroll-text"), order=930)


def register(app: rx.App) -> None:
    app.add_page(settings_page, route="/settings", title="Settings · HR Portal", on_load=SettingsState.open_settings)
    app.add_page(jobs_page, route="/settings/jobs", title="Jobs · HR Portal", on_load=JobsState.open_jobs)
    app.add_page(audit_page, route="/settings/audit", title="Audit log · HR Portal", on_load=AuditState.open_audit)


def settings_page() -> rx.Component:
    return app_shell(
        page_header("Settings", rx.button(rx.icon("plus", size=16), "Add company", on_click=SettingsState.start_create),
                    subtitle="Organization-wide configuration. Only administrators see this page."),
        rx.vstack(
            _org_card(),
            rx.card(
                rx.vstack(
                    rx.heading("Companies", size="4"),
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Name"), rx.table.column_header_cell("Time zone"),
                            rx.table.column_header_cell("Weekly off"), rx.table.column_header_cell("Active people"),
                            rx.table.column_header_cell(""),
                        )),
                        rx.table.body(rx.foreach(SettingsState.companies, _company_row)),
                        width="100%", variant="surface",
                    ),
                    spacing="3", width="100%",
                ),
                width="100%", size="2", overflow_x="auto",
            ),
            spacing="4", width="100%",
        ),
        _company_dialog(),
    )




def _job_row(j: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(j["id"], weight="medium", size="2"),
                                           rx.text(j["description"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(j["schedule"], size="1")),
        rx.table.cell(rx.moment(j["next_run"], format="YYYY-MM-DD HH:mm", local=True)),
        rx.table.cell(rx.cond(j["last_started"], rx.moment(j["last_started"], format="YYYY-MM-DD HH:mm", local=True),
                              rx.text("—"))),
        rx.table.cell(rx.vstack(
            rx.badge(j["last_status"], color_scheme=rx.match(j["last_status"], ("succeeded", "green"), ("failed", "red"),
                                                               ("running", "blue"), "gray")),
            rx.cond(j["last_error"], rx.text(j["last_error"], size="1", color_scheme="red"), rx.fragment()),
            spacing="1")),
        rx.table.cell(j["last_items"]),
        rx.table.cell(rx.button(
            rx.cond(JobsState.running_job == j["id"], rx.spinner(size="1"), rx.icon("play", size=14)), "Run now",
            size="1", variant="soft", on_click=JobsState.run_now(j["id"]), white_space="nowrap",
            disabled=JobsState.running_job != "", aria_label="Run " + j["id"].to(str) + " now")),
    )


def jobs_page() -> rx.Component:
    return app_shell(
        page_header("Scheduled jobs", subtitle="Each occurrence runs once across all app processes. Times in your "
                                                "browser's time zone."),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Job"), rx.table.column_header_cell("Schedule"),
                    rx.table.column_header_cell("Next run"), rx.table.column_header_cell("Last run"),
                    rx.table.column_header_cell("Outcome"), rx.table.column_header_cell("Items"),
                    rx.table.column_header_cell(""),
                )),
                rx.table.body(rx.foreach(JobsState.jobs, _job_row)),
                width="100%", variant="surface",
            ),
            width="100%", overflow_x="auto",
        ),
    )


def _audit_row(e: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.moment(e["at"], format="YYYY-MM-DD HH:mm:ss", local=True), white_space="nowrap"),
        rx.table.cell(rx.text(e["user"], size="2")),
        rx.table.cell(rx.code(e["action"], size="1")),
        rx.table.cell(rx.text(e["entity"], size="2")),
        rx.table.cell(rx.text(e["changes"], size="1", color_scheme="gray")),
        rx.table.cell(rx.text(e["ip"], size="1")),
    )


def audit_page() -> rx.Component:
    filters = rx.form(
        rx.grid(
            field("Action", rx.select.root(
                rx.select.trigger(placeholder="All actions", width="100%", id="action"),
                rx.select.content(rx.select.item("All actions", value="all"),
                                  rx.foreach(AuditState.actions, lambda a: rx.select.item(a, value=a))),
                name="action", default_value="all"), id="action"),
            field("User email contains", rx.input(id="user", name="user", size="2"), id="user"),
            field("From", rx.input(id="start", name="start", type="date", size="2"), id="start"),
            field("To", rx.input(id="end", name="end", type="date", size="2"), id="end"),
            rx.button("Filter", type="submit", size="2", align_self="end"),
            columns=rx.breakpoints(initial="1", sm="2", md="5"), spacing="3", align="end", width="100%",
        ),
        on_submit=AuditState.apply_filters, reset_on_submit=False, width="100%",
    )
    return app_shell(
        page_header("Audit log", subtitle="Sign-ins, failures, lockouts, password and role changes, approvals, "
                                           "deactivations: who, what, when and from where."),
        rx.card(filters, width="100%"),
        rx.box(height="12px"),
        rx.card(
            rx.cond(
                AuditState.total > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("When"), rx.table.column_header_cell("Who"),
                        rx.table.column_header_cell("Action"), rx.table.column_header_cell("Record"),
                        rx.table.column_header_cell("Changes"), rx.table.column_header_cell("IP"),
                    )),
                    rx.table.body(rx.foreach(AuditState.entries, _audit_row)),
                    width="100%", variant="surface", size="1",
                ),
                rx.text("No entries match these filters. Widen the dates or clear the action.", color_scheme="gray"),
            ),
            rx.hstack(
                rx.text(AuditState.total, " entries · page ", AuditState.page, " of ", AuditState.page_count, size="2",
                        color_scheme="gray"),
                rx.spacer(),
                rx.button("Previous", size="1", variant="soft", on_click=AuditState.go_page(-1),
                          disabled=AuditState.page <= 1),
                rx.button("Next", size="1", variant="soft", on_click=AuditState.go_page(1),
                          disabled=AuditState.page >= AuditState.page_count),
                width="100%", padding_top="12px", align="center",
            ),
            width="100%", overflow_x="auto",
        ),
    )
