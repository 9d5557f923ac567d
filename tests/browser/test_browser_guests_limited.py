"""Open mode beyond `guest_cookies_per_hour` (issue 15): the students' page still works.

`GET /api/me` refuses a new guest cookie (429 `guests_limited`) to an address that was given
its hour's worth; the page must not wait for one forever: it goes on without a cookie, as a
cookie-less client counted with its address, and the first page's guest keeps its cookie.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, session_of, start_run
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser


async def test_a_page_refused_a_guest_cookie_goes_on_without_one(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", access="open", guest_cookies_per_hour=1)
    first = await open_page(server)
    await connected(first)
    second = await open_page(server)  # another browser, same address: no cookie left
    await connected(second)
    assert (await session_of(first, server)).identity.key.startswith("g-")
    cookie_less = await session_of(second, server)
    assert cookie_less.identity.is_anonymous
    assert cookie_less.run_owner.startswith("n-")  # counted with its address
    run = await start_run(second, "a lighthouse on a cliff")
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(second.locator("#join-open")).to_be_visible()  # joining a class still works
