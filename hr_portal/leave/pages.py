"""Leave pages: My leave, Leave approvals (live queue and delegation), Team calendar, Leave setup."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core import files as core_files
from hr_portal.core.authz import ALL_ROLES, APPROVER_ROLES, HR_ROLES, register_page
from hr_portal.leave.state import CELL_COLORS, ApprovalsState, CalendarState, MyLeaveState, SetupState
from hr_portal.ui.components import error_callout, field, page_header
from hr_portal.ui.layout import app_shell

register_page("leave", ALL_ROLES, nav=("My leave", "/leave", "plane"), order=20)
register_page("leave_calendar", APPROVER_ROLES, nav=("Team calendar", "/leave/calendar", "calendar-days"), order=35)
register_page("leave_approvals", APPROVER_ROLES, nav=("Leave approvals", "/leave/approvals", "inbox"), order=40)
register_page("leave_setup", HR_ROLES, nav=("Leave setup", "/leave/setup", "sliders-horizontal"), order=70)

_ = Role


def register(app: rx.App) -> None:
    app.add_page(my_leave_page, route="/leave", title="My leave · HR Portal", on_load=MyLeaveState.open_page)
    app.add_page(approvals_page, route="/leave/approvals", title="Leave approvals · HR Portal",
                 on_load=ApprovalsState.open_page)
    app.add_page(calendar_page, route="/leave/calendar", title="Team calendar · HR Portal",
                 on_load=CalendarState.open_page)
    app.add_page(setup_page, route="/leave/setup", title="Leave setup · HR Portal", on_load=SetupState.open_page)


def _status_badge(row: rx.Var) -> rx.Component:
    return rx.badge(row["statusLabel"], color_scheme=row["color"].to(str), variant="soft", size="2")


def _scroll_table(*parts: rx.Component) -> rx.Component:
    return rx.box(rx.table.root(*parts, width="100%", variant="surface", size="2"), width="100%", overflow_x="auto")


# ================================================================ My leave


def _balance_card(b: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(b["leaveTypeName"], weight="bold", size="3"),
                      rx.cond(b["paid"], rx.fragment(), rx.badge("unpaid", color_scheme="gray", size="1")),
                      justify="between", width="100%", align="center"),
            rx.cond(
                b["unlimited"],
                rx.vstack(rx.text(b["takenLabel"], size="7", weight="bold"),
                          rx.text("days taken this year (no limit)", size="1", color_scheme="gray"), spacing="0"),
                rx.vstack(rx.text(b["availableLabel"], size="7", weight="bold"),
                          rx.text("days available", size="1", color_scheme="gray"), spacing="0"),
            ),
            rx.text("Entitled " + b["entitledLabel"].to(str) + " · taken " + b["takenLabel"].to(str)
                    + " · pending " + b["pendingLabel"].to(str), size="1", color_scheme="gray"),
            rx.hstack(
                rx.button("Why?", size="1", variant="soft", on_click=MyLeaveState.show_ledger(b["leaveTypeId"]),
                          aria_label="Why is my " + b["leaveTypeName"].to(str) + " balance "
                          + b["balanceLabel"].to(str) + "?"),
                rx.button("Apply", size="1", variant="outline",
                          on_click=MyLeaveState.open_apply(b["leaveTypeId"].to(str)),
                          aria_label="Apply for " + b["leaveTypeName"].to(str) + " leave"),
                spacing="2",
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def _cancel_button(r: rx.Var) -> rx.Component:
    return rx.cond(
        r["canCancel"],
        rx.button("Cancel", size="1", variant="soft", color_scheme="red", on_click=MyLeaveState.cancel_request(r["id"]),
                  aria_label="Cancel leave " + r["when"].to(str)),
        rx.fragment())


def _decision(r: rx.Var) -> rx.Component:
    return rx.vstack(
        _status_badge(r),
        rx.cond(r["approverName"], rx.text("by " + r["approverName"].to(str), size="1", color_scheme="gray"),
                rx.fragment()),
        rx.cond(r["comment"], rx.text("“" + r["comment"].to(str) + "”", size="1"), rx.fragment()),
        spacing="1")


def _attachment_link(r: rx.Var, *, label: rx.Var | str | None = None) -> rx.Component:
    """A link to the request's supporting document (served only to those allowed to see it)."""
    return rx.cond(
        r["attachmentUrl"] != "",
        rx.link(rx.hstack(rx.icon("paperclip", size=12), rx.text(label if label is not None else r["attachmentName"],
                                                                 size="1", trim="both"),
                          spacing="1", align="center"),
                href=r["attachmentUrl"], is_external=True, size="1",
                aria_label="Open attachment " + r["attachmentName"].to(str), data_testid="leave-attachment"),
        rx.fragment(),
    )


def _request_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.text(r["when"], weight="medium", size="2", white_space="nowrap"),
            rx.cond(r["halves"], rx.text(r["halves"], size="1", color_scheme="gray"), rx.fragment()),
            spacing="0")),
        rx.table.cell(_decision(r)),
        rx.table.cell(r["daysLabel"]),
        rx.table.cell(r["leaveTypeName"]),
        rx.table.cell(rx.vstack(rx.text(r["reason"], size="1", color_scheme="gray"), _attachment_link(r),
                                spacing="1")),
        rx.table.cell(_cancel_button(r)),
        data_testid="leave-row",
    )


