"""A whole run in real Chromium: perspective, prompt, streamed text, the final picture."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from server.harness.demo import DemoSpeed
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    choose_perspective,
    connected,
    final_stage_text,
    logged_messages,
    record_changes,
    recorded,
    session_of,
    stage,
    start_run,
    ui_strings,
)
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

#: Tokens slow enough that the page renders many intermediate states of the stage-2 text.
PHONE = {"width": 390, "height": 844}
STREAMING = DemoSpeed(tokens_per_second=30, first_token_delay=0, step_time=0.03, steps=6)


async def test_a_full_run_streams_the_text_and_shows_the_final_picture(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", speed=STREAMING)
    page = await open_page(server)
    await connected(page)
    await expect(page.locator("#demo")).to_be_visible()
    await record_changes(page, '.run .stage[data-stage="interception"] .stage-text', "texts")
    await record_changes(page, "#start", "button")
    await choose_perspective(page, "bauhaus")
    await page.locator("#prompt").fill(
        "a little red fox asleep in the deep snow under tall pine trees"
    )
    await page.locator("#start").dblclick()  # one click too many: still one run
    await expect(page.locator(".run")).to_have_count(1, timeout=WAIT_MS)
    run = page.locator(".run").first

    await expect(stage(run, "safety")).to_have_attribute("data-status", "done", timeout=WAIT_MS)
    await expect(stage(run, "safety")).to_contain_text("fine for this workshop")
    picture = run.locator('.run-picture[data-kind="final"] img')
    await expect(picture).to_have_attribute("src", re.compile(r"^/media/r-"), timeout=WAIT_MS)
    await expect(run).to_have_attribute("data-status", "completed")
    await expect(run.locator(".run-download")).to_be_visible()
    loaded = await picture.evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded, "the final picture did not load"

    run_id = await run.get_attribute("data-run")
    assert run_id is not None
    session = await session_of(page, server)
    accepted = [m["run"] for m in logged_messages(session) if m["type"] == "run.accepted"]
    assert accepted == [run_id]  # the double click made one run
    button = await recorded(page, "button")
    sending = (await ui_strings(page))["en"]["compose.sending"]
    assert sending in button, button  # between the click and `run.accepted`
    await expect(page.locator("#start")).not_to_have_text(sending)
    final = final_stage_text(session, run_id, "interception")
    await expect(stage(run, "interception").locator(".stage-text")).to_have_text(final)
    texts = [t for t in await recorded(page, "texts") if t]
    assert texts[-1] == final
    # Streamed, not delivered at once: the page showed many growing prefixes of the text.
    assert len(texts) >= 5, texts
    assert all(final.startswith(t) for t in texts), texts
    for name in ("safety", "interception", "translation", "generation"):
        await expect(stage(run, name).locator(".stage-time")).to_have_text(re.compile(r"\d"))
    # English already: no second copy of the text, a note in the children's words.
    await expect(stage(run, "translation")).to_contain_text("picture machine")
    await expect(stage(run, "translation").locator(".stage-text")).to_be_hidden()
    await expect(stage(run, "generation")).to_contain_text("Picture number")  # not "seed"
    await expect(run.locator(".run-total")).to_contain_text("total")
    await expect(run.locator(".run-cancel")).to_be_hidden()


async def test_a_blocked_prompt_shows_the_friendly_reason_and_no_picture(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="kids")
    page = await open_page(server, viewport=PHONE)
    await connected(page)
    run = await start_run(page, "a boy with a gun in the park")

    await expect(run).to_have_attribute("data-status", "blocked", timeout=WAIT_MS)
    reason = run.locator(".run-reason")
    await expect(reason).to_be_visible()
    await expect(reason).to_contain_text("not allowed here")
    await expect(stage(run, "safety")).to_have_attribute("data-status", "blocked")
    for later in ("interception", "translation", "generation"):
        await expect(stage(run, later)).to_have_attribute("data-status", "pending")
    await expect(run.locator(".run-picture")).to_be_hidden()
    await expect(run.locator(".run-cancel")).to_be_hidden()
    await expect(page.locator("#form-error")).to_be_hidden()  # no scary error box
    await expect(page.locator("#live")).to_contain_text("Not possible")
    overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"
