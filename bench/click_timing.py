"""Click-to-update times in Chromium for bench/run.py (scenario 6): check in / check out on Home, approving a leave
on Leave approvals, against trivial clicks measured on the same pages in the same run.

Same method as bench/attendance_click_timing.py: both clocks are the page's own (the click's pointerdown
`event.timeStamp`, then `performance.now()` in a MutationObserver when the confirming DOM change appears), so
Playwright's own latency is not counted.
"""

from __future__ import annotations

import os

from playwright.sync_api import expect, sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# Resolves window.__hrTiming with ms from the next pointerdown until `done()` (a JS expression) is true.
ARM = """(done) => { window.__hrTiming = new Promise((resolve) => {
  let t0 = null;
  const test = new Function("return (" + done + ");");
  document.addEventListener("pointerdown", (e) => { t0 = e.timeStamp; }, {capture: true, once: true});
  const obs = new MutationObserver(() => { if (t0 !== null && test()) { obs.disconnect(); resolve(performance.now() - t0); } });
  obs.observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
}); }"""


def timed(page, locator, done_js: str) -> float:
    page.evaluate(ARM, done_js)
    locator.click()
    return float(page.evaluate("() => window.__hrTiming"))


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)


def run(base_url: str, employee_email: str, manager_email: str, password: str, rounds: int,
        chromium: str = "/usr/bin/chromium") -> dict[str, list[float]]:
    res: dict[str, list[float]] = {"check in": [], "check out": [], "approve a leave (confirm)": [],
                                   "approve a leave, until its row is gone": [],
                                   "close the dialog without deciding (Back)": [],
                                   "open dialog (trivial server round trip)": [],
                                   "color mode toggle (client only)": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium if os.path.exists(chromium) else None, headless=True,
                                     args=FLAGS)
        try:
            # ---- employee: check in / out on Home, trivial clicks
            ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
            ctx.set_default_timeout(30_000)
            page = ctx.new_page()
            sign_in(page, employee_email, password)
            page.goto("/")
            status = page.get_by_test_id("punch-status")
            expect(status).to_be_visible(timeout=60_000)
            if "Checked in since" in status.inner_text():
                page.get_by_role("button", name="Check out").click()
                expect(status).to_contain_text("Checked out at")
            status_js = "(document.querySelector('[data-testid=punch-status]')||{}).textContent||''"
            for _ in range(rounds):
                text = status.inner_text()
                button = page.get_by_role("button", name="Check in" if "Not checked in" in text else "Check in again")
                expect(button).to_be_enabled()
                page.wait_for_timeout(800)  # the fresh button ignores the pointer for 0.7 s (double-click guard)
                res["check in"].append(timed(page, button, f"({status_js}).includes('Checked in since')"))
                out = page.get_by_role("button", name="Check out")
                expect(out).to_be_enabled()
                page.wait_for_timeout(800)
                res["check out"].append(timed(page, out, f"({status_js}).includes('Checked out at')"))
            toggle = page.get_by_role("button", name="Toggle dark mode")
            for _ in range(rounds):
                before = page.evaluate("() => document.documentElement.className")
                res["color mode toggle (client only)"].append(
                    timed(page, toggle, f"document.documentElement.className !== {before!r}"))
            page.goto("/attendance")
            pencil = page.get_by_role("button", name="Request a correction for").first
            expect(pencil).to_be_visible(timeout=60_000)
            for _ in range(rounds):
                res["open dialog (trivial server round trip)"].append(
                    timed(page, pencil, "!!document.querySelector('[role=dialog]')"))
                page.keyboard.press("Escape")
                expect(page.get_by_role("dialog")).to_have_count(0)
            ctx.close()

            # ---- manager: approve leaves one by one
            ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
            ctx.set_default_timeout(30_000)
            page = ctx.new_page()
            sign_in(page, manager_email, password)
            page.goto("/leave/approvals")
            rows = page.get_by_test_id("queue-row")
            expect(rows.first).to_be_visible(timeout=60_000)
            # The floor of the approve click: the same dialog closed without a decision (a round trip for the
            # dialog's state, then its closing animation, until it leaves the DOM).
            for _ in range(max(3, rounds // 2)):
                res["open dialog (trivial server round trip)"].append(
                    timed(page, rows.first.get_by_role("button", name="Approve"),
                          "!!document.querySelector('[role=dialog]')"))
                back = page.get_by_role("button", name="Back")
                expect(back).to_be_visible()
                res["close the dialog without deciding (Back)"].append(
                    timed(page, back, "!document.querySelector('[role=dialog]')"))
                page.wait_for_timeout(300)
            for i in range(rounds):
                n = rows.count()
                if n == 0:
                    break
                approve = rows.first.get_by_role("button", name="Approve")
                res["open dialog (trivial server round trip)"].append(
                    timed(page, approve, "!!document.querySelector('[role=dialog]')"))
                confirm = page.get_by_role("button", name="Confirm approval")
                expect(confirm).to_be_enabled()
                row_gone = f"document.querySelectorAll('[data-testid=queue-row]').length < {n}"
                if i % 2:  # the decision shown (the row gone), whether or not the dialog has finished closing
                    res["approve a leave, until its row is gone"].append(timed(page, confirm, row_gone))
                    expect(page.get_by_role("dialog")).to_have_count(0)
                else:
                    res["approve a leave (confirm)"].append(timed(
                        page, confirm, f"!document.querySelector('[role=dialog]') && {row_gone}"))
                page.wait_for_timeout(300)
            ctx.close()
        finally:
            browser.close()
    return res