def _request_card(r: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.text(r["when"], weight="medium", size="2"),
                rx.text(r["leaveTypeName"].to(str) + " · " + r["daysLabel"].to(str) + " day(s)", size="1",
                        color_scheme="gray"),
                rx.cond(r["halves"], rx.text(r["halves"], size="1", color_scheme="gray"), rx.fragment()),
                spacing="0"),
            rx.spacer(),
            _decision(r),
            width="100%", align="start",
        ),
        rx.hstack(rx.vstack(rx.text(r["reason"], size="1", color_scheme="gray"), _attachment_link(r), spacing="1"),
                  rx.spacer(), _cancel_button(r), width="100%", align="center", padding_top="6px"),
        padding="10px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        data_testid="leave-card",
    )


def _quote_box() -> rx.Component:
    return rx.cond(
        MyLeaveState.quote_days != "",
        rx.callout(
            rx.vstack(
                rx.text(rx.text.strong(MyLeaveState.quote_days), " working day(s) · available after: ",
                        rx.text.strong(MyLeaveState.quote_after), size="2"),
                rx.cond(MyLeaveState.quote_note, rx.text(MyLeaveState.quote_note, size="1"), rx.fragment()),
                rx.foreach(MyLeaveState.quote_problems, lambda p: rx.text(p, size="2", color_scheme="red")),
                spacing="1",
            ),
            icon="calculator", color_scheme=rx.cond(MyLeaveState.quote_problems.length() > 0, "red", "blue"),
            width="100%", data_testid="leave-quote", role="status",
        ),
        rx.cond(MyLeaveState.quote_problems.length() > 0,
                rx.callout(rx.foreach(MyLeaveState.quote_problems, lambda p: rx.text(p, size="2")),
                           icon="triangle-alert", color_scheme="red", width="100%"),
                rx.fragment()),
    )


def _attachment_field() -> rx.Component:
    s = MyLeaveState
    picker = rx.upload.root(
        rx.hstack(
            rx.button(rx.cond(s.attachment_busy, rx.spinner(size="1"), rx.icon("paperclip", size=14)),
                      "Attach a document", variant="outline", size="2", type="button", disabled=s.attachment_busy),
            rx.text("or drop it here", size="1", color_scheme="gray"),
            align="center", spacing="2",
        ),
        id="leave_attachment", accept={"application/pdf": [".pdf"], "image/png": [".png"],
                                       "image/jpeg": [".jpg", ".jpeg"]},
        max_files=1, multiple=False, max_size=core_files.max_bytes(),
        on_drop=s.upload_attachment(rx.upload_files(upload_id="leave_attachment")),
    )
    chosen = rx.hstack(
        rx.icon("file-check", size=16, color=rx.color("green", 10)),
        rx.text(s.attachment_name, size="2", trim="both", data_testid="attachment-name"),
        rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                       on_click=s.clear_attachment, aria_label="Remove attachment"),
        align="center", spacing="2",
    )
    return rx.vstack(
        rx.text("Supporting document", size="2", weight="medium"),
        rx.cond(s.attachment_name != "", chosen, picker),
        rx.cond(s.attachment_error != "", rx.text(s.attachment_error, size="1", color_scheme="red", role="alert"),
                rx.text(s.attachment_hint, size="1", color_scheme="gray")),
        spacing="1", width="100%",
    )


def _apply_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Apply for leave"),
            rx.dialog.description("Weekends and your company's holidays are not counted unless the type says so.",
                                  size="2", color_scheme="gray"),
            rx.vstack(
                error_callout(MyLeaveState.form_error),
                field("Leave type", rx.el.select(
                    rx.foreach(MyLeaveState.types, lambda t: rx.el.option(t["name"], value=t["id"].to(str))),
                    id="leave_type", value=MyLeaveState.f_type, on_change=MyLeaveState.set_f_type,
                    style={"width": "100%", "padding": "8px", "border_radius": "6px", "font_size": "15px",
                           "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                           "color": "var(--gray-12)"}),
                    id="leave_type"),
                rx.flex(
                    field("From", rx.input(id="leave_start", type="date", value=MyLeaveState.f_start,
                                           on_change=MyLeaveState.set_f_start, size="3", width="100%"),
                          id="leave_start"),
                    field("To", rx.input(id="leave_end", type="date", value=MyLeaveState.f_end,
                                         on_change=MyLeaveState.set_f_end, size="3", width="100%"),
                          id="leave_end"),
                    spacing="3", width="100%", direction=rx.breakpoints(initial="column", sm="row"),
                ),
                rx.cond(
                    MyLeaveState.selected_type_half_days,
                    rx.flex(
                        rx.el.label(rx.hstack(rx.checkbox(id="half_start", checked=MyLeaveState.f_half_start,
                                                          on_change=MyLeaveState.set_f_half_start),
                                              rx.text("Half day on the first day", size="2"), spacing="2",
                                              align="center")),
                        rx.el.label(rx.hstack(rx.checkbox(id="half_end", checked=MyLeaveState.f_half_end,
                                                          on_change=MyLeaveState.set_f_half_end),
                                              rx.text("Half day on the last day", size="2"), spacing="2",
                                              align="center")),
                        spacing="4", wrap="wrap",
                    ),
                    rx.fragment(),
                ),
                field("Reason", rx.text_area(id="leave_reason", value=MyLeaveState.f_reason,
                                             on_change=MyLeaveState.set_f_reason, on_blur=MyLeaveState.refresh_quote,
                                             max_length=2000, rows="3", width="100%"),
                      id="leave_reason"),
                _attachment_field(),
                _quote_box(),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(MyLeaveState.busy, rx.spinner(size="2"), rx.fragment()), "Submit request",
                              on_click=MyLeaveState.submit, disabled=~MyLeaveState.can_submit),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="560px", width="calc(100vw - 24px)",
        ),
        open=MyLeaveState.apply_open, on_open_change=MyLeaveState.set_apply_open,
    )


