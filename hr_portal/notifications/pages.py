"""The bell (top bar), the notifications page, preferences, and the admin mail outbox."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth.models import Role
from hr_portal.core.authz import ALL_ROLES, register_page
from hr_portal.notifications.state import (
    MailOutboxState,
    NotificationBellState,
    NotificationPrefsState,
    NotificationsPageState,
)
from hr_portal.ui.components import page_header
from hr_portal.ui.layout import app_shell
from hr_portal.ui.session import SessionState

register_page("notifications", ALL_ROLES)
register_page("notification_preferences", ALL_ROLES)
register_page("mail_outbox", {Role.admin}, nav=("Mail outbox", "/settings/mail", "mail"), order=920)


def register(app: rx.App) -> None:
    app.add_page(notifications_page, route="/notifications", title="Notifications · HR Portal",
                 on_load=NotificationsPageState.open_page)
    app.add_page(preferences_page, route="/notifications/preferences", title="Notification preferences · HR Portal",
                 on_load=NotificationPrefsState.open_prefs)
    app.add_page(outbox_page, route="/settings/mail", title="Mail outbox · HR Portal",
                 on_load=MailOutboxState.open_outbox)


# ================================================================ the bell


def _unread_dot(read: rx.Var) -> rx.Component:
    return rx.box(width="8px", height="8px", min_width="8px", border_radius="50%", margin_top="6px",
                  background_color=rx.cond(read, "transparent", rx.color("accent", 9)))


def _bell_item(n: rx.Var) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            _unread_dot(n["read"]),
            rx.vstack(
                rx.text(n["title"], size="2", weight=rx.cond(n["read"], "regular", "medium"),
                        color=rx.color("gray", 12)),
                rx.cond(n["body"] != "", rx.text(n["body"], size="1", color_scheme="gray",
                                                 style={"display": "-webkit-box", "-webkit-line-clamp": "2",
                                                        "-webkit-box-orient": "vertical", "overflow": "hidden"}),
                        rx.fragment()),
                rx.moment(n["created_at"], from_now=True, font_size="12px", color=rx.color("gray", 10)),
                spacing="1", align="start", width="100%", min_width="0",
            ),
            spacing="3", align="start", width="100%",
        ),
        on_click=NotificationBellState.open_item(n["id"]),
        width="100%", text_align="left", padding="10px 14px", cursor="pointer", border="none",
        background_color="transparent", border_bottom=f"1px solid {rx.color('gray', 4)}",
        _hover={"background_color": rx.color("gray", 3)},
    )


def notification_bell() -> rx.Component:
    """The top-bar bell: unread badge, a dropdown of the latest 8, links to all and to preferences.
    Rendered only for a signed-in session; it loads on mount and then follows the inbox live."""
    return rx.cond(SessionState.signed_in, _bell(), rx.fragment())


def _bell() -> rx.Component:
    return rx.box(
        rx.popover.root(
            rx.popover.trigger(
                rx.icon_button(
                    rx.icon("bell", size=18),
                    rx.cond(NotificationBellState.bell_unread > 0,
                            rx.badge(NotificationBellState.bell_badge, color_scheme="red", variant="solid",
                                     radius="full", size="1", position="absolute", top="-4px", right="-6px",
                                     pointer_events="none", data_testid="bell-count"),
                            rx.fragment()),
                    variant="ghost", color_scheme="gray", position="relative",
                    aria_label=NotificationBellState.bell_label, data_testid="bell",
                ),
            ),
            rx.popover.content(
                rx.vstack(
                    rx.hstack(
                        rx.text("Notifications", size="3", weight="bold"),
                        rx.spacer(),
                        rx.button("Mark all read", size="1", variant="ghost",
                                  on_click=NotificationBellState.mark_all_read,
                                  disabled=(NotificationBellState.bell_unread == 0) | NotificationBellState.bell_busy),
                        width="100%", align="center", padding="10px 14px",
                        border_bottom=f"1px solid {rx.color('gray', 5)}",
                    ),
                    rx.cond(
                        NotificationBellState.bell_items.length() > 0,
                        rx.box(rx.foreach(NotificationBellState.bell_items, _bell_item), width="100%",
                               max_height="min(420px, 60vh)", overflow_y="auto"),
                        rx.vstack(rx.icon("bell-off", size=22, color=rx.color("gray", 9)),
                                  rx.text("You're all caught up. Requests to approve, decisions and reminders "
                                          "show up here.", size="2", color_scheme="gray", text_align="center"),
                                  align="center", spacing="2", padding="24px 16px", width="100%"),
                    ),
                    rx.hstack(
                        rx.link("See all", href="/notifications", size="2", weight="medium",
                                on_click=NotificationBellState.set_bell_open(False)),
                        rx.spacer(),
                        rx.link("Preferences", href="/notifications/preferences", size="2", color_scheme="gray",
                                on_click=NotificationBellState.set_bell_open(False)),
                        width="100%", padding="10px 14px", border_top=f"1px solid {rx.color('gray', 5)}",
                    ),
                    spacing="0", width="100%",
                ),
                width="min(380px, calc(100vw - 24px))", padding="0", side="bottom", align="end",
                collision_padding=12, aria_label="Latest notifications",
            ),
            open=NotificationBellState.bell_open, on_open_change=NotificationBellState.set_bell_open,
        ),
        on_mount=NotificationBellState.start_bell,
        display="inline-flex",
    )


# ================================================================ the notifications page


def _kind_select(value: rx.Var, options: rx.Var, on_change, *, id: str, label: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=id, aria_label=label, min_width="200px"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))),
        value=value, on_change=on_change,
    )


def _notification_row(n: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(
            _unread_dot(n["read"]),
            rx.vstack(
                rx.link(n["title"], href=n["link"], size="3", weight=rx.cond(n["read"], "regular", "medium"),
                        color=rx.color("gray", 12), on_click=rx.prevent_default),
                rx.cond(n["body"] != "", rx.text(n["body"], size="2", color_scheme="gray", white_space="pre-line"),
                        rx.fragment()),
                rx.hstack(
                    rx.badge(n["kind_label"], variant="soft", color_scheme="gray"),
                    rx.moment(n["created_at"], from_now=True, font_size="12px", color=rx.color("gray", 10)),
                    spacing="2", align="center", wrap="wrap",
                ),
                spacing="1", align="start", width="100%", min_width="0",
            ),
            rx.cond(n["read"], rx.fragment(),
                    rx.button("Mark read", size="1", variant="soft", color_scheme="gray",
                              on_click=NotificationsPageState.mark_read(n["id"]).stop_propagation,
                              aria_label="Mark read: " + n["title"].to(str))),
            spacing="3", align="start", width="100%",
        ),
        on_click=NotificationsPageState.open_item(n["id"]),
        padding="14px 16px", width="100%", cursor="pointer",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background_color=rx.cond(n["read"], "transparent", rx.color("accent", 2)),
        _hover={"background_color": rx.color("gray", 3)},
    )


def notifications_page() -> rx.Component:
    s = NotificationsPageState
    return app_shell(
        page_header(
            "Notifications",
            rx.link(rx.button(rx.icon("settings-2", size=16), "Preferences", variant="soft", color_scheme="gray"),
                    href="/notifications/preferences"),
            rx.button(rx.icon("check-check", size=16), "Mark all read", on_click=s.mark_all_read),
            subtitle="Requests to approve, decisions, reminders and team news. New ones appear here as they arrive.",
        ),
        rx.flex(
            rx.segmented_control.root(
                rx.segmented_control.item("All", value="all"),
                rx.segmented_control.item("Unread", value="unread"),
                value=s.show, on_change=s.set_show, aria_label="Show",
            ),
            _kind_select(s.kind, s.kind_options, s.set_kind, id="kind_filter", label="Kind"),
            rx.spacer(),
            rx.text(s.range_text, size="2", color_scheme="gray"),
            spacing="3", align="center", wrap="wrap", width="100%", padding_bottom="12px",
        ),
        rx.card(
            rx.cond(
                s.items.length() > 0,
                rx.box(rx.foreach(s.items, _notification_row), width="100%"),
                rx.cond(s.loaded,
                        rx.vstack(rx.icon("inbox", size=28, color=rx.color("gray", 9)),
                                  rx.text(s.empty_text, size="2", color_scheme="gray", text_align="center"),
                                  align="center", spacing="2", padding="40px 16px", width="100%"),
                        rx.center(rx.spinner(size="3"), padding="40px", width="100%")),
            ),
            width="100%", padding="0", overflow="hidden",
        ),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", color_scheme="gray",
                      on_click=s.go_page(-1), disabled=s.page <= 1),
            rx.text("Page ", s.page, " of ", s.page_count, size="2", color_scheme="gray"),
            rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", color_scheme="gray",
                      on_click=s.go_page(1), disabled=s.page >= s.page_count),
            justify="center", align="center", spacing="3", width="100%", padding_top="16px",
        ),
    )


# ================================================================ preferences


def _pref_row(p: rx.Var) -> rx.Component:
    select_id = "pref_" + p["kind"].to(str)
    return rx.flex(
        rx.vstack(
            rx.el.label(rx.text(p["label"], size="2", weight="medium"), html_for=select_id),
            rx.text(p["description"], size="1", color_scheme="gray"),
            spacing="1", flex="1", min_width="220px",
        ),
        rx.select.root(
            rx.select.trigger(id=select_id, min_width="170px"),
            rx.select.content(rx.foreach(p["options"].to(list[dict[str, str]]),
                                         lambda o: rx.select.item(o["label"], value=o["value"]))),
            value=p["channel"], on_change=lambda v: NotificationPrefsState.set_channel(p["kind"], v),
        ),
        spacing="3", align="center", wrap="wrap", width="100%", padding_y="12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def preferences_page() -> rx.Component:
    s = NotificationPrefsState
    return app_shell(
        page_header("Notification preferences",
                    rx.link(rx.button(rx.icon("arrow-left", size=16), "Notifications", variant="soft",
                                      color_scheme="gray"), href="/notifications"),
                    subtitle="Choose for each kind whether it reaches you in the app, by email, or both. Changes "
                             "are saved at once."),
        rx.vstack(
            rx.card(
                rx.vstack(rx.heading("What reaches you", size="4"),
                          rx.box(rx.foreach(s.prefs, _pref_row), width="100%"),
                          spacing="2", width="100%"),
                width="100%", size="2",
            ),
            rx.card(
                rx.flex(
                    rx.vstack(
                        rx.el.label(rx.text("Announce my birthday and work anniversary to my team", size="2",
                                            weight="medium"), html_for="share_celebrations"),
                        rx.text("Your manager, the colleagues who share your manager and your direct reports get a "
                                "short note on the day. Turn it off to keep these dates private.", size="1",
                                color_scheme="gray"),
                        spacing="1", flex="1", min_width="220px",
                    ),
                    rx.switch(id="share_celebrations", checked=s.share, on_change=s.set_share),
                    spacing="3", align="center", wrap="wrap", width="100%",
                ),
                width="100%", size="2",
            ),
            spacing="4", width="100%",
        ),
    )


# ================================================================ mail outbox (admin)


def _status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(rx.match(status, ("sent", "Sent"), ("failed", "Failed"), ("pending", "Pending"), status),
                    color_scheme=rx.match(status, ("sent", "green"), ("failed", "red"), ("pending", "amber"), "gray"))


def _mail_row(m: rx.Var) -> rx.Component:
    s = MailOutboxState
    return rx.table.row(
        rx.table.cell(_status_badge(m["status"])),
        rx.table.row_header_cell(rx.vstack(
            rx.text(m["subject"], size="2", weight="medium"),
            rx.text(m["to"], size="1", color_scheme="gray"),
            spacing="0", min_width="200px")),
        rx.table.cell(rx.text(m["kind"], size="1")),
        rx.table.cell(m["attempts"]),
        rx.table.cell(rx.cond(m["last_error"], rx.text(m["last_error"], size="1", color_scheme="red",
                                                       max_width="260px"), rx.text("—", color_scheme="gray"))),
        rx.table.cell(rx.moment(m["created_at"], format="YYYY-MM-DD HH:mm", local=True, font_size="13px",
                                white_space="nowrap")),
        rx.table.cell(rx.hstack(
            rx.button("View", size="1", variant="soft", color_scheme="gray", on_click=s.view(m["id"]),
                      aria_label="View mail to " + m["to"].to(str)),
            rx.cond(m["status"] == "failed",
                    rx.button(rx.cond(s.resending_id == m["id"], rx.spinner(size="1"), rx.icon("send", size=14)),
                              "Resend", size="1", on_click=s.resend(m["id"]), disabled=s.resending_id != 0,
                              aria_label="Resend mail to " + m["to"].to(str)),
                    rx.fragment()),
            spacing="2")),
    )


def _detail_dialog() -> rx.Component:
    s = MailOutboxState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(s.detail["subject"].to(str)),
            rx.dialog.description(rx.text("To ", s.detail["to"].to(str), size="2", color_scheme="gray")),
            rx.vstack(
                rx.hstack(_status_badge(s.detail["status"].to(str)),
                          rx.text("Attempts: ", s.detail["attempts"].to(str), size="2"), spacing="3"),
                rx.cond(s.detail["lastError"], rx.callout(s.detail["lastError"].to(str), color_scheme="red",
                                                          icon="triangle-alert", size="1"), rx.fragment()),
                rx.box(rx.text(s.detail["bodyText"].to(str), size="2", white_space="pre-wrap",
                               font_family="ui-monospace, monospace"),
                       max_height="50vh", overflow_y="auto", padding="12px", border_radius="6px",
                       background_color=rx.color("gray", 2), width="100%"),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                          width="100%"),
                spacing="3", width="100%", padding_top="8px",
            ),
            max_width="640px",
        ),
        open=s.detail_open, on_open_change=s.set_detail_open,
    )


def outbox_page() -> rx.Component:
    s = MailOutboxState
    return app_shell(
        page_header("Mail outbox", subtitle="Every mail the portal sends, failed ones first. A failed mail was tried "
                                            "5 times with growing pauses; resend it once the cause is fixed."),
        rx.flex(
            rx.box(
                rx.segmented_control.root(
                    rx.segmented_control.item("All", value="all"),
                    rx.segmented_control.item("Failed (" + s.counts["failed"].to(str) + ")", value="failed"),
                    rx.segmented_control.item("Pending (" + s.counts["pending"].to(str) + ")", value="pending"),
                    rx.segmented_control.item("Sent (" + s.counts["sent"].to(str) + ")", value="sent"),
                    value=s.status, on_change=s.set_status, aria_label="Status", size=rx.breakpoints(initial="1", sm="2"),
                ),
                max_width="100%", overflow_x="auto",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="search", id="mail_search", placeholder="Search recipient or subject",
                             default_value=s.search, aria_label="Search recipient or subject", width="240px"),
                    rx.button(rx.icon("search", size=16), "Search", type="submit", variant="soft"),
                    spacing="2",
                ),
                on_submit=s.search_mails, reset_on_submit=False,
            ),
            spacing="3", align="center", wrap="wrap", width="100%", padding_bottom="12px",
        ),
        rx.card(
            rx.cond(
                s.mails.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Status"), rx.table.column_header_cell("Mail"),
                        rx.table.column_header_cell("Kind"), rx.table.column_header_cell("Tries"),
                        rx.table.column_header_cell("Last error"), rx.table.column_header_cell("Created"),
                        rx.table.column_header_cell(""),
                    )),
                    rx.table.body(rx.foreach(s.mails, _mail_row)),
                    width="100%", variant="ghost",
                ),
                rx.vstack(rx.icon("mail-check", size=28, color=rx.color("gray", 9)),
                          rx.text("No mails here. Mails appear as soon as the portal queues them.", size="2",
                                  color_scheme="gray"),
                          align="center", spacing="2", padding="40px 16px", width="100%"),
            ),
            width="100%", overflow_x="auto",
        ),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", color_scheme="gray",
                      on_click=s.go_page(-1), disabled=s.page <= 1),
            rx.text(s.range_text, size="2", color_scheme="gray"),
            rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", color_scheme="gray",
                      on_click=s.go_page(1), disabled=s.page >= s.page_count),
            justify="center", align="center", spacing="3", width="100%", padding_top="16px",
        ),
        _detail_dialog(),
    )
