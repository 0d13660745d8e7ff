"""Home: who you are, your role and organization. Module cards land here as modules are built."""

from __future__ import annotations

import reflex as rx

from hr_portal.dashboard.state import HomeState
from hr_portal.ui.components import page_header, stat_card
from hr_portal.ui.layout import app_shell


def register(app: rx.App) -> None:
    app.add_page(home_page, route="/", title="Home · HR Portal", on_load=HomeState.open_home)


def home_page() -> rx.Component:
    return app_shell(
        page_header("Home", subtitle=HomeState.greeting),
        rx.grid(
            stat_card("Signed in as", HomeState.user_email, "at-sign"),
            stat_card("Role", HomeState.role_label, "shield-check"),
            stat_card("Organization", HomeState.org_name, "building-2"),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4", width="100%",
        ),
    )
