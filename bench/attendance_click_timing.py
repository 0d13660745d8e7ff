"""Click-to-confirmation time of the check-in button in a real browser (Chromium via Playwright),
against a running portal with the demo data (not part of `make test`).

    .venv/bin/python bench/attendance_click_timing.py --base-url http://127.0.0.1:3000 --rounds 20

For each round, on Home as a demo employee: a real (trusted) click on "Check in", timed from the
button's pointerdown to the moment the card says "Checked in since"; then the same for "Check out"
("Checked out at"). The baseline is a trivial click on the same page and connection: the color mode
toggle's round of React rendering (client only), and a server round trip that changes one state
var and reads nothing from the database (opening the correction dialog on My attendance).
Both clocks are the page's own (event.timeStamp and performance.now() in a MutationObserver), so
Playwright's own latency is not counted. Prints median / p90 / max per kind.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from playwright.sync_api import expect, sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# Records the pointerdown time of the next click on `button_selector`, and the first time afterwards that
# `target_selector`'s text contains `needle`. Resolves to the difference in ms.
ARM = """([buttonSel, targetSel, needle]) => { window.__hrTiming = new Promise((resolve) => {
  let t0 = null;
  const btn = document.querySelector(buttonSel);
  const onDown = (e) => { t0 = e.timeStamp; };
  document.addEventListener("pointerdown", onDown, {capture: true, once: true});
  const check = () => {
    const el = document.querySelector(targetSel);
    if (t0 !== null && el && el.textContent.includes(needle)) {
      observer.disconnect(); resolve(performance.now() - t0); return true; }
    return false;
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
  void btn;
}); }"""


def timed_click(page, button, button_sel: str, target_sel: str, needle: str) -> float:
    page.evaluate(ARM, [button_sel, target_sel, needle])
    button.click()
    return float(page.evaluate("() => window.__hrTiming"))


def stats(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(round(0.9 * (len(ordered) - 1))))]
    return f"median {statistics.median(ordered):.0f} ms, p90 {p90:.0f} ms, max {ordered[-1]:.0f} ms (n={len(ordered)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--email", default="employee@acme.example")
    parser.add_argument("--password", default="Portal-demo-2026")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    results: dict[str, list[float]] = {"check in": [], "check out": [], "color mode toggle (client only)": [],
                                       "open dialog (server round trip)": []}
    with sync_playwright() as pw:
        import os

        browser = pw.chromium.launch(executable_path=args.chromium if os.path.exists(args.chromium) else None,
                                     headless=True, args=FLAGS)
        context = browser.new_context(base_url=args.base_url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(args.email)
        page.get_by_label("Password").fill(args.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("punch-status")).to_be_visible(timeout=30_000)
        status = "[data-testid=punch-status]"
        punch = "[data-testid=punch-button]"
        if "Checked in since" in page.get_by_test_id("punch-status").inner_text():
            page.get_by_role("button", name="Check out").click()
            expect(page.get_by_test_id("punch-status")).to_contain_text("Checked out at")
        for _ in range(args.rounds):
            button = page.get_by_role("button", name="Check in") if "Not checked in" in page.get_by_test_id(
                "punch-status").inner_text() else page.get_by_role("button", name="Check in again")
            expect(button).to_be_enabled()
            page.wait_for_timeout(800)  # the fresh button ignores the pointer for 0.7 s (double-click guard)
            results["check in"].append(timed_click(page, button, punch, status, "Checked in since"))
            out = page.get_by_role("button", name="Check out")
            expect(out).to_be_enabled()
            page.wait_for_timeout(800)
            results["check out"].append(timed_click(page, out, punch, status, "Checked out at"))
        toggle = page.get_by_role("button", name="Toggle dark mode")
        for _ in range(args.rounds):
            page.evaluate("""() => { window.__hrTiming = new Promise((resolve) => {
              let t0 = null; const root = document.documentElement; const before = root.className;
              document.addEventListener("pointerdown", (e) => { t0 = e.timeStamp; }, {capture: true, once: true});
              const obs = new MutationObserver(() => { if (t0 !== null && root.className !== before) {
                obs.disconnect(); resolve(performance.now() - t0); } });
              obs.observe(root, {attributes: true}); }); }""")
            toggle.click()
            results["color mode toggle (client only)"].append(float(page.evaluate("() => window.__hrTiming")))
        page.goto("/attendance")
        pencil = page.get_by_role("button", name="Request a correction for").first
        expect(pencil).to_be_visible(timeout=30_000)
        for _ in range(args.rounds):
            page.evaluate("""() => { window.__hrTiming = new Promise((resolve) => {
              let t0 = null;
              document.addEventListener("pointerdown", (e) => { t0 = e.timeStamp; }, {capture: true, once: true});
              const obs = new MutationObserver(() => { if (t0 !== null && document.querySelector("[role=dialog]")) {
                obs.disconnect(); resolve(performance.now() - t0); } });
              obs.observe(document.body, {subtree: true, childList: true}); }); }""")
            pencil.click()
            results["open dialog (server round trip)"].append(float(page.evaluate("() => window.__hrTiming")))
            page.keyboard.press("Escape")
            expect(page.get_by_role("dialog")).to_have_count(0)
        # Leave the demo employee checked out, as found.
        browser.close()

    print(f"\nClick-to-confirmation in Chromium against {args.base_url}, {args.rounds} rounds:\n")
    print("| click | time to confirmation |")
    print("|---|---|")
    for name, values in results.items():
        print(f"| {name} | {stats(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
