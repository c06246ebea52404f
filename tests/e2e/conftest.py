"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's Python API."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DESKTOP = {"width": 1600, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in the test thread; Django's ORM then refuses
    calls made from that thread unless told it is intended (it is: these tests are synchronous).
    Set only while a module of browser tests runs, so no other test or subprocess inherits it."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(_allow_orm_beside_playwright: None) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run the README's test command, which installs it"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Script errors, CSP violations and failed loads seen by the page; a test that expects one
    (say, a 404 it provoked on purpose) removes it."""
    return []


@pytest.fixture
def page(browser: object, console_errors: list[str]) -> Iterator[object]:
    # Wide enough for the menu bar (below 1400 px it folds behind the toggler; the layout tests
    # try the narrow widths).
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    errors = console_errors
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    # A CSP violation or a script error in any page the test visited fails the test.
    assert not errors, errors
