"""A child's own picture as the starting point, in real Chromium: chosen with the file picker,
sent with its progress shown, its thumbnail in the composer and in the run card, a run whose
picture is made from it (the simulator's output leans towards the input's colours), "remove
picture" deleting it on the server, and a web page renamed .png refused with the child's own
sentence. axe finds nothing with a thumbnail shown. On the class's wall, a picture made from
an upload shows it in its corner; one made from words alone shows nothing more."""

from __future__ import annotations

import asyncio
import io
import os
import re
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect

from server.harness.comfyui_sim.blend import INPUT_WEIGHT
from tests.axe_support import assert_accessible
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    connected,
    logged_messages,
    record_changes,
    recorded,
    session_of,
    start_run,
)
from tests.integration.test_wall_links import new_link
from tests.people_support import open_socket
from tests.pictures_support import classroom, make_picture
from tests.pipeline_support import StartPipeline
from tests.uploads_support import uploaded

pytestmark = pytest.mark.browser

#: A pure red drawing: a picture made from it is redder than one made from the prompt alone.
RED = (230, 20, 20)
#: What a child might pick by mistake: a saved web page with a picture's name.
NOT_A_PICTURE = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
#: The server's bound in this test: the red drawing is far below it.
TOO_LARGE = 65_536  # the setting's least
IMAGE_LOADED = """img => img.complete ? img.naturalWidth > 0 : new Promise((resolve) => {
  img.addEventListener("load", () => resolve(img.naturalWidth > 0));
  img.addEventListener("error", () => resolve(false));
})"""


def red_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), RED).save(out, "PNG")
    return out.getvalue()


async def upload_strings(page: Page) -> dict[str, dict[str, str]]:
    """The control's own strings, language -> key -> sentence."""
    strings: dict[str, dict[str, str]] = await page.evaluate(
        "import('/static/js/strings-upload.js').then((module) => module.UPLOAD_STRINGS)"
    )
    return strings


async def choose(control: Locator, content: bytes) -> None:
    """The file picker's choice, as a child makes it (a file named like a picture)."""
    files: list[Any] = [{"name": "drawing.png", "mimeType": "image/png", "buffer": content}]
    await control.locator(".upload-file").set_input_files(files=files)


def absolute(page: Page, path: str) -> str:
    """A path of the page's server as a URL page.request takes."""
    return "/".join(page.url.split("/", 3)[:3]) + path


async def drop(page: Page, content: bytes) -> None:
    """A file dragged from the desktop and dropped onto the composer's form."""
    await page.evaluate(
        """(bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], "photo.png", { type: "image/png" }));
          const form = document.querySelector("#compose");
          const init = { dataTransfer: data, bubbles: true, cancelable: true };
          for (const type of ["dragenter", "dragover", "drop"]) {
            form.dispatchEvent(new DragEvent(type, init));
          }
        }""",
        list(content),
    )


async def share_blended_from(page: Page, url: str, color: tuple[int, int, int]) -> float:
    """The share of a picture's pixels (averaged 32 x 32) that the simulator's blend of `color`
    can make: INPUT_WEIGHT of the colour plus the rest of any seeded gradient. It holds
    whatever the run's seed; comparing two runs' redness did not (each run has its own seed,
    and a reddish plain picture once made that check fail)."""
    response = await page.request.get(absolute(page, url))
    assert response.ok, (url, response.status)
    opened = Image.open(io.BytesIO(await response.body())).convert("RGB")
    data = opened.resize((32, 32), Image.Resampling.BOX).tobytes()  # averages stay in the box
    low = [INPUT_WEIGHT * c - 2 for c in color]
    high = [INPUT_WEIGHT * c + (1 - INPUT_WEIGHT) * 255 + 2 for c in color]
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    inside = sum(
        all(lo <= v <= hi for v, lo, hi in zip(px, low, high, strict=True)) for px in pixels
    )
    return inside / len(pixels)


async def finished_picture(page: Page, prompt: str) -> str:
    run = await start_run(page, prompt)
    picture = run.locator('.run-picture[data-kind="final"] img')
    await expect(picture).to_have_attribute("src", re.compile(r"^/media/r-"), timeout=WAIT_MS)
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    src = await picture.get_attribute("src")
    assert src is not None
    return src


