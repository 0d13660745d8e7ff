"""Home: the check-in card, then a dashboard for the role: the organization (HR and admin), the team
(managers), and my own week, balances, requests, holidays and notifications (everyone)."""

from __future__ import annotations

import reflex as rx

from hr_portal.attendance.pages import checkin_card
from hr_portal.dashboard.state import HomeState
from hr_portal.ui.components import page_header
from hr_portal.ui.layout import app_shell

TICK = {"fill": rx.color("gray", 11), "fontSize": 12}


def register(app: rx.App) -> None:
    app.add_page(home_page, route="/", title="Home · HR Portal", on_load=HomeState.open_home)


# ================================================================ building blocks


def card(title: str | rx.Var, icon: str, *children: rx.Component, action: rx.Component | None = None,
         testid: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18, color=rx.color("accent", 11)),
                rx.heading(title, size="3", weight="bold"),
                rx.spacer(),
                action if action is not None else rx.fragment(),
                align="center", width="100%", spacing="2",
            ),
            *children,
            spacing="3", width="100%", height="100%",
        ),
        width="100%", size="2", data_testid=testid or None,
    )


def link_button(label: str, href: str, *, icon: str = "arrow-right", aria_label: str = "") -> rx.Component:
    return rx.link(
        rx.button(label, rx.icon(icon, size=14), variant="soft", size="1", aria_label=aria_label or label),
        href=href, underline="none",
    )


def empty(text: str) -> rx.Component:
    return rx.text(text, size="2", color_scheme="gray")


def figure(label: str, value: rx.Var, icon: str, color: str = "accent", *, hint: rx.Var | str | None = None,
           testid: str = "") -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=18), width="36px", height="36px", border_radius="8px", flex_shrink="0",
                      background_color=rx.color(color, 3), color=rx.color(color, 11)),
            rx.vstack(
                rx.text(label, size="1", color_scheme="gray"),
                rx.text(value, size="5", weight="bold", line_height="1.1", data_testid=testid or None),
                rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
                spacing="1", min_width="0",
            ),
            spacing="3", align="center", min_width="0",
        ),
        width="100%", size="1", min_width="0",
    )


def _count_badge(label: str, value: rx.Var, color: str, testid: str) -> rx.Component:
    return rx.badge(rx.text(label, weight="regular"), rx.text(value.to(str), weight="bold", data_testid=testid),
                    color_scheme=color, variant="soft", size="2", radius="full")


def _list_row(*parts: rx.Component) -> rx.Component:
    return rx.hstack(*parts, width="100%", align="center", spacing="2", padding_y="6px",
                     border_bottom=f"1px solid {rx.color('gray', 4)}")


def section_heading(text: str, subtitle: rx.Var | str | None = None) -> rx.Component:
    return rx.vstack(
        rx.heading(text, size="4"),
        rx.text(subtitle, size="2", color_scheme="gray") if subtitle is not None else rx.fragment(),
        spacing="0", padding_top="8px",
    )


GRID = {"columns": rx.breakpoints(initial="1", md="2", lg="3"), "spacing": "4", "width": "100%"}


# ================================================================ organization (HR, admin)


def _person_link(p: rx.Var) -> rx.Component:
    return _list_row(
        rx.link(p["name"], href=p["href"], size="2", weight="medium"),
        rx.spacer(),
        rx.text(p["designation"], size="1", color_scheme="gray", text_align="right"),
    )


def _celebration(c: rx.Var) -> rx.Component:
    return _list_row(
        rx.icon(c["icon"], size=16, color=rx.color("accent", 11)),
        rx.vstack(rx.link(c["name"], href=c["href"], size="2", weight="medium"),
                  rx.text(c["what"], size="1", color_scheme="gray"), spacing="0"),
        rx.spacer(),
        rx.badge(c["when"], variant="soft", color_scheme="gray"),
    )


def _approval_block(label: str, count: rx.Var, href: str, button: str, testid: str,
                    items: rx.Var | None = None) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(label, size="2", weight="medium"),
            rx.badge(count.to(str), color_scheme=rx.cond(count > 0, "amber", "gray"), variant="soft",
                     data_testid=testid),
            rx.spacer(),
            link_button(button, href, aria_label=f"{button}: {label}"),
            width="100%", align="center", wrap="wrap",
        ),
        rx.foreach(items, lambda i: _list_row(
            rx.vstack(rx.text(i["name"], size="2", weight="medium"), rx.text(i["title"], size="1", color_scheme="gray"),
                      spacing="0"),
            rx.spacer(),
            rx.text(i["detail"], size="1", color_scheme="gray", white_space="nowrap"),
        )) if items is not None else rx.fragment(),
        spacing="2", width="100%",
    )


