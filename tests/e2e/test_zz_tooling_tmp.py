import pytest
from playwright.sync_api import expect
pytestmark = pytest.mark.e2e
def test_websocket_roundtrip(page, portal):
    page.goto("/login")
    page.get_by_role("button", name="Inc").click()
    expect(page.get_by_text("1", exact=True)).to_be_visible()
def test_health_reports_env(portal):
    import httpx
    print(httpx.get(portal.url("/api/v1/health"), trust_env=False).json())
def test_failure_makes_screenshot(page, portal):
    page.goto("/login")
    assert False, "intentional"
