"""Browser tests: Playwright (Python) driving Debian's Chromium against pytest-django's live
server. Screenshots are kept under var/test-artifacts/screenshots/ as test artefacts.

Chromium is installed by `make test` (apt package `chromium`); a missing browser is an error,
not a skip, so the journeys cannot silently stop being tested.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "cchc-demo-2024"
# What Chromium logs when a Content-Security-Policy blocks something, or when the
# Permissions-Policy header has a mistake; any of these fails the test that opened the page.
POLICY_ERRORS = ("Content Security Policy", "Refused to", "Permissions-Policy", "csp-violation")
# Also report violations as the page sees them (the event carries the directive and source).
VIOLATION_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`csp-violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Chromium không có trên máy: chạy `make test` (cài gói apt `chromium`).")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread for the whole session;
    # Django's ORM refuses to run beside a running loop unless told it is safe (it is:
    # nothing else runs in that loop). Set for the browser session only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, live_server, request) -> Iterator[object]:
    """A fresh browser context (no cookies) on the live server; `page.shot(name)` saves a
    screenshot artefact named after the test. Every page opened in the context is watched:
    a Content-Security-Policy violation fails the test (`page.csp_violations` lists them)."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="vi-VN"
    )
    context.set_default_timeout(15_000)
    violations: list[str] = []
    context.add_init_script(VIOLATION_LISTENER)

    def watch(message) -> None:
        if any(marker in message.text for marker in POLICY_ERRORS):
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    context.on("console", watch)
    pg = context.new_page()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w-]+", "_", request.node.name)
    counter = {"n": 0}

    def shot(name: str) -> Path:
        counter["n"] += 1
        path = ARTEFACTS / f"{stem}-{counter['n']:02d}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    pg.shot = shot  # type: ignore[attr-defined]
    pg.csp_violations = violations  # type: ignore[attr-defined]
    yield pg
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))


def login(pg, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login page as a person would."""
    pg.goto("/dang-nhap/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_load_state()


def logout(pg) -> None:
    pg.context.clear_cookies()


# -- accessibility and the phone -------------------------------------------------------------

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


def axe_violations(pg) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each. axe is
    evaluated through DevTools (an injected <script> would be refused by the page's CSP)."""
    assert AXE.exists(), "axe-core chưa được cài: chạy `make install` (npm ci)."
    if not pg.evaluate("typeof axe !== 'undefined'"):
        pg.evaluate(AXE.read_text(encoding="utf-8"))
    return pg.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id} (${v.impact}): `
                        + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '));
        }"""
    )


def assert_accessible(pg, name: str) -> None:
    violations = axe_violations(pg)
    assert violations == [], f"{name}: {violations}"


def check_page(pg, name: str) -> None:
    """The checks every journey's page gets: no serious/critical axe-core violation,
    screenshots at 1366 px and 375 px wide, and no sideways scrolling on the phone. The
    page is left at the size it had."""
    assert_accessible(pg, name)
    size = pg.viewport_size
    pg.set_viewport_size(DESKTOP)
    pg.shot(f"{name}-1366")
    pg.set_viewport_size(PHONE)
    width = pg.evaluate("document.documentElement.scrollWidth")
    pg.shot(f"{name}-375")
    pg.set_viewport_size(size or DESKTOP)
    assert width <= PHONE["width"], f"{name}: trang rộng {width}px ở màn hình 375px"
