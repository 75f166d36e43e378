"""Browser fixtures: Debian's Chromium driven by Playwright (sync API), against ``live_server``.

``browser``
    Session-scoped headless Chromium (``/usr/bin/chromium``; Playwright cannot download browsers here).
``new_page``
    ``new_page(width=360, lang="en-GB", mobile=True)`` opens a page in a fresh browser context
    (its own cookies and storage, like another phone). Console errors, page errors and failed
    requests of every page are collected; the test fails if any page saw one (``allow``: regular
    expressions of console errors the test expects, such as a refused request).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def playwright_sync() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_sync: Any) -> Iterator[Any]:
    b = playwright_sync.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    contexts: list[Any] = []
    problems: list[str] = []

    def make(
        width: int = 360, height: int = 780, lang: str = "en-GB", mobile: bool = True, allow: tuple[str, ...] = ()
    ) -> Any:
        ctx = browser.new_context(
            viewport={"width": width, "height": height},
            locale=lang,
            extra_http_headers={"Accept-Language": lang},
            is_mobile=mobile,
            has_touch=mobile,
            accept_downloads=True,
        )
        ctx.set_default_timeout(30_000)
        contexts.append(ctx)
        page = ctx.new_page()

        def console(m: Any) -> None:
            if m.type == "error" and not any(re.search(a, m.text) for a in allow):
                problems.append(f"console {m.type}: {m.text}")

        page.on("console", console)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: d.accept())
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert problems == [], "the pages reported errors:\n" + "\n".join(problems)