def _ledger_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(MyLeaveState.ledger_title),
            rx.dialog.description("Every line that makes up the balance, oldest first.", size="2",
                                  color_scheme="gray"),
            rx.vstack(
                rx.cond(
                    MyLeaveState.ledger_lines.length() > 0,
                    _scroll_table(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("What"), rx.table.column_header_cell("Days"),
                            rx.table.column_header_cell("Balance"))),
                        rx.table.body(rx.foreach(MyLeaveState.ledger_lines, lambda ln: rx.table.row(
                            rx.table.cell(rx.vstack(
                                rx.text(ln["kindLabel"].to(str) + " · " + ln["dateLabel"].to(str), weight="medium",
                                        size="2"),
                                rx.text(ln["reason"], size="1", color_scheme="gray"),
                                rx.cond(ln["actorLabel"], rx.text(ln["actorLabel"], size="1", color_scheme="gray"),
                                        rx.fragment()),
                                spacing="0")),
                            rx.table.cell(rx.text(ln["amountLabel"], weight="bold", size="2",
                                                  color_scheme=rx.cond(ln["positive"], "green", "red"))),
                            rx.table.cell(ln["runningLabel"]),
                            data_testid="ledger-line",
                        ))),
                    ),
                    rx.text("No entries yet for this year.", color_scheme="gray"),
                ),
                rx.text(MyLeaveState.ledger_total, size="2", weight="medium", data_testid="ledger-total"),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft")), justify="end", width="100%"),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="680px", width="calc(100vw - 24px)",
        ),
        open=MyLeaveState.ledger_open, on_open_change=MyLeaveState.set_ledger_open,
    )


def my_leave_page() -> rx.Component:
    return app_shell(
        page_header("My leave", rx.button(rx.icon("plus", size=16), "Apply for leave",
                                          on_click=MyLeaveState.open_apply("")),
                    subtitle="Balances for " + MyLeaveState.year.to(str) + ". Pending requests are reserved."),
        rx.vstack(
            rx.cond(
                MyLeaveState.balances.length() > 0,
                rx.grid(rx.foreach(MyLeaveState.balances, _balance_card),
                        columns=rx.breakpoints(initial="2", lg="4"), spacing="3", width="100%"),
                rx.callout("No leave types are set up yet. Ask HR to add them under Leave setup.", icon="info"),
            ),
            rx.card(
                rx.vstack(
                    rx.heading("My requests", size="4"),
                    rx.cond(
                        MyLeaveState.requests.length() > 0,
                        rx.vstack(
                            rx.tablet_and_desktop(_scroll_table(
                                rx.table.header(rx.table.row(
                                    rx.table.column_header_cell("When"), rx.table.column_header_cell("Status"),
                                    rx.table.column_header_cell("Days"), rx.table.column_header_cell("Type"),
                                    rx.table.column_header_cell("Reason"), rx.table.column_header_cell(""))),
                                rx.table.body(rx.foreach(MyLeaveState.requests, _request_row)),
                            ), width="100%"),
                            rx.mobile_only(rx.vstack(rx.foreach(MyLeaveState.requests, _request_card), spacing="0",
                                                     width="100%"), width="100%"),
                            rx.cond(MyLeaveState.page_count > 1, rx.hstack(
                                rx.button("Previous", size="1", variant="soft", on_click=MyLeaveState.go_page(-1),
                                          disabled=MyLeaveState.page <= 1),
                                rx.text("Page " + MyLeaveState.page.to(str) + " of "
                                        + MyLeaveState.page_count.to(str), size="2"),
                                rx.button("Next", size="1", variant="soft", on_click=MyLeaveState.go_page(1),
                                          disabled=MyLeaveState.page >= MyLeaveState.page_count),
                                spacing="3", align="center"), rx.fragment()),
                            spacing="3", width="100%",
                        ),
                        rx.text("You have no leave requests yet. Use “Apply for leave” to ask for time off.",
                                color_scheme="gray", size="2"),
                    ),
                    spacing="3", width="100%",
                ),
                width="100%",
            ),
            spacing="4", width="100%",
        ),
        _apply_dialog(),
        _ledger_dialog(),
    )


# ================================================================ Approvals


def _queue_row(q: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.checkbox(checked=ApprovalsState.selected.contains(q["id"]),
                                  on_change=lambda v: ApprovalsState.toggle(q["id"], v),
                                  aria_label="Select request of " + q["employeeName"].to(str))),
        rx.table.row_header_cell(rx.vstack(
            rx.text(q["employeeName"], weight="medium", size="2"),
            rx.text(q["leaveTypeName"], size="1", color_scheme="gray"),
            rx.cond(q["onBehalfOf"], rx.badge("for " + q["onBehalfOf"].to(str), size="1", color_scheme="purple"),
                    rx.fragment()),
            spacing="0")),
        rx.table.cell(rx.vstack(
            rx.text(q["when"], size="2", white_space="nowrap"),
            rx.cond(q["halves"], rx.text(q["halves"], size="1", color_scheme="gray"), rx.fragment()),
            rx.cond(q["reason"], rx.text("“" + q["reason"].to(str) + "”", size="1"), rx.fragment()),
            _attachment_link(q),
            spacing="0")),
        rx.table.cell(rx.text(q["daysLabel"], weight="bold")),
        rx.table.cell(rx.vstack(
            rx.text("now " + q["balanceLabel"].to(str), size="2"),
            rx.text("after " + q["afterLabel"].to(str), size="1",
                    color_scheme=rx.cond(q["negative"], "red", "gray")),
            spacing="0")),
        rx.table.cell(rx.text(q["teamAbsenceText"], size="1")),
        rx.table.cell(rx.badge(q["awaiting"], color_scheme=rx.cond(q["awaiting"] == "HR", "purple", "amber"))),
        rx.table.cell(_queue_buttons(q)),
        data_testid="queue-row",
    )