async def test_a_picture_is_uploaded_shown_used_by_a_run_and_removed(
    start_pipeline: StartPipeline, open_page: OpenPage, browser: Browser
) -> None:
    server: TestServer = await start_pipeline(safety_level="adult", max_upload_bytes=TOO_LARGE)
    page = await open_page(server)
    await connected(page)
    every = await upload_strings(page)
    strings = every["en"]
    control = page.locator("#upload")
    await expect(control).to_be_visible()  # every demo perspective takes a picture
    plain = await finished_picture(page, "a house by a lake")

    await record_changes(page, "#upload", "states", "data-state")
    await choose(control, red_png())
    thumb = control.locator(".upload-thumb")
    await expect(thumb).to_have_attribute("src", re.compile(r"^/api/uploads/"), timeout=WAIT_MS)
    assert await thumb.evaluate(IMAGE_LOADED), "the thumbnail did not load"
    assert await recorded(page, "states") == ["empty", "sending", "ready"]
    await expect(control.locator(".upload-remove")).to_have_text(strings["upload.remove"])
    await assert_accessible(page, "picture chosen")
    url = await thumb.get_attribute("src")

    made = await finished_picture(page, "a house by a lake")
    session = await session_of(page, server)
    inputs = [m["input"] for m in logged_messages(session) if m["type"] == "run.accepted"]
    assert inputs == [None, url]  # run.start sent the upload's id with the second run only
    card_thumb = page.locator(".run").first.locator(".run-input")
    await expect(card_thumb).to_have_attribute("src", url or "")
    assert await card_thumb.evaluate(IMAGE_LOADED)
    assert await share_blended_from(page, made, RED) == 1.0, "not made from it"
    assert await share_blended_from(page, plain, RED) < 1.0  # the check tells them apart

    # That upload is the run's now; the picture stays for the next run, sent again.
    await expect(thumb).not_to_have_attribute("src", url or "", timeout=WAIT_MS)
    await expect(control).to_have_attribute("data-state", "ready", timeout=WAIT_MS)
    assert re.match(r"^/api/uploads/", await thumb.get_attribute("src") or "")
    await page.reload()  # the card is made again from the resync snapshot's input
    await connected(page)
    await expect(card_thumb).to_have_attribute("src", url or "", timeout=WAIT_MS)
    assert await card_thumb.evaluate(IMAGE_LOADED)

    await drop(page, red_png())  # dragged onto the form this time
    await expect(thumb).to_have_attribute("src", re.compile(r"^/api/uploads/"), timeout=WAIT_MS)
    second = await thumb.get_attribute("src")
    assert second is not None
    assert second != url
    assert (await page.request.get(absolute(page, second))).ok
    await control.locator(".upload-remove").click()
    await expect(thumb).to_be_hidden()
    await expect(control).to_have_attribute("data-state", "empty")
    await expect(control.locator(".upload-choose")).to_be_focused()
    gone = await page.request.get(absolute(page, second))
    assert gone.status == 404  # deleted on the server too

    await choose(control, NOT_A_PICTURE)
    error = control.locator(".upload-error")
    await expect(error).to_have_text(strings["upload.not_image"], timeout=WAIT_MS)
    await expect(control).to_have_attribute("data-state", "empty")
    await assert_nothing_technical(page)
    await choose(control, os.urandom(TOO_LARGE + 1))
    await expect(error).to_have_text(strings["upload.too_large"], timeout=WAIT_MS)
    await page.get_by_role("button", name="DE", exact=True).click()
    await expect(error).to_have_text(every["de"]["upload.too_large"])  # in the child's language
    await expect(control.locator(".upload-choose")).to_have_text(every["de"]["upload.choose"])

    await page.locator("#compare-on").check()  # a compare takes no picture
    await expect(control).to_be_hidden()
    await page.locator("#compare-on").uncheck()
    await expect(control).to_be_visible()

    # On a tablet (a touch screen) the camera is offered too, the back one.
    tablet = await browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    touch = await tablet.new_page()
    await touch.goto(page.url)
    await connected(touch)
    await expect(touch.locator(".upload-camera")).to_have_text(strings["upload.camera"])
    photo = touch.locator(".upload-photo")
    await expect(photo).to_have_attribute("capture", "environment")
    await expect(photo).to_have_attribute("accept", "image/png,image/jpeg,image/webp")
    await tablet.close()


async def picture_from(http: ClientSession, server: TestServer, image: str) -> str:
    """A completed run over the student's own socket that starts from the upload `image`."""
    ws, _ = await open_socket(http, server)
    start = {"type": "run.start", "prompt": "my cat", "interception": "bauhaus", "image": image}
    await ws.send_json(start)
    run = ""
    async with asyncio.timeout(WAIT_MS / 1000):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            assert message["type"] != "error", message
            run = message["run"] if message["type"] == "run.accepted" else run
            if message["type"] == "run.done":
                assert message["status"] == "completed", message
                break
    await ws.close()
    return run


async def test_the_wall_shows_what_a_picture_started_from(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    student = room.students["Mika"]
    _, token = await new_link(room, server)
    page = await open_page(server, viewport={"width": 1920, "height": 1080})
    await page.goto(str(server.make_url(f"/wall/{room.klass['id']}")) + f"#k={token}")
    empty = "The pictures appear here as soon as they are made."
    await expect(page.locator("#wall-status")).to_have_text(empty, timeout=WAIT_MS)

    words, _ = await make_picture(student, server, "a fox in the snow")
    upload = await uploaded(student, server, red_png())
    made = await picture_from(student, server, upload["id"])
    card = page.locator(f'.wall-card[data-run="{made}"]')
    started = card.locator("img.wall-input")
    await expect(started).to_have_attribute("src", f"/media/{made}/input.png", timeout=WAIT_MS)
    assert await started.evaluate(IMAGE_LOADED)  # served to the wall link too
    await expect(started).to_have_attribute("alt", "The picture it started from")
    await expect(page.locator(f'.wall-card[data-run="{words}"]')).to_be_visible()
    await expect(page.locator(f'.wall-card[data-run="{words}"] img')).to_have_count(1)
    await room.close()
