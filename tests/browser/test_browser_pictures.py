"""Pictures worth keeping, in real Chromium: an example idea fills the empty box, the tab's
title counts a run's steps, a finished picture opens full screen by keyboard (arrows, Escape,
the focus back where it was, nothing for axe to find), and "use this idea again", "same idea,
another perspective" and "try again" work from the picture. One page on a phone goes through
it all, so it costs one page load."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.axe_support import assert_accessible
from tests.browser.conftest import OpenPage
from tests.browser_support import ARTIFACTS, WAIT_MS, connected
from tests.pipeline_support import StartPipeline, demo_of

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
#: Headless Chromium's tab is never hidden: the page is told so as a browser would tell it,
#: and notifications are recorded instead of shown.
HIDE_THE_TAB = """() => {
  Object.defineProperty(document, "hidden", { get: () => true, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
  window.Notification = class extends Notification {
    constructor(title, options) { super(title, options); window.noticed = title; }
  };
}"""
SHOW_THE_TAB = """() => {
  delete document.hidden;
  document.dispatchEvent(new Event("visibilitychange"));
}"""


async def pics_strings(page: Page) -> dict[str, str]:
    """The English strings of strings-pics.js."""
    strings: dict[str, str] = await page.evaluate(
        "import('/static/js/strings-pics.js').then((module) => module.PICS_STRINGS.en)"
    )
    return strings


async def make(page: Page, prompt: str) -> Locator:
    """Type an idea and press start with the perspective already chosen; the new run's view."""
    before = await page.locator(".run").count()
    await page.locator("#prompt").fill(prompt)
    await page.locator("#start").click()
    await expect(page.locator(".run")).to_have_count(before + 1, timeout=WAIT_MS)
    run_id = await page.locator(".run").first.get_attribute("data-run")  # newest first
    return page.locator(f'.run[data-run="{run_id}"]')


async def test_pictures_open_full_screen_by_keyboard_and_come_back_as_new_ideas(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    page = await open_page(server, viewport=PHONE)
    await connected(page)
    strings = await pics_strings(page)

    # A blank start: an example fills the box and steps aside.
    examples = page.locator(".examples")
    await expect(examples).to_be_visible()
    await examples.get_by_role("button", name=strings["examples.1"]).click()
    await expect(page.locator("#prompt")).to_have_value(strings["examples.1"])
    await expect(page.locator("#prompt")).to_be_focused()
    await expect(examples).to_be_hidden()

    # While a run works, the tab's title counts its steps; when it is seen done, the plain title.
    held = demo.comfyui.hold_after(1)
    first = await make(page, "a lighthouse on a cliff")
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(page).to_have_title("(4/4) Atelier")
    demo.comfyui.release()
    await expect(first).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(page).to_have_title("Atelier")
    second = await make(page, "a quiet forest at dawn")
    await expect(second).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    newest, older = second, first

    # Full screen by keyboard: Enter opens, the arrow goes on, Tab stays inside, Escape closes.
    opener = newest.locator(".view-open")
    await opener.focus()
    await page.keyboard.press("Enter")
    viewer = page.locator("dialog.viewer")
    await expect(viewer).to_be_visible()
    await expect(viewer.locator(".viewer-caption")).to_have_text("a quiet forest at dawn")
    await expect(viewer).to_have_attribute("aria-label", "Picture 1 of 2")
    await assert_accessible(page, "full-screen view")
    await page.screenshot(path=ARTIFACTS / "pictures-full-screen-phone.png")  # what the child sees
    await page.keyboard.press("ArrowRight")
    await expect(viewer.locator(".viewer-caption")).to_have_text("a lighthouse on a cliff")
    older_src = await older.locator(".run-picture img").get_attribute("src")
    assert older_src
    await expect(viewer.locator(".viewer-image")).to_have_attribute(
        "src", re.compile(re.escape(older_src) + "$")
    )
    for _ in range(5):
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.closest('dialog.viewer') !== null")
    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    await expect(opener).to_be_focused()

    # "Use this idea again" puts the words back in the box; "try again" starts a new run.
    await page.locator("#prompt").fill("")
    await older.locator(".more-reuse").click()
    await expect(page.locator("#prompt")).to_have_value("a lighthouse on a cliff")
    await expect(page.locator("#prompt")).to_be_focused()
    await older.locator(".more-other").click()
    await expect(page.locator("#prompt")).to_have_value("a lighthouse on a cliff")
    await expect(page.locator(".card:focus")).to_have_count(1)

    # "Tell me when it is ready" is off until the child turns it on, then remembered; a run
    # that finishes while the tab is hidden marks the title and sends the notification.
    toggle = page.get_by_label(strings["notify.toggle"])
    await expect(toggle).not_to_be_checked()
    await page.context.grant_permissions(["notifications"])
    await toggle.check()
    assert await page.evaluate("localStorage.getItem('atelier.notify')") == "on"
    await page.evaluate(HIDE_THE_TAB)
    await older.locator(".more-again").click()
    await expect(page.locator(".run")).to_have_count(3, timeout=WAIT_MS)
    again = page.locator(".run").first
    await expect(again.locator(".run-prompt")).to_have_text("a lighthouse on a cliff")
    await expect(again).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(page).to_have_title("✓ Atelier")
    assert await page.evaluate("window.noticed") == strings["notify.title"]
    await page.evaluate(SHOW_THE_TAB)
    await expect(page).to_have_title("Atelier")