def _queue_buttons(q: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.button("Approve", size="1", color_scheme="green", on_click=ApprovalsState.ask(q["id"], "approved"),
                  aria_label="Approve leave of " + q["employeeName"].to(str)),
        rx.button("Reject", size="1", color_scheme="red", variant="soft", on_click=ApprovalsState.ask(q["id"], "rejected"),
                  aria_label="Reject leave of " + q["employeeName"].to(str)),
        spacing="2")


def _queue_card(q: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.checkbox(checked=ApprovalsState.selected.contains(q["id"]),
                        on_change=lambda v: ApprovalsState.toggle(q["id"], v),
                        aria_label="Select request of " + q["employeeName"].to(str)),
            rx.vstack(
                rx.text(q["employeeName"], weight="medium", size="2"),
                rx.text(q["leaveTypeName"].to(str) + " · " + q["when"].to(str), size="1"),
                rx.text(q["daysLabel"].to(str) + " day(s) · balance " + q["balanceLabel"].to(str) + " → "
                        + q["afterLabel"].to(str), size="1", color_scheme=rx.cond(q["negative"], "red", "gray")),
                rx.cond(q["reason"], rx.text("“" + q["reason"].to(str) + "”", size="1"), rx.fragment()),
                _attachment_link(q),
                rx.text(q["teamAbsenceText"], size="1", color_scheme="gray"),
                _queue_buttons(q),
                spacing="1", width="100%"),
            rx.badge(q["awaiting"], color_scheme=rx.cond(q["awaiting"] == "HR", "purple", "amber")),
            align="start", spacing="2", width="100%",
        ),
        padding="10px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        data_testid="queue-card",
    )


def _queue_pager() -> rx.Component:
    """Shown when more requests wait than one page holds (service.QUEUE_PAGE, the earliest first)."""
    return rx.cond(
        ApprovalsState.pages > 1,
        rx.hstack(
            rx.text(ApprovalsState.page_label, size="2", color_scheme="gray", data_testid="queue-range"),
            rx.spacer(),
            rx.button(rx.icon("chevron-left", size=16), "Earlier", size="1", variant="soft",
                      on_click=ApprovalsState.go_page(-1), disabled=ApprovalsState.page <= 1),
            rx.button("Later", rx.icon("chevron-right", size=16), size="1", variant="soft",
                      on_click=ApprovalsState.go_page(1), disabled=ApprovalsState.page >= ApprovalsState.pages),
            align="center", spacing="2", width="100%", padding_top="12px",
        ),
        rx.fragment(),
    )


