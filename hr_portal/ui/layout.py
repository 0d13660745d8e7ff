"""The app shell: left sidebar with the role's modules, a top bar with the user and sign-out,
light/dark mode. Collapses to a drawer menu on narrow screens (375 px phones)."""

from __future__ import annotations

import reflex as rx

from hr_portal.ui.session import SessionState

SIDEBAR_WIDTH = "240px"


def _nav_item(item: rx.Var) -> rx.Component:
    active = rx.State.router.page.path == item["path"]
    return rx.link(
        rx.hstack(
            rx.icon(item["icon"], size=18),
            rx.text(item["label"], size="2", weight="medium"),
            spacing="3", align="center", padding_x="12px", padding_y="8px", border_radius="6px", width="100%",
            background_color=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
            _hover={"background_color": rx.color("gray", 4)},
        ),
        href=item["path"], underline="none", width="100%",
        aria_current=rx.cond(active, "page", "false"),
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.center(rx.icon("users-round", size=18), width="32px", height="32px", border_radius="8px",
                  background_color=rx.color("accent", 9), color="white"),
        rx.vstack(
            rx.text("HR Portal", size="3", weight="bold"),
            rx.text(SessionState.org_name, size="1", color_scheme="gray", trim="both"),
            spacing="0",
        ),
        spacing="2", align="center", padding_x="12px", padding_y="16px",
    )


def _nav_list() -> rx.Component:
    return rx.el.nav(
        rx.vstack(rx.foreach(SessionState.nav, _nav_item), spacing="1", width="100%"),
        aria_label="Main navigation", width="100%",
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(_brand(), _nav_list(), spacing="2", width="100%", padding_x="8px"),
        width=SIDEBAR_WIDTH, min_width=SIDEBAR_WIDTH, height="100vh", position="sticky", top="0",
        border_right=f"1px solid {rx.color('gray', 5)}", background_color=rx.color("gray", 2),
        display=["none", "none", "block"], overflow_y="auto",
    )


def _mobile_menu() -> rx.Component:
    return rx.box(
        rx.drawer.root(
            rx.drawer.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu")),
            rx.drawer.overlay(z_index="20"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(_brand(), rx.spacer(),
                                  rx.drawer.close(rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Close menu")),
                                  width="100%", align="center"),
                        _nav_list(),
                        spacing="2", width="100%", padding="8px",
                    ),
                    top="0", left="0", height="100%", width="260px", z_index="30",
                    background_color=rx.color("gray", 1),
                ),
            ),
            direction="left",
        ),
        display=["block", "block", "none"],
    )


def _color_mode_toggle() -> rx.Component:
    return rx.icon_button(
        rx.color_mode_cond(light=rx.icon("moon", size=18), dark=rx.icon("sun", size=18)),
        on_click=rx.toggle_color_mode, variant="ghost", color_scheme="gray", aria_label="Toggle dark mode",
    )


def _user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=SessionState.initials, size="2", radius="full"),
                rx.vstack(
                    rx.text(SessionState.user_name, size="2", weight="medium"),
                    rx.text(SessionState.role_label, size="1", color_scheme="gray"),
                    spacing="0", align="start", display=["none", "flex"],
                ),
                rx.icon("chevron-down", size=16),
                variant="ghost", color_scheme="gray", size="3", aria_label="Account menu",
            ),
        ),
        rx.menu.content(
            rx.menu.item(rx.icon("key-round", size=16), "Change password", on_click=rx.redirect("/account/password")),
            rx.menu.separator(),
            rx.menu.item(rx.icon("log-out", size=16), "Sign out", on_click=SessionState.sign_out, color_scheme="red"),
        ),
    )


def topbar() -> rx.Component:
    from hr_portal.notifications.pages import notification_bell  # here: notifications.pages imports this module

    return rx.hstack(
        _mobile_menu(),
        rx.spacer(),
        notification_bell(),
        _color_mode_toggle(),
        _user_menu(),
        width="100%", align="center", padding_x=["12px", "16px", "24px"], padding_y="8px", height="56px",
        border_bottom=f"1px solid {rx.color('gray', 5)}", background_color=rx.color("gray", 1),
        position="sticky", top="0", z_index="10",
    )


def app_shell(*content: rx.Component) -> rx.Component:
    """Wrap a signed-in page. Nothing renders until the session check confirmed the user."""
    return rx.hstack(
        sidebar(),
        rx.vstack(
            topbar(),
            rx.cond(
                SessionState.signed_in,
                rx.box(*content, width="100%", max_width="1200px", padding=["12px", "16px", "24px"]),
                rx.center(rx.spinner(size="3"), width="100%", padding="64px"),
            ),
            spacing="0", width="100%", min_height="100vh", align="stretch",
        ),
        spacing="0", width="100%", align="start", background_color=rx.color("gray", 1),
    )


def public_shell(*content: rx.Component) -> rx.Component:
    """Centered card layout for sign-in, forgot-password and reset pages."""
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("users-round", size=20), width="36px", height="36px", border_radius="8px",
                          background_color=rx.color("accent", 9), color="white"),
                rx.heading("HR Portal", size="6"),
                spacing="2", align="center",
            ),
            rx.card(
                # Forms appear once the page's on_load ran, so nothing typed early is wiped by it.
                rx.cond(rx.State.is_hydrated, rx.vstack(*content, spacing="4", width="100%"),
                        rx.center(rx.spinner(size="3"), width="100%", padding="32px")),
                width="100%", size="3"),
            rx.hstack(_color_mode_toggle(), justify="center", width="100%"),
            spacing="5", width="100%", max_width="420px", align="center",
        ),
        min_height="100vh", width="100%", padding="16px", background_color=rx.color("gray", 2),
    )
