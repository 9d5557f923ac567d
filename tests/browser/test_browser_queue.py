"""Waiting and stopping: a second classroom page sees its place in line and one estimate for
its whole run; cancel works."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, screenshot, stage, start_run
from tests.pipeline_support import StartPipeline, assert_nothing_left, demo_of, until

pytestmark = pytest.mark.browser


async def test_a_second_page_shows_its_place_in_line_while_the_first_renders(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    first, second = await open_page(server), await open_page(server)
    await connected(first)
    await connected(second)
    measured = await start_run(first, "a harbour at dawn")  # a completed run: a whole-run time
    await expect(measured).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    held = demo.comfyui.hold_after(2)

    working = await start_run(first, "a lighthouse on a cliff")
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(working).to_have_attribute("data-phase", "working")
    await expect(stage(working, "generation").locator("progress")).to_be_visible()

    waiting = await start_run(second, "a quiet forest", "fairy_tale")
    await expect(waiting).to_have_attribute("data-phase", "waiting", timeout=WAIT_MS)
    await expect(waiting.locator(".run-wait")).to_contain_text("1st in line")
    await expect(waiting.locator(".run-eta")).to_contain_text("Your picture in about")
    await expect(waiting.locator(".run-status")).to_have_text("waiting")  # not "working"
    await expect(waiting.locator(".run-wait")).not_to_contain_text("about")  # one estimate only
    await screenshot(second, "queue-whole-run-estimate")
    await expect(stage(waiting, "generation")).to_have_attribute("data-status", "waiting")
    await expect(second.locator("#live")).to_contain_text("1st in line")

    demo.comfyui.release()
    for run in (working, waiting):
        await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
        await expect(run.locator('.run-picture[data-kind="final"] img')).to_be_visible()
        await expect(run.locator(".run-wait")).to_be_hidden()
        await expect(run.locator(".run-eta")).to_be_hidden()
    await until(lambda: demo.comfyui.running == 0)
    assert_nothing_left(server)


async def test_cancel_stops_a_rendering_run_and_the_page_says_so(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    demo.comfyui.hold_after(2)
    page = await open_page(server)
    await connected(page)
    run = await start_run(page, "a calm lake")
    await expect(stage(run, "generation").locator("progress")).to_be_visible(timeout=WAIT_MS)

    await until(lambda: demo.comfyui.running == 1)  # the prompt is on the image server
    await run.locator(".run-cancel").click()
    await expect(run.locator(".run-cancel")).to_be_disabled()
    async with asyncio.timeout(10):  # the cancel reached the GPU as an interrupt
        await demo.comfyui.state.interrupt_requested.wait()
    demo.comfyui.release()  # a held render notices its interrupt at the next step
    await expect(run).to_have_attribute("data-status", "cancelled", timeout=WAIT_MS)
    await expect(run.locator(".run-status")).to_have_text("cancelled")
    stopped = stage(run, "generation")  # stopped by the cancel: not "skipped", not "done"
    await expect(stopped).to_have_attribute("data-status", "stopped")
    await expect(stopped.locator(".stage-state")).to_have_text("cancelled")
    await expect(run.locator(".run-cancel")).to_be_hidden()
    await expect(run.locator('.run-picture[data-kind="final"]')).to_have_count(0)
    await expect(run.locator(".run-picture")).to_be_hidden()
    await expect(page.locator("#live")).to_contain_text("cancelled")
    await until(lambda: demo.comfyui.running == 0)
    assert demo.comfyui.interrupted == 1
    assert_nothing_left(server)
