"""The vision check in real Chromium: at `kids` the preview is only a coarse mosaic, and the
picture stage shows its fifth state, "checking the picture", while a vision model looks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from playwright.async_api import expect

from server.harness.demo import DemoResponder, DemoSpeed
from server.harness.llm_sim import OllamaSimulator
from server.harness.vision_marker import MARKER_WORD, images_in
from server.wiring import load_definitions
from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, screenshot, stage, start_run
from tests.conftest import make_settings
from tests.pipeline_support import StartPipeline, demo_of

pytestmark = pytest.mark.browser

#: Image steps slow enough that the page shows previews for a while; text as fast as it goes.
SLOW_STEPS = DemoSpeed(tokens_per_second=0, first_token_delay=0, step_time=0.4, steps=8)

#: In the page: the preview's size and how many colours it has, read through a canvas.
MEASURE = """img => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) colours.add(pixels.slice(i, i + 3).join());
  return { width: img.naturalWidth, height: img.naturalHeight, colours: colours.size };
}"""


async def test_a_preview_at_kids_is_a_coarse_mosaic(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="kids", speed=SLOW_STEPS)
    page = await open_page(server)
    await connected(page)
    run = await start_run(page, "a little red fox asleep in the deep snow")
    preview = run.locator('.run-picture[data-kind="preview"] img')
    await expect(preview).to_have_attribute(
        "src", re.compile(r"^data:image/png;base64,"), timeout=WAIT_MS
    )
    await expect(preview).to_be_visible()
    await preview.evaluate("img => img.decode()")
    measured = await preview.evaluate(MEASURE)
    # 64 x 64 pixels of 4 x 4 blocks: at most 16 colours, whatever the picture shows.
    assert measured["width"] == measured["height"] == 64, measured
    assert measured["colours"] <= 16, measured
    await screenshot(page, "coarse-preview-kids")
    final = run.locator('.run-picture[data-kind="final"] img')
    await expect(final).to_have_attribute("src", re.compile(r"^/media/r-"), timeout=WAIT_MS)
    await expect(run).to_have_attribute("data-status", "completed")


@dataclass
class VisionHangs(DemoResponder):
    """Answers every text step; shown a picture, it holds its answer: the check takes long."""

    sim: list[OllamaSimulator] = field(default_factory=list)

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        if images_in(messages):
            # The simulator reads the fault while it streams: this very answer is held.
            self.sim[0].faults.hang_after_tokens = 0
        return super().__call__(messages)


async def test_the_picture_stage_shows_that_the_picture_is_being_checked(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    catalog, _ = load_definitions(make_settings())
    responder = VisionHangs(catalog)
    fast = DemoSpeed(tokens_per_second=0, first_token_delay=0, step_time=0.01, steps=3)
    server = await start_pipeline(safety_level="kids", speed=fast, responder=responder)
    responder.sim.append(demo_of(server).llm)
    page = await open_page(server, locale="de-DE")
    await connected(page)
    run = await start_run(page, "ein roter Fuchs im Schnee")
    generation = stage(run, "generation")
    await expect(generation).to_have_attribute("data-status", "checking", timeout=WAIT_MS)
    await expect(generation.locator(".stage-state")).to_have_text("Bild wird geprüft…")
    await expect(generation.locator("progress")).to_be_hidden()
    await expect(run.locator('.run-picture[data-kind="final"]')).to_have_count(0)
    await screenshot(page, "vision-checking-de")
    await run.locator(".run-cancel").click()
    await expect(run).to_have_attribute("data-status", "cancelled", timeout=WAIT_MS)
    assert not await run.locator(".run-download").is_visible()


async def test_a_blocked_picture_is_never_shown_and_the_reason_is_friendly(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="kids", speed=SLOW_STEPS)
    page = await open_page(server)
    await connected(page)
    run = await start_run(page, f"an {MARKER_WORD} fox in the snow")
    await expect(run).to_have_attribute("data-status", "blocked", timeout=WAIT_MS)
    await expect(stage(run, "generation")).to_have_attribute("data-status", "blocked")
    await expect(run.locator(".run-reason")).to_contain_text("did not turn out right")
    await expect(run.locator(".run-picture")).to_be_hidden()  # not even the mosaic stays
    assert not await run.locator(".run-download").is_visible()
    await expect(run.locator(".run-reason")).not_to_contain_text(MARKER_WORD)
