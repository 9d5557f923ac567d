"""The wall in real Chromium, opened on a projector with a wall link: a student's picture
appears as it is made (large type, its image loaded through the link), leaves when the teacher
hides it, and a compare run's pictures (of a prompt with markup in it, shown as text) stand
side by side in the compare view, chosen with the keyboard. The link's key leaves the address
bar at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, assert_nothing_technical, screenshot
from tests.integration.test_wall_links import new_link
from tests.people_support import api_json, open_socket
from tests.pictures_support import classroom, make_picture
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1920, "height": 1080}
#: Text a projector shows legibly at 3 m on a 1080p screen (about 1.5 times a desktop's).
WALL_TEXT_PIXELS = 24
COMPARED = ["bauhaus", "cave_painting", "fairy_tale"]
#: A prompt a student with a script might send: the wall must show it, never run it.
HOSTILE = 'a lighthouse <img src=x onerror="window.pwned=1">'
#: Whether an image loaded, once it has either loaded or failed (a broken image has no width).
IMAGE_LOADED = """img => img.complete ? img.naturalWidth > 0 : new Promise((resolve) => {
  img.addEventListener("load", () => resolve(img.naturalWidth > 0));
  img.addEventListener("error", () => resolve(false));
})"""


async def compare_run(http: ClientSession, server: TestServer, prompt: str) -> list[str]:
    """A compare run of the `COMPARED` perspectives; its runs' ids once all completed."""
    ws, _ = await open_socket(http, server)
    await ws.send_json({"type": "compare.start", "prompt": prompt, "perspectives": COMPARED})
    runs: list[str] = []
    done = 0
    async with asyncio.timeout(WAIT_MS / 1000):
        while done < len(COMPARED):
            message: dict[str, Any] = await ws.receive_json()
            assert message["type"] != "error", message
            if message["type"] == "run.accepted":
                runs.append(message["run"])
            elif message["type"] == "run.done":
                assert message["status"] == "completed", message
                done += 1
    await ws.close()
    return runs


async def font_pixels(page: Page, selector: str) -> float:
    size: str = await page.locator(selector).first.evaluate("el => getComputedStyle(el).fontSize")
    return float(size.removesuffix("px"))


async def test_the_wall_shows_pictures_as_made_hides_and_compares(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    class_id = room.klass["id"]
    _, token = await new_link(room, server)
    page = await open_page(server, viewport=PROJECTOR)
    await page.goto(str(server.make_url(f"/wall/{class_id}")) + f"#k={token}")
    await expect(page.locator("#wall-status")).to_have_text(
        "The pictures appear here as soon as they are made.", timeout=WAIT_MS
    )
    assert "#k=" not in page.url  # never on the projected screen

    run, _ = await make_picture(room.students["Mika"], server, "a fox in the snow")
    card = page.locator(f'.wall-card[data-run="{run}"]')
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card).to_contain_text("a fox in the snow")
    await expect(card).to_contain_text("Mika")
    loaded = await card.locator("img").evaluate(IMAGE_LOADED)
    assert loaded  # served to the link (its cookie), not only to the teacher
    assert await font_pixels(page, ".wall-nick") >= WALL_TEXT_PIXELS
    await screenshot(page, "wall")

    change = f"/api/classes/{class_id}/pictures/{run}"
    await api_json(room.teacher, server, "PATCH", change, {"hidden": True})
    await expect(card).to_have_count(0, timeout=WAIT_MS)

    runs = await compare_run(room.students["Mika"], server, HOSTILE)
    await expect(page.locator(".wall-card")).to_have_count(3, timeout=WAIT_MS)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.locator("#view-compare")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#view-compare")).to_have_attribute("aria-pressed", "true")
    row = page.locator(".wall-group .wall-card")
    await expect(row).to_have_count(3, timeout=WAIT_MS)
    boxes = [await row.nth(i).bounding_box() for i in range(3)]
    assert all(box is not None for box in boxes)
    tops = {round(box["y"]) for box in boxes if box}
    lefts = [box["x"] for box in boxes if box]
    assert len(tops) == 1
    assert lefts == sorted(lefts)
    assert {await row.nth(i).get_attribute("data-run") for i in range(3)} == set(runs)
    await expect(page.locator(".wall-group-prompt")).to_have_text(f"“{HOSTILE}”")
    await expect(row.first).to_contain_text(HOSTILE)  # a child's markup is shown as text
    assert await page.evaluate("window.pwned") is None
    assert await page.locator('img[src="x"]').count() == 0
    await assert_nothing_technical(page)
    await screenshot(page, "wall-compare")
    await room.close()