def org_section() -> rx.Component:
    o = HomeState.org
    return rx.vstack(
        section_heading("Organization", "Everyone, today and this month, in each company's time zone."),
        rx.grid(
            figure("Headcount", o["headcount"].to(str), "users", testid="org-headcount"),
            figure("Joiners in " + HomeState.month_label, o["joiners"].to(str), "user-plus", "grass",
                   testid="org-joiners"),
            figure("Leavers in " + HomeState.month_label, o["leavers"].to(str), "user-minus", "tomato",
                   testid="org-leavers"),
            figure("Present today", o["present"].to(str), "calendar-check", "green",
                   hint=HomeState.org_rate + " of those expected", testid="org-present"),
            figure("Late today", o["late"].to(str), "alarm-clock", "orange", testid="org-late"),
            figure("Absent today", o["absent"].to(str), "calendar-x", "red", hint="shift over, no check-in",
                   testid="org-absent"),
            figure("On leave today", o["on_leave"].to(str), "plane", "blue", testid="org-on-leave"),
            figure("Not checked in yet", o["not_in"].to(str), "circle-dashed", "gray",
                   hint=o["off"].to(str) + " off today (weekly off or holiday)", testid="org-not-in"),
            columns=rx.breakpoints(initial="2", sm="2", md="4"), spacing="3", width="100%",
        ),
        rx.grid(
            card("Approvals waiting", "inbox",
                 _approval_block("Leave at managers", HomeState.approvals["leave_at_manager"], "/leave/approvals",
                                 "Open", "org-leave-manager"),
                 _approval_block("Leave at HR", HomeState.approvals["leave_at_hr"], "/leave/approvals", "Open",
                                 "org-leave-hr"),
                 _approval_block("Attendance corrections", HomeState.approvals["corrections"],
                                 "/attendance/approvals", "Open", "org-corrections"),
                 testid="org-approvals"),
            card("Data to fix", "triangle-alert",
                 rx.hstack(rx.text("Without a manager", size="2", weight="medium"),
                           rx.badge(o["no_manager"].to(str), variant="soft",
                                    color_scheme=rx.cond(o["no_manager"] > 1, "amber", "gray"),
                                    data_testid="org-no-manager"), spacing="2", align="center"),
                 rx.foreach(HomeState.no_manager, _person_link),
                 rx.hstack(rx.text("Without a department", size="2", weight="medium"),
                           rx.badge(o["no_department"].to(str), variant="soft",
                                    color_scheme=rx.cond(o["no_department"] > 0, "amber", "gray"),
                                    data_testid="org-no-department"), spacing="2", align="center"),
                 rx.foreach(HomeState.no_department, _person_link),
                 action=link_button("Employees", "/employees", aria_label="Open employees"), testid="org-hygiene"),
            card("Birthdays and anniversaries", "cake",
                 rx.cond(HomeState.celebrations.length() > 0, rx.vstack(rx.foreach(HomeState.celebrations,
                                                                                     _celebration), spacing="0",
                                                                          width="100%"),
                         empty("None in the next two weeks.")),
                 testid="org-celebrations"),
            **GRID,
        ),
        rx.hstack(link_button("Open reports", "/reports", icon="chart-column"),
                  link_button("Team today", "/attendance/team", icon="users"), spacing="2"),
        spacing="4", width="100%",
    )


# ================================================================ team (managers)


def _team_row(r: rx.Var) -> rx.Component:
    return _list_row(
        rx.text(r["name"], size="2", weight="medium"),
        rx.spacer(),
        rx.badge(r["label"], color_scheme=r["color"].to(str), variant="soft"),
    )


def _off_row(r: rx.Var) -> rx.Component:
    return _list_row(
        rx.vstack(rx.text(r["name"], size="2", weight="medium"),
                  rx.text(r["type"].to(str) + " · " + r["days_label"].to(str), size="1", color_scheme="gray"),
                  spacing="0"),
        rx.spacer(),
        rx.vstack(rx.text(r["dates"], size="1", white_space="nowrap"),
                  rx.badge(r["status_label"], variant="soft",
                           color_scheme=rx.cond(r["status"] == "approved", "green", "amber")),
                  spacing="1", align="end"),
    )