def _decide_dialog() -> rx.Component:
    approving = ApprovalsState.dialog_status == "approved"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(approving, "Approve leave", "Reject leave")),
            rx.dialog.description(ApprovalsState.dialog_title, size="2"),
            rx.vstack(
                field("Comment (optional)", rx.text_area(id="decision_comment", value=ApprovalsState.comment,
                                                         on_change=ApprovalsState.set_comment, max_length=1000,
                                                         rows="3", width="100%"),
                      id="decision_comment"),
                rx.hstack(
                    rx.dialog.close(rx.button("Back", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(ApprovalsState.busy, rx.spinner(size="2"), rx.fragment()),
                              rx.cond(approving, "Confirm approval", "Confirm rejection"),
                              color_scheme=rx.cond(approving, "green", "red"), on_click=ApprovalsState.confirm,
                              disabled=ApprovalsState.busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="480px", width="calc(100vw - 24px)",
        ),
        open=ApprovalsState.dialog_open, on_open_change=ApprovalsState.set_dialog_open,
    )


def _delegation_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("While I'm away", size="4"),
            rx.text("Name a delegate for a date range: in that period they see and decide your team's requests.",
                    size="2", color_scheme="gray"),
            error_callout(ApprovalsState.d_error),
            rx.flex(
                field("Delegate", rx.el.select(
                    rx.el.option("Choose a person", value=""),
                    rx.foreach(ApprovalsState.candidates, lambda c: rx.el.option(c["name"], value=c["id"])),
                    id="delegate", value=ApprovalsState.d_delegate, on_change=ApprovalsState.set_d_delegate,
                    style={"width": "100%", "padding": "7px", "border_radius": "6px",
                           "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                           "color": "var(--gray-12)"}), id="delegate"),
                field("From", rx.input(id="delegate_from", type="date", value=ApprovalsState.d_start,
                                       on_change=ApprovalsState.set_d_start, width="100%"), id="delegate_from"),
                field("To", rx.input(id="delegate_to", type="date", value=ApprovalsState.d_end,
                                     on_change=ApprovalsState.set_d_end, width="100%"), id="delegate_to"),
                rx.button("Add delegation", on_click=ApprovalsState.add_delegation, align_self="end"),
                spacing="3", width="100%", direction=rx.breakpoints(initial="column", md="row"),
            ),
            rx.cond(
                ApprovalsState.delegations.length() > 0,
                rx.vstack(rx.foreach(ApprovalsState.delegations, lambda d: rx.hstack(
                    rx.icon("user-check", size=16),
                    rx.text(d["approverName"].to(str) + " → " + d["delegateName"].to(str) + ", "
                            + d["period"].to(str), size="2"),
                    rx.button("End", size="1", variant="soft", color_scheme="gray",
                              on_click=ApprovalsState.revoke(d["id"]),
                              aria_label="End delegation to " + d["delegateName"].to(str)),
                    spacing="2", align="center", wrap="wrap")), spacing="2"),
                rx.text("No delegations.", size="2", color_scheme="gray"),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def approvals_page() -> rx.Component:
    return app_shell(
        page_header("Leave approvals",
                    rx.button("Approve selected (" + ApprovalsState.selected_count.to(str) + ")", color_scheme="green",
                              on_click=ApprovalsState.ask_selected("approved"),
                              disabled=ApprovalsState.selected_count == 0),
                    rx.button("Reject selected", color_scheme="red", variant="soft",
                              on_click=ApprovalsState.ask_selected("rejected"),
                              disabled=ApprovalsState.selected_count == 0),
                    subtitle="Requests waiting for you. This list updates by itself."),
        rx.vstack(
            rx.card(
                rx.cond(
                    ApprovalsState.queue.length() > 0,
                    rx.box(rx.mobile_only(rx.vstack(rx.foreach(ApprovalsState.queue, _queue_card), spacing="0",
                                                    width="100%")),
                           rx.tablet_and_desktop(_scroll_table(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell(rx.checkbox(checked=ApprovalsState.all_selected,
                                                                    on_change=ApprovalsState.toggle_all,
                                                                    aria_label="Select all")),
                            rx.table.column_header_cell("Who"), rx.table.column_header_cell("When"),
                            rx.table.column_header_cell("Days"), rx.table.column_header_cell("Balance"),
                            rx.table.column_header_cell("Team off then"), rx.table.column_header_cell("Step"),
                            rx.table.column_header_cell(""))),
                        rx.table.body(rx.foreach(ApprovalsState.queue, _queue_row)),
                    )), _queue_pager(), width="100%"),
                    rx.vstack(rx.icon("inbox", size=28, color=rx.color("gray", 9)),
                              rx.text("Nothing is waiting for you. New requests appear here as they arrive.",
                                      color_scheme="gray", size="2", data_testid="queue-empty"),
                              align="center", padding="24px", width="100%"),
                ),
                width="100%", id="approvals-queue", scroll_margin_top="72px",  # below the sticky top bar
            ),
            _delegation_card(),
            spacing="4", width="100%",
        ),
        _decide_dialog(),
    )


# ================================================================ Team calendar


def _legend(color: str, label: str) -> rx.Component:
    return rx.hstack(rx.box(width="14px", height="14px", border_radius="3px", background=color,
                            border=f"1px solid {rx.color('gray', 7)}"),
                     rx.text(label, size="1"), spacing="1", align="center")


def _cal_cell(state: rx.Var) -> rx.Component:
    return rx.el.td(
        title=rx.match(state, *[(k, k.replace("_", " ")) for k in CELL_COLORS], state).to(str),
        style={"background": rx.match(state, *CELL_COLORS.items(), "transparent"), "border": "1px solid var(--gray-4)",
               "width": "22px", "min_width": "22px", "height": "30px"})


def _cal_row(r: rx.Var) -> rx.Component:
    return rx.cond(CalendarState.only_off & ~r["onLeave"].to(bool), rx.fragment(), rx.el.tr(
        rx.el.th(rx.text(r["name"], size="1", weight="medium", white_space="nowrap"),
                 rx.cond(r["daysOff"].to(float) > 0,
                         rx.text(r["daysOffLabel"].to(str) + " d off", size="1", color_scheme="gray"), rx.fragment()),
                 scope="row",
                 style={"position": "sticky", "left": "0", "background": "var(--color-panel-solid)",
                        "text_align": "left", "padding": "4px 8px", "z_index": "1", "min_width": "130px"}),
        rx.foreach(r["cells"].to(list[str]), _cal_cell),
        data_testid="calendar-row",
    ))


def calendar_page() -> rx.Component:
    return app_shell(
        page_header("Team calendar",
                    rx.el.select(
                        rx.el.option("All departments", value="all"),
                        rx.foreach(CalendarState.departments, lambda d: rx.el.option(d["name"], value=d["id"])),
                        value=CalendarState.department, on_change=CalendarState.set_department,
                        aria_label="Department",
                        style={"padding": "6px", "border_radius": "6px", "border": "1px solid var(--gray-7)",
                               "background": "var(--color-surface)", "color": "var(--gray-12)"}),
                    subtitle="Who is off, approved and pending, with holidays."),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon_button(rx.icon("chevron-left"), variant="soft", on_click=CalendarState.shift(-1),
                                   aria_label="Previous month"),
                    rx.heading(CalendarState.title, size="4", min_width="150px", text_align="center"),
                    rx.icon_button(rx.icon("chevron-right"), variant="soft", on_click=CalendarState.shift(1),
                                   aria_label="Next month"),
                    rx.spacer(),
                    rx.el.label(rx.hstack(rx.switch(checked=CalendarState.only_off,
                                                    on_change=CalendarState.set_only_off),
                                          rx.text("Only people off", size="2"), spacing="2", align="center")),
                    align="center", width="100%", wrap="wrap", spacing="2",
                ),
                rx.flex(_legend("var(--green-9)", "Approved"), _legend("var(--green-6)", "Approved half day"),
                        _legend("var(--amber-8)", "Pending"), _legend("var(--red-4)", "Holiday"),
                        _legend("var(--gray-4)", "Weekly off"), spacing="3", wrap="wrap"),
                rx.box(
                    rx.el.table(
                        rx.el.thead(rx.el.tr(
                            rx.el.th(rx.text("Person", size="1"),
                                     style={"position": "sticky", "left": "0", "z_index": "1",
                                            "background": "var(--color-panel-solid)", "text_align": "left",
                                            "padding": "4px 8px"}),
                            rx.foreach(CalendarState.header, lambda h: rx.el.th(
                                rx.text(h["weekday"], size="1", color_scheme="gray"),
                                rx.text(h["day"], size="1", weight="bold"),
                                title=h["holiday"].to(str), scope="col",
                                style={"background": rx.cond(h["holiday"] != "", "var(--red-4)",
                                                             rx.cond(h["off"], "var(--gray-3)", "transparent")),
                                       "padding": "2px", "min_width": "22px", "text_align": "center"})),
                        )),
                        rx.el.tbody(rx.foreach(CalendarState.rows, _cal_row)),
                        style={"border_collapse": "collapse", "font_size": "12px"},
                    ),
                    width="100%", overflow_x="auto",
                ),
                rx.cond(rx.cond(CalendarState.only_off, CalendarState.off_count, CalendarState.rows.length()) == 0,
                        rx.text("Nobody to show for this selection.", size="2", color_scheme="gray"),
                        rx.fragment()),
                rx.cond(
                    CalendarState.holidays.length() > 0,
                    rx.vstack(rx.text("Holidays this month", weight="medium", size="2"),
                              rx.foreach(CalendarState.holidays, lambda h: rx.text(
                                  h["label"].to(str) + ": " + h["name"].to(str), size="2")),
                              spacing="1"),
                    rx.text("No holidays this month.", size="2", color_scheme="gray"),
                ),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
    )


# ================================================================ Setup


def _native_select(options, value, on_change, id: str, placeholder: str | None = None) -> rx.Component:
    children = [rx.el.option(placeholder, value="")] if placeholder else []
    return rx.el.select(*children, rx.foreach(options, lambda o: rx.el.option(o["name"], value=o["id"])),
                        id=id, value=value, on_change=on_change,
                        style={"width": "100%", "padding": "7px", "border_radius": "6px",
                               "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                               "color": "var(--gray-12)"})


def _type_row(t: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.hstack(
                rx.box(width="10px", height="10px", border_radius="50%", background=rx.color(t["color"].to(str), 9)),
                rx.text(t["name"], weight="medium"),
                rx.cond(t["archived"], rx.badge("archived", color_scheme="gray"), rx.fragment()),
                spacing="2", align="center"),
            rx.text(rx.cond(t["paid"], "Paid", "Unpaid").to(str) + " · " + t["entitlementLabel"].to(str)
                    + " days/year · " + t["accrualLabel"].to(str), size="1"),
            rx.text("Carry forward: " + t["carryLabel"].to(str) + " · " + t["rules"].to(str), size="1",
                    color_scheme="gray"),
            spacing="1")),
        rx.table.cell(rx.button("Edit", size="1", variant="soft", on_click=SetupState.edit_type(t["id"]),
                                aria_label="Edit " + t["name"].to(str)), text_align="right"),
    )


def _tf_input(label: str, key: str, *, hint: str | None = None, type: str = "text") -> rx.Component:
    return field(label, rx.input(id=f"tf_{key}", value=SetupState.tf[key].to(str), type=type,
                                 on_change=lambda v: SetupState.set_tf(key, v), width="100%"),
                 id=f"tf_{key}", hint=hint)


def _tf_check(label: str, key: str) -> rx.Component:
    return rx.el.label(rx.hstack(rx.checkbox(id=f"tf_{key}", checked=SetupState.tf[key].to(bool),
                                             on_change=lambda v: SetupState.set_tf(key, v)),
                                 rx.text(label, size="2"), spacing="2", align="center"))


def _type_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(SetupState.type_id, "Edit leave type", "New leave type")),
            rx.vstack(
                error_callout(SetupState.type_error),
                _tf_input("Name", "name"),
                rx.grid(
                    _tf_input("Yearly entitlement (days)", "yearlyEntitlement"),
                    field("Accrual", rx.el.select(
                        rx.el.option("Up front (1 January / on joining)", value="upfront"),
                        rx.el.option("Monthly, pro rata", value="monthly"),
                        rx.el.option("Allocations only", value="none"),
                        id="tf_accrual", value=SetupState.tf["accrual"].to(str),
                        on_change=lambda v: SetupState.set_tf("accrual", v),
                        style={"width": "100%", "padding": "7px", "border_radius": "6px",
                               "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                               "color": "var(--gray-12)"}), id="tf_accrual"),
                    _tf_input("Carry-forward cap (days)", "carryForwardCap", hint="0 = nothing carries over"),
                    _tf_input("Carried days expire after (months)", "carryForwardExpiryMonths",
                              hint="Empty = usable all year"),
                    _tf_input("Max consecutive days", "maxConsecutiveDays", hint="Empty = no limit"),
                    _tf_input("Minimum notice (days)", "minNoticeDays"),
                    _tf_input("Reason required above (days)", "reasonRequiredAboveDays", hint="Empty = never"),
                    _tf_input("Document required above (days)", "attachmentRequiredAboveDays",
                              hint="Empty = never; e.g. 2 asks for a certificate from the 3rd day"),
                    _tf_input("HR approval above (days)", "hrApprovalAboveDays", hint="Empty = manager only"),
                    columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
                ),
                rx.flex(
                    _tf_check("Paid", "paid"), _tf_check("Half days allowed", "allowHalfDay"),
                    _tf_check("Pro rata for joiners", "prorateOnJoining"),
                    _tf_check("Sandwich rule (weekends/holidays inside count)", "countNonWorkingDays"),
                    _tf_check("Negative balance allowed", "allowNegative"), _tf_check("Archived", "archived"),
                    spacing="3", wrap="wrap",
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save type", on_click=SetupState.save_type, disabled=SetupState.busy),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="640px", width="calc(100vw - 24px)",
        ),
        open=SetupState.type_open, on_open_change=SetupState.set_type_open,
    )


def _types_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.button(rx.icon("plus", size=16), "New leave type", on_click=SetupState.new_type),
                  justify="end", width="100%"),
        _scroll_table(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Type and rules"), rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(SetupState.types, _type_row)),
        ),
        spacing="3", width="100%",
    )


def _holiday_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(SetupState.h_id, "Edit holiday", "Add holiday")),
            rx.vstack(
                error_callout(SetupState.h_error),
                field("Date", rx.input(id="holiday_date", type="date", value=SetupState.h_date,
                                       on_change=SetupState.set_h_date, width="100%"), id="holiday_date"),
                field("Name", rx.input(id="holiday_name", value=SetupState.h_name, on_change=SetupState.set_h_name,
                                       max_length=120, width="100%"), id="holiday_name"),
                rx.el.label(rx.hstack(rx.checkbox(id="holiday_recurring", checked=SetupState.h_recurring,
                                                  on_change=SetupState.set_h_recurring),
                                      rx.text("Every year on this date", size="2"), spacing="2", align="center")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save holiday", on_click=SetupState.save_holiday),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", padding_top="12px",
            ),
            max_width="440px",
        ),
        open=SetupState.h_open, on_open_change=SetupState.set_h_open,
    )


def _holidays_tab() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.box(field("Company", _native_select(SetupState.companies, SetupState.h_company,
                                                   SetupState.set_h_company, "holiday_company"),
                         id="holiday_company"), min_width="220px"),
            rx.hstack(
                rx.icon_button(rx.icon("chevron-left"), variant="soft", on_click=SetupState.shift_year(-1),
                               aria_label="Previous year"),
                rx.heading(SetupState.h_year.to(str), size="4"),
                rx.icon_button(rx.icon("chevron-right"), variant="soft", on_click=SetupState.shift_year(1),
                               aria_label="Next year"),
                align="center", spacing="2",
            ),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "Add holiday", on_click=SetupState.new_holiday),
            spacing="3", align="end", wrap="wrap", width="100%",
        ),
        rx.cond(
            SetupState.holidays.length() > 0,
            _scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Holiday"), rx.table.column_header_cell(""))),
                rx.table.body(rx.foreach(SetupState.holidays, lambda h: rx.table.row(
                    rx.table.row_header_cell(rx.vstack(
                        rx.text(h["name"], weight="medium", size="2"),
                        rx.text(h["label"].to(str) + " · " + h["weekday"].to(str) + " · "
                                + rx.cond(h["recurring"], "every year", "once").to(str), size="1",
                                color_scheme="gray"),
                        spacing="0")),
                    rx.table.cell(rx.hstack(
                        rx.button("Edit", size="1", variant="soft", on_click=SetupState.edit_holiday(h["id"]),
                                  aria_label="Edit " + h["name"].to(str)),
                        rx.button("Delete", size="1", variant="soft", color_scheme="red",
                                  on_click=SetupState.delete_holiday(h["id"]),
                                  aria_label="Delete " + h["name"].to(str)),
                        spacing="2")),
                ))),
            ),
            rx.text("No holidays in this year yet. Add them one by one or import a CSV below.", size="2",
                    color_scheme="gray"),
        ),
        rx.card(
            rx.vstack(
                rx.heading("Import a year from CSV", size="3"),
                rx.text("One holiday per line: date,name[,recurring] — e.g. 2026-12-25,Christmas Day,yes. "
                        "All lines must be in the year shown above; dates already there are skipped.", size="2",
                        color_scheme="gray"),
                rx.upload(
                    rx.hstack(rx.icon("upload", size=16), rx.text("Choose or drop a .csv file", size="2"),
                              spacing="2", align="center"),
                    id="holiday_csv_upload", accept={"text/csv": [".csv"], "text/plain": [".txt"]}, max_files=1,
                    on_drop=SetupState.upload_csv(rx.upload_files(upload_id="holiday_csv_upload")),
                    border=f"1px dashed {rx.color('gray', 8)}", padding="12px", border_radius="6px", width="100%",
                ),
                field("CSV lines", rx.text_area(id="holiday_csv", value=SetupState.csv_text,
                                                on_change=SetupState.set_csv_text, rows="5", width="100%",
                                                placeholder="2026-01-01,New Year's Day"), id="holiday_csv"),
                error_callout(SetupState.csv_error),
                rx.foreach(SetupState.csv_problems, lambda p: rx.text(p, size="1", color_scheme="red")),
                rx.hstack(rx.button("Import holidays", on_click=SetupState.import_csv,
                                    disabled=SetupState.csv_text == ""), justify="end", width="100%"),
                spacing="2", width="100%",
            ),
            width="100%",
        ),
        spacing="3", width="100%",
    )


