"""axe-core on the students' page: no WCAG 2.1 AA violation in the states a lesson goes through.

One page per viewport walks through its states in sequence (idle, running, waiting, done,
German; blocked on a phone), so the audit costs two page loads, not seven.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.axe_support import assert_accessible, focus_ring_contrast
from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, stage, start_run
from tests.pipeline_support import StartPipeline, demo_of

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


async def test_the_page_is_accessible_idle_running_waiting_done_and_in_german(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    held = demo.comfyui.hold_after(2)
    first, second = await open_page(server), await open_page(server)
    await connected(first)
    await connected(second)
    await assert_accessible(first, "idle")

    running = await start_run(first, "a lighthouse on a cliff")
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(stage(running, "generation").locator("progress")).to_be_visible()
    await assert_accessible(first, "running")

    waiting = await start_run(second, "a quiet forest", "fairy_tale")
    await expect(waiting).to_have_attribute("data-phase", "waiting", timeout=WAIT_MS)
    await assert_accessible(second, "waiting")

    # Cancel from the keyboard: the button goes away, the focus must not fall to the body.
    await first.locator("#prompt").focus()  # from the keyboard, so :focus-visible holds
    await first.keyboard.press("Shift+Tab")
    await running.locator(".run-cancel").focus()
    ring = await focus_ring_contrast(first)
    assert ring >= 3, f"the focus ring on Cancel is {ring:.2f}:1"
    await first.keyboard.press("Enter")
    demo.comfyui.release()
    await expect(running).to_have_attribute("data-status", "cancelled", timeout=WAIT_MS)
    assert await first.evaluate("document.activeElement !== document.body")
    assert await first.evaluate("document.activeElement.closest('.run') !== null")
    await assert_accessible(first, "cancelled")

    await expect(waiting).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await assert_accessible(second, "done")
    await second.get_by_role("button", name="DE", exact=True).click()
    await expect(second.locator("html")).to_have_attribute("lang", "de")
    await assert_accessible(second, "done, German")


async def test_the_page_is_accessible_on_a_phone_with_a_blocked_prompt(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="kids")
    page = await open_page(server, viewport=PHONE)
    await connected(page)
    await assert_accessible(page, "phone, idle")
    run = await start_run(page, "a boy with a gun in the park")
    await expect(run).to_have_attribute("data-status", "blocked", timeout=WAIT_MS)
    await assert_accessible(page, "phone, blocked")
