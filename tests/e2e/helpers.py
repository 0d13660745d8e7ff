"""Shared browser steps for e2e tests."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

DEMO_PASSWORD = "Portal-demo-2026"


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD, *, path: str = "/login") -> None:
    page.goto(path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def nav_labels(page: Page) -> list[str]:
    nav = page.get_by_role("navigation", name="Main navigation").first
    expect(nav.get_by_role("link").first).to_be_visible()
    return [t.strip() for t in nav.get_by_role("link").all_inner_texts()]


def register_org(base_url: str, password: str = "Sturdy-pass-42") -> dict:
    """A fresh organization (and admin account) through the legacy API, so tests never share accounts."""
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.org"
    r = httpx.post(f"{base_url}/api/v1/auth/register", json={
        "organizationName": "E2E Org " + email[:14], "firstName": "Erin", "lastName": "Tester",
        "email": email, "password": password}, timeout=30)
    assert r.status_code == 201, r.text
    return {"email": email, "password": password, **r.json()["data"]}


def wait_for_mail(outbox: Path, to: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in sorted(outbox.glob("*.eml")):
            text = f.read_text(errors="replace")
            if f"To: {to}" in text:
                return text
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} in {outbox}")