def hours_chart() -> rx.Component:
    return rx.box(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", stroke=rx.color("gray", 5), horizontal=False),
            rx.recharts.x_axis(type_="number", tick=TICK, stroke=rx.color("gray", 8),
                               label={"value": "Hours", "position": "insideBottom", "offset": -4,
                                      "fill": rx.color("gray", 11), "fontSize": 12}),
            rx.recharts.y_axis(data_key="name", type_="category", width=120, tick=TICK, stroke=rx.color("gray", 8),
                               interval=0),
            rx.recharts.graphing_tooltip(cursor={"fill": rx.color("gray", 3)}),
            rx.recharts.bar(data_key="hours", name="Hours", fill=rx.color("accent", 9), radius=[0, 4, 4, 0],
                            bar_size=14),
            data=HomeState.hours_rows, layout="vertical", margin={"top": 4, "right": 16, "bottom": 16, "left": 0},
        ),
        width="100%", height=rx.cond(HomeState.hours_rows.length() > 6, "360px", "220px"),
        role="img", aria_label="Hours worked this month per team member",
    )


def team_section() -> rx.Component:
    c = HomeState.team_counts
    return rx.vstack(
        section_heading("My team", HomeState.team_size.to(str) + " people reporting to you"),
        rx.grid(
            card("Team today", "users",
                 rx.flex(_count_badge("In", c["in"], "green", "team-in"),
                         _count_badge("Late", c["late"], "orange", "team-late"),
                         _count_badge("Not checked in", c["not_in"], "gray", "team-not-in"),
                         _count_badge("On leave", c["on_leave"], "blue", "team-on-leave"),
                         _count_badge("Absent", c["absent"], "red", "team-absent"),
                         wrap="wrap", gap="6px"),
                 rx.cond(HomeState.team_rows.length() > 0,
                         rx.vstack(rx.foreach(HomeState.team_rows, _team_row), spacing="0", width="100%"),
                         empty("Nobody reports to you yet.")),
                 rx.cond(HomeState.team_more > 0,
                         rx.text("and " + HomeState.team_more.to(str) + " more", size="1", color_scheme="gray"),
                         rx.fragment()),
                 action=link_button("Open", "/attendance/team", aria_label="Open team today"), testid="team-today"),
            card("Approvals waiting", "inbox",
                 _approval_block("Leave requests", HomeState.approvals["leave"], "/leave/approvals", "Open",
                                 "team-leave-pending", HomeState.leave_queue),
                 _approval_block("Attendance corrections", HomeState.approvals["corrections"],
                                 "/attendance/approvals", "Open", "team-corrections-pending",
                                 HomeState.correction_queue),
                 testid="team-approvals"),
            card("Off this week and next", "calendar-days",
                 rx.text(HomeState.off_label, size="1", color_scheme="gray"),
                 rx.cond(HomeState.off_rows.length() > 0,
                         rx.vstack(rx.foreach(HomeState.off_rows, _off_row), spacing="0", width="100%"),
                         empty("Nobody in your team is off these two weeks.")),
                 rx.cond(HomeState.off_total > HomeState.off_rows.length(),
                         rx.text("and " + (HomeState.off_total - HomeState.off_rows.length()).to(str) + " more",
                                 size="1", color_scheme="gray"),
                         rx.fragment()),
                 action=link_button("Calendar", "/leave/calendar", aria_label="Open team calendar"),
                 testid="team-off"),
            **GRID,
        ),
        card("Team hours in " + HomeState.month_label, "chart-column",
             rx.cond(HomeState.hours_rows.length() > 0,
                     rx.vstack(rx.text("Total " + HomeState.hours_total, size="2", color_scheme="gray"),
                               hours_chart(), spacing="2", width="100%"),
                     empty("No hours recorded this month yet.")),
             testid="team-hours"),
        spacing="4", width="100%",
    )


# ================================================================ me (everyone)


def _balance_row(b: rx.Var) -> rx.Component:
    return _list_row(
        rx.vstack(rx.text(b["type"], size="2", weight="medium"),
                  rx.text("of " + b["entitled_label"].to(str) + " · taken " + b["taken_label"].to(str)
                          + rx.cond(b["pending_label"] != "", " · pending " + b["pending_label"].to(str), ""),
                          size="1", color_scheme="gray"), spacing="0"),
        rx.spacer(),
        rx.text(b["available_label"], size="3", weight="bold", white_space="nowrap"),
    )


def _pending_row(p: rx.Var) -> rx.Component:
    return _list_row(
        rx.vstack(rx.link(p["title"], href=p["href"], size="2", weight="medium"),
                  rx.text(p["kind"].to(str) + " · " + p["detail"].to(str), size="1", color_scheme="gray"), spacing="0"),
        rx.spacer(),
        rx.badge(p["status"], color_scheme="amber", variant="soft"),
    )


