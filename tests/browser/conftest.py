"""Browser fixtures: Debian's Chromium driven by Playwright in the test's own event loop.

`open_page(server)` opens the classroom page of a server started by `start_pipeline`. When the
test ends (passed or failed) every page it opened is saved as a screenshot under
`test-artifacts/browser/<test name>.png` (`-2`, `-3` for further pages), and any uncaught
JavaScript error fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright

from tests.browser_support import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
#: A classroom tablet in portrait: the layout the page must work at.
TABLET = {"width": 768, "height": 1024}

OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before anything runs
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def open_page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[OpenPage]:
    pages: list[Page] = []
    errors: list[str] = []

    async def open_page(
        server: TestServer, *, viewport: dict[str, int] | None = None, locale: str = "en-US"
    ) -> Page:
        context = await browser.new_context(viewport=viewport or TABLET, locale=locale)  # type: ignore[arg-type]
        page = await context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
        await page.goto(f"http://{server.host}:{server.port}/")
        return page

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for index, page in enumerate(pages):
        suffix = "" if index == 0 else f"-{index + 1}"
        await page.screenshot(path=ARTIFACTS / f"{name}{suffix}.png", full_page=True)
    assert not errors, f"JavaScript errors on the page: {errors}"
