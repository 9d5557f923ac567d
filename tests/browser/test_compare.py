"""Compare perspectives in real Chromium, by keyboard: one idea through three perspectives,
shown side by side with live text in each column, each ending with its picture."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from server.harness.demo import DemoSpeed
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    connected,
    record_changes,
    recorded,
    screenshot,
    stage,
)
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 1000}
#: Tokens slow enough that the page shows the third column's text growing.
STREAMING = DemoSpeed(tokens_per_second=40, first_token_delay=0, step_time=0.02, steps=5)
THREE = ("bauhaus", "haiku", "fairy_tale")


async def test_a_compare_of_three_perspectives_is_shown_side_by_side(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", speed=STREAMING)
    page = await open_page(server, viewport=WIDE)
    await connected(page)
    await page.locator("#compare-on").focus()
    await page.keyboard.press("Space")
    await expect(page.locator(".compare-choices")).to_be_visible()
    for perspective in THREE:
        await page.locator(f'.compare-choice input[value="{perspective}"]').focus()
        await page.keyboard.press("Space")
    await expect(page.locator("#compare-count")).to_have_text("3 of 4 chosen")
    await expect(page.locator("#start")).to_have_text("Compare 3 perspectives")
    await page.locator("#prompt").fill("a lighthouse on a cliff above a stormy sea")
    third = '.compare-row .compare-columns > .run:nth-child(3) .stage[data-stage="interception"]'
    await record_changes(page, f"{third} .stage-text", "third")
    await page.locator("#start").focus()
    await page.keyboard.press("Enter")

    row = page.locator(".compare-row")
    await expect(row).to_have_count(1, timeout=WAIT_MS)
    columns = row.locator(".compare-columns > .run")
    await expect(columns).to_have_count(3)
    await expect(row.locator(".compare-title")).to_contain_text("One idea, 3 perspectives")
    for index in range(3):
        await expect(columns.nth(index)).to_have_attribute(
            "data-status", "completed", timeout=WAIT_MS
        )
        picture = columns.nth(index).locator('.run-picture[data-kind="final"] img')
        await expect(picture).to_have_attribute("src", re.compile("^/media/r-"), timeout=WAIT_MS)
    names = [await columns.nth(i).locator(".run-perspective").text_content() for i in range(3)]
    assert names == ["Bauhaus", "Haiku", "Fairy tale"], names  # the order chosen, left to right
    boxes = [await columns.nth(i).bounding_box() for i in range(3)]
    assert all(box is not None for box in boxes)
    tops = {round(box["y"]) for box in boxes if box}
    lefts = [box["x"] for box in boxes if box]
    assert len(tops) == 1, boxes  # one row: side by side
    assert lefts == sorted(lefts), boxes
    texts = [text for text in await recorded(page, "third") if text]
    final = await stage(columns.nth(2), "interception").locator(".stage-text").inner_text()
    assert len(texts) >= 3, texts  # streamed live into its column, not set at once
    assert all(final.startswith(text) for text in texts), texts
    await assert_nothing_technical(page)
    await screenshot(page, "compare-side-by-side")