def _holiday_row(h: rx.Var) -> rx.Component:
    return _list_row(rx.text(h["name"], size="2", weight="medium"), rx.spacer(),
                     rx.text(h["when"], size="1", color_scheme="gray", white_space="nowrap"))


def _notification_row(n: rx.Var) -> rx.Component:
    return _list_row(
        rx.cond(n["read"] == "", rx.box(width="8px", height="8px", border_radius="50%", flex_shrink="0",
                                        background_color=rx.color("accent", 9), aria_label="unread"),
                rx.box(width="8px", flex_shrink="0")),
        rx.vstack(rx.link(n["title"], href=n["link"], size="2", weight=rx.cond(n["read"] == "", "bold", "regular")),
                  rx.text(n["body"], size="1", color_scheme="gray", trim="both"), spacing="0", min_width="0"),
    )


def me_section() -> rx.Component:
    return rx.vstack(
        section_heading("My week"),
        rx.grid(
            card("Hours this week", "timer",
                 rx.text(HomeState.me_hours, size="7", weight="bold", data_testid="me-hours"),
                 rx.text(HomeState.me_hours_detail, size="1", color_scheme="gray"),
                 action=link_button("Open", "/attendance", aria_label="Open my attendance"), testid="me-week"),
            card("Leave balances", "plane",
                 rx.cond(HomeState.me_balances.length() > 0,
                         rx.vstack(rx.foreach(HomeState.me_balances, _balance_row), spacing="0", width="100%"),
                         empty("No leave entitlement yet. HR sets up leave types and allocations.")),
                 action=link_button("Open", "/leave", aria_label="Open my leave"), testid="me-balances"),
            card("My pending requests", "hourglass",
                 rx.cond(HomeState.me_pending.length() > 0,
                         rx.vstack(rx.foreach(HomeState.me_pending, _pending_row), spacing="0", width="100%"),
                         empty("Nothing waiting for a decision. Ask for leave from My leave.")),
                 testid="me-pending"),
            card("Upcoming holidays", "party-popper",
                 rx.cond(HomeState.me_holidays.length() > 0,
                         rx.vstack(rx.foreach(HomeState.me_holidays, _holiday_row), spacing="0", width="100%"),
                         empty("No public holidays on your company's calendar yet.")),
                 testid="me-holidays"),
            card("Notifications", "bell",
                 rx.cond(HomeState.me_notifications.length() > 0,
                         rx.vstack(rx.foreach(HomeState.me_notifications, _notification_row), spacing="0",
                                   width="100%"),
                         empty("You're all caught up.")),
                 action=rx.hstack(
                     rx.cond(HomeState.me_unread > 0,
                             rx.badge(HomeState.me_unread.to(str) + " unread", color_scheme="red", variant="soft"),
                             rx.fragment()),
                     link_button("All", "/notifications", aria_label="All notifications"), spacing="2",
                     align="center"),
                 testid="me-notifications"),
            **GRID,
        ),
        spacing="4", width="100%",
    )


# ================================================================ the page


def _skeleton() -> rx.Component:
    return rx.grid(*[rx.skeleton(height="140px", width="100%") for _ in range(6)], **GRID)


def home_page() -> rx.Component:
    return app_shell(
        page_header(
            "Home",
            rx.hstack(
                rx.cond(HomeState.updated_at != "",
                        rx.text("Updated " + HomeState.updated_at, size="1", color_scheme="gray",
                                display=["none", "block"]), rx.fragment()),
                rx.icon_button(rx.cond(HomeState.loading, rx.spinner(size="2"), rx.icon("refresh-cw", size=16)),
                               variant="soft", color_scheme="gray", on_click=HomeState.load_home,
                               disabled=HomeState.loading, aria_label="Refresh dashboard"),
                spacing="2", align="center",
            ),
            subtitle=HomeState.greeting,
        ),
        checkin_card(),
        rx.foreach(HomeState.notes, lambda n: rx.callout(n, icon="info", color_scheme="gray", width="100%",
                                                         margin_bottom="12px")),
        rx.cond(HomeState.load_error != "",
                rx.callout(HomeState.load_error, icon="triangle-alert", color_scheme="red", role="alert",
                           width="100%", margin_bottom="12px"),
                rx.fragment()),
        rx.cond(
            HomeState.loaded,
            rx.vstack(
                rx.cond(HomeState.has_org, org_section(), rx.fragment()),
                rx.cond(HomeState.has_team, team_section(), rx.fragment()),
                rx.cond(HomeState.has_me, me_section(), rx.fragment()),
                spacing="6", width="100%", data_testid="dashboard",
            ),
            _skeleton(),
        ),
    )
