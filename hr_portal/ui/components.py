"""Shared UI building blocks: labelled fields, page header, cards, empty states."""

from __future__ import annotations

import reflex as rx


def field(label: str, control: rx.Component, *, id: str, error: rx.Var | str | None = None,
          hint: str | None = None) -> rx.Component:
    """A labelled form field (label above, inline error under it). The label is a real <label for=id>."""
    parts: list[rx.Component] = [
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=id),
        control,
    ]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    if error is not None:
        parts.append(rx.cond(error, rx.text(error, size="1", color_scheme="red", role="alert"), rx.fragment()))
    return rx.vstack(*parts, spacing="1", width="100%", align="stretch")


def text_input(id: str, *, type: str = "text", placeholder: str = "", autocomplete: str = "",
               required: bool = True, **props) -> rx.Component:
    return rx.input(id=id, name=id, type=type, placeholder=placeholder, auto_complete=autocomplete,
                    required=required, size="3", width="100%", **props)


def page_header(title: str, *actions: rx.Component, subtitle: rx.Var | str | None = None) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="6", weight="bold"),
            rx.text(subtitle, size="2", color_scheme="gray") if subtitle is not None else rx.fragment(),
            spacing="1",
        ),
        rx.spacer(),
        rx.hstack(*actions, spacing="2"),
        width="100%", align="center", wrap="wrap", spacing="3", padding_bottom="16px",
    )


def stat_card(label: str, value: rx.Var | str, icon: str) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=20), width="40px", height="40px", border_radius="8px",
                      background_color=rx.color("accent", 3), color=rx.color("accent", 11)),
            rx.vstack(rx.text(label, size="2", color_scheme="gray"), rx.text(value, size="4", weight="bold"),
                      spacing="0"),
            spacing="3", align="center",
        ),
        width="100%",
    )


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message,
        rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%"),
        rx.fragment(),
    )