def _allocations_tab() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Grant or adjust days", size="3"),
            rx.text("The days and the reason appear in each person's ledger.", size="2", color_scheme="gray"),
            error_callout(SetupState.a_error),
            rx.grid(
                field("Leave type", _native_select(SetupState.types, SetupState.a_type,
                                                   lambda v: SetupState.set_a("a_type", v), "alloc_type"),
                      id="alloc_type"),
                field("Kind", rx.el.select(
                    rx.el.option("Allocation (grant)", value="allocation"),
                    rx.el.option("Adjustment (correction)", value="adjustment"),
                    id="alloc_kind", value=SetupState.a_kind, on_change=lambda v: SetupState.set_a("a_kind", v),
                    style={"width": "100%", "padding": "7px", "border_radius": "6px",
                           "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                           "color": "var(--gray-12)"}), id="alloc_kind"),
                field("For", rx.el.select(
                    rx.el.option("One person", value="person"), rx.el.option("A department", value="department"),
                    rx.el.option("A company", value="company"), rx.el.option("Everyone", value="everyone"),
                    id="alloc_target", value=SetupState.a_target,
                    on_change=lambda v: SetupState.set_a("a_target", v),
                    style={"width": "100%", "padding": "7px", "border_radius": "6px",
                           "border": "1px solid var(--gray-7)", "background": "var(--color-surface)",
                           "color": "var(--gray-12)"}), id="alloc_target"),
                rx.match(
                    SetupState.a_target,
                    ("person", field("Person", _native_select(SetupState.people, SetupState.a_person,
                                                              lambda v: SetupState.set_a("a_person", v),
                                                              "alloc_person", "Choose a person"), id="alloc_person")),
                    ("department", field("Department", _native_select(
                        SetupState.departments, SetupState.a_department, lambda v: SetupState.set_a("a_department", v),
                        "alloc_department", "Choose a department"), id="alloc_department")),
                    ("company", field("Company", _native_select(
                        SetupState.companies, SetupState.a_company, lambda v: SetupState.set_a("a_company", v),
                        "alloc_company", "Choose a company"), id="alloc_company")),
                    rx.text("All active people of the organization.", size="2", align_self="end"),
                ),
                field("Days (negative to take back)", rx.input(
                    id="alloc_days", value=SetupState.a_amount, on_change=lambda v: SetupState.set_a("a_amount", v),
                    width="100%", placeholder="e.g. 1 or -0.5"), id="alloc_days"),
                field("Reason", rx.input(id="alloc_reason", value=SetupState.a_reason,
                                         on_change=lambda v: SetupState.set_a("a_reason", v), width="100%",
                                         max_length=300), id="alloc_reason"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            rx.hstack(rx.button("Record", on_click=SetupState.allocate), justify="end", width="100%"),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _jobs_tab() -> rx.Component:
    return rx.vstack(
        rx.text("The scheduled jobs run every night (once, even with several app processes). Preview what they "
                "would write now; nothing is changed here.", size="2", color_scheme="gray"),
        rx.flex(
            rx.button("Preview allocations and accruals", variant="soft", on_click=SetupState.preview("entitlements")),
            rx.button("Preview carry-forward", variant="soft", on_click=SetupState.preview("carry_forward")),
            rx.button("Preview expiry of carried days", variant="soft", on_click=SetupState.preview("expiry")),
            spacing="2", wrap="wrap",
        ),
        rx.cond(
            SetupState.preview_job != "",
            rx.cond(
                SetupState.preview_rows.length() > 0,
                _scroll_table(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Person"), rx.table.column_header_cell("Type"),
                        rx.table.column_header_cell("Date"), rx.table.column_header_cell("Days"),
                        rx.table.column_header_cell("Reason"))),
                    rx.table.body(rx.foreach(SetupState.preview_rows, lambda r: rx.table.row(
                        rx.table.row_header_cell(r["employeeName"]), rx.table.cell(r["leaveType"]),
                        rx.table.cell(r["date"]), rx.table.cell(r["amountLabel"]),
                        rx.table.cell(rx.text(r["reason"], size="1"))))),
                ),
                rx.callout("Nothing to do: every line of this period is already written.", icon="check"),
            ),
            rx.fragment(),
        ),
        spacing="3", width="100%",
    )


def setup_page() -> rx.Component:
    return app_shell(
        page_header("Leave setup", subtitle="Leave types and their rules, holiday calendars, allocations."),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Types", value="types"), rx.tabs.trigger("Holidays", value="holidays"),
                rx.tabs.trigger("Allocations", value="allocations"), rx.tabs.trigger("Jobs", value="jobs"),
                wrap="wrap",
            ),
            rx.tabs.content(rx.box(_types_tab(), padding_top="16px"), value="types"),
            rx.tabs.content(rx.box(_holidays_tab(), padding_top="16px"), value="holidays"),
            rx.tabs.content(rx.box(_allocations_tab(), padding_top="16px"), value="allocations"),
            rx.tabs.content(rx.box(_jobs_tab(), padding_top="16px"), value="jobs"),
            value=SetupState.tab, on_change=SetupState.set_tab, width="100%",
        ),
        _type_dialog(),
        _holiday_dialog(),
    )
