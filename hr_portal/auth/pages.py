"""Sign-in, forgot-password, reset-password, change-password and not-allowed pages."""

from __future__ import annotations

import reflex as rx

from hr_portal.auth.state import AuthState
from hr_portal.ui.components import error_callout, field, page_header, text_input
from hr_portal.ui.layout import app_shell, public_shell


def register(app: rx.App) -> None:
    app.add_page(login_page, route="/login", title="Sign in · HR Portal", on_load=AuthState.open_login)
    app.add_page(forgot_password_page, route="/forgot-password", title="Forgot password · HR Portal",
                 on_load=AuthState.open_forgot)
    app.add_page(reset_password_page, route="/reset-password", title="Reset password · HR Portal",
                 on_load=AuthState.open_reset)
    app.add_page(change_password_page, route="/account/password", title="Change password · HR Portal",
                 on_load=AuthState.open_account)
    app.add_page(not_allowed_page, route="/not-allowed", title="Not allowed · HR Portal",
                 on_load=AuthState.check_session)


def _submit(label: str) -> rx.Component:
    return rx.button(
        rx.cond(AuthState.busy, rx.spinner(size="2"), rx.fragment()), label,
        type="submit", size="3", width="100%", disabled=AuthState.busy,
    )


def _ferr(key: str) -> rx.Var:
    return AuthState.field_errors.get(key, "")


def login_page() -> rx.Component:
    return public_shell(
        rx.vstack(rx.heading("Sign in", size="5"),
                  rx.text("Use your work email and password.", size="2", color_scheme="gray"), spacing="1"),
        error_callout(AuthState.error),
        rx.form(
            rx.vstack(
                field("Email", text_input("email", type="email", autocomplete="username", placeholder="you@company.com"),
                      id="email"),
                field("Password", text_input("password", type="password", autocomplete="current-password"),
                      id="password", error=_ferr("password")),
                rx.hstack(rx.spacer(), rx.link("Forgot password?", href="/forgot-password", size="2"), width="100%"),
                _submit("Sign in"),
                spacing="4", width="100%",
            ),
            on_submit=AuthState.sign_in, reset_on_submit=False, width="100%",
        ),
    )


def forgot_password_page() -> rx.Component:
    return public_shell(
        rx.vstack(rx.heading("Forgot your password?", size="5"),
                  rx.text("Enter your work email. If it belongs to an account, we mail you a link to choose a new "
                          "password. The link works once, for one hour.", size="2", color_scheme="gray"),
                  spacing="1"),
        rx.cond(
            AuthState.reset_requested,
            rx.callout("If an account exists for that email, a reset link is on its way. Check your inbox.",
                       icon="mail-check", color_scheme="green", role="status"),
            rx.form(
                rx.vstack(
                    error_callout(AuthState.error),
                    field("Email", text_input("email", type="email", autocomplete="username"), id="email",
                          error=_ferr("email")),
                    _submit("Send reset link"),
                    spacing="4", width="100%",
                ),
                on_submit=AuthState.request_reset, width="100%",
            ),
        ),
        rx.link("Back to sign in", href="/login", size="2"),
    )


def reset_password_page() -> rx.Component:
    return public_shell(
        rx.vstack(rx.heading("Choose a new password", size="5"),
                  rx.text("At least 8 characters; avoid common passwords.", size="2", color_scheme="gray"),
                  spacing="1"),
        rx.cond(
            AuthState.reset_done,
            rx.vstack(
                rx.callout("Your password has been set.", icon="circle-check", color_scheme="green", role="status"),
                rx.link(rx.button("Sign in", size="3", width="100%"), href="/login", width="100%"),
                width="100%",
            ),
            rx.form(
                rx.vstack(
                    error_callout(AuthState.error),
                    field("New password", text_input("new_password", type="password", autocomplete="new-password"),
                          id="new_password", error=_ferr("newPassword")),
                    field("Confirm new password",
                          text_input("confirm_password", type="password", autocomplete="new-password"),
                          id="confirm_password", error=_ferr("confirmPassword")),
                    _submit("Set password"),
                    spacing="4", width="100%",
                ),
                on_submit=AuthState.confirm_reset, width="100%",
            ),
        ),
        rx.link("Back to sign in", href="/login", size="2"),
    )


def change_password_page() -> rx.Component:
    return app_shell(
        page_header("Change password", subtitle="After the change, every device signed in as you is signed out."),
        rx.card(
            rx.form(
                rx.vstack(
                    error_callout(AuthState.error),
                    field("Current password", text_input("current_password", type="password",
                                                         autocomplete="current-password"),
                          id="current_password", error=_ferr("currentPassword")),
                    field("New password", text_input("new_password", type="password", autocomplete="new-password"),
                          id="new_password", error=_ferr("newPassword"),
                          hint="At least 8 characters and at most 72 bytes; common passwords are refused."),
                    field("Confirm new password",
                          text_input("confirm_password", type="password", autocomplete="new-password"),
                          id="confirm_password", error=_ferr("confirmPassword")),
                    rx.hstack(rx.button(rx.cond(AuthState.busy, rx.spinner(size="2"), rx.fragment()),
                                        "Change password", type="submit", size="3", disabled=AuthState.busy),
                              justify="end", width="100%"),
                    spacing="4", width="100%",
                ),
                on_submit=AuthState.change_password, width="100%",
            ),
            max_width="520px", width="100%", size="3",
        ),
    )


def not_allowed_page() -> rx.Component:
    return app_shell(
        rx.center(
            rx.vstack(
                rx.icon("shield-x", size=40, color=rx.color("red", 10)),
                rx.heading("Not allowed", size="6"),
                rx.text("Your role does not give access to this page. If you need it, ask an administrator.",
                        size="2", color_scheme="gray", text_align="center"),
                rx.link(rx.button("Go to Home", size="3"), href="/"),
                spacing="3", align="center", max_width="420px",
            ),
            width="100%", padding_y="9",
        ),
    )
