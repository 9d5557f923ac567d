"""Runs the server no longer has: an expired session, a restarted server. The card says
"interrupted", offers "try again" (same idea, same perspective), and a child never reads a
run id, an error code or an address."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, expect

from server.app import create_app
from server.engine.session import Session
from server.handlers.keys import SETTINGS
from server.protocol import CloseCode
from server.wiring import DemoOptions
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    demo_page,
    screenshot,
    session_of,
    stage,
    start_run,
)
from tests.pipeline_support import FAST, StartPipeline, assert_nothing_left, demo_of

pytestmark = pytest.mark.browser

PROMPT = "a paper boat sailing down a rainy street"
#: Not the first card: "try again" must bring back the perspective the child chose.
PERSPECTIVE = "fairy_tale"

AiohttpServer = Callable[..., Awaitable[TestServer]]


def closed_gate(session: Session) -> asyncio.Event:
    """Set once the session is closed and its runs have ended (hooks run in order)."""
    closed = asyncio.Event()

    async def hook(_: Session) -> None:
        closed.set()

    session.on_close(hook)
    return closed


async def rendering_run(page: Page, server: TestServer) -> Locator:
    """A run held on the image server after two steps, so it is surely still in flight."""
    held = demo_of(server).comfyui.hold_after(2)
    run = await start_run(page, PROMPT, PERSPECTIVE)
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(stage(run, "generation").locator("progress")).to_be_visible()
    return run


async def release_interrupted(server: TestServer) -> None:
    """The server gave up on the run: let the held render see its interrupt and end."""
    comfyui = demo_of(server).comfyui
    async with asyncio.timeout(WAIT_MS / 1000):
        await comfyui.state.interrupt_requested.wait()
    comfyui.release()


async def shows_interrupted(page: Page, run: Locator) -> None:
    await expect(run).to_have_attribute("data-status", "lost", timeout=WAIT_MS)
    await expect(run.locator(".run-status")).to_have_text("interrupted")
    await expect(run.locator(".run-reason")).to_contain_text("interrupted before it was finished")
    await expect(run.locator(".run-cancel")).to_be_hidden()
    await expect(run.locator(".run-retry")).to_have_text("Try again")
    await expect(stage(run, "generation")).not_to_have_attribute("data-status", "started")
    await expect(page.locator("#form-error")).to_be_hidden()
    await expect(page.locator("#live")).to_contain_text("interrupted")


async def cancel_answer(page: Page, run: Locator) -> str:
    """Send the cancel the old page sent for a lost run; how did the page take the answer?

    The page's button is gone by then, so its connection sends it; the promise settles when
    the store has handled the server's answer: as the run's news, or as a notice for the
    error box."""
    answer: str = await page.evaluate(
        """(id) => new Promise((resolve) => {
          const { store, connection } = window.atelier;
          store.addEventListener("run", (e) => e.detail.message.type === "error" && resolve("run"));
          store.addEventListener("notice", () => resolve("notice"));
          connection.send({ type: "run.cancel", run: id });
        })""",
        await run.get_attribute("data-run"),
    )
    return answer


async def tries_again(page: Page, lost: Locator) -> None:
    """The "try again" button starts the same idea with the same perspective; it completes."""
    perspective = await lost.locator(".run-perspective").text_content()
    await lost.locator(".run-retry").click()
    runs = page.locator(".run")
    await expect(runs).to_have_count(2, timeout=WAIT_MS)
    again = runs.first
    await expect(again).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(again.locator(".run-prompt")).to_have_text(PROMPT)
    await expect(again.locator(".run-perspective")).to_have_text(perspective or "")
    await expect(again.locator('.run-picture[data-kind="final"] img')).to_be_visible()
    await expect(runs.nth(1)).to_have_attribute("data-status", "lost")
    await expect(runs.nth(1).locator(".run-retry")).to_be_hidden()  # pressed once is enough


async def test_a_run_whose_session_expired_offline_reads_interrupted_and_tries_again(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server, page = await demo_page(start_pipeline, open_page, resume_grace=0.2)
    run = await rendering_run(page, server)
    session = await session_of(page, server)
    closed = closed_gate(session)

    # Offline, the page drops its socket at the browser's `offline` event (connection.js);
    # Chromium keeps the socket itself open, so the server may not have heard yet: it cuts
    # the socket then. Offline, the page cannot come back within the grace period.
    await page.context.set_offline(True)
    if session.connection is not None:
        session.connection.close(CloseCode.GOING_AWAY, "the tablet went to sleep")
    await release_interrupted(server)
    async with asyncio.timeout(WAIT_MS / 1000):
        await closed.wait()
    await expect(run).to_have_attribute("data-status", "running")  # the page cannot know yet
    await page.context.set_offline(False)

    await shows_interrupted(page, run)
    assert await session_of(page, server) is not session
    assert await cancel_answer(page, run) == "run"  # `unknown_run`: never an error box
    await expect(page.locator("#form-error")).to_be_hidden()
    await expect(run).to_have_attribute("data-status", "lost")
    await screenshot(page, "lost_run_after_expired_session")
    await assert_nothing_technical(page)
    await tries_again(page, run)
    await assert_nothing_technical(page)
    assert_nothing_left(server)


async def test_a_run_lost_in_a_server_restart_reads_interrupted_and_tries_again(
    start_pipeline: StartPipeline, open_page: OpenPage, aiohttp_server: AiohttpServer
) -> None:
    server, page = await demo_page(start_pipeline, open_page)
    run = await rendering_run(page, server)
    port = server.port  # a closed TestServer forgets it

    stopping = asyncio.create_task(server.close())  # shutdown cancels the run on its way
    await release_interrupted(server)
    await stopping
    await expect(page.locator("#conn")).not_to_have_attribute("data-state", "connected")
    app = create_app(server.app[SETTINGS], demo_options=DemoOptions(FAST))
    restarted = await aiohttp_server(app, port=port)

    await expect(page.locator("#conn")).to_have_attribute(
        "data-state", "connected", timeout=WAIT_MS
    )
    await shows_interrupted(page, run)
    await screenshot(page, "lost_run_after_server_restart")
    await assert_nothing_technical(page)
    await tries_again(page, run)
    await assert_nothing_technical(page)
    assert_nothing_left(restarted)


async def refusal_shown(page: Page, message: Mapping[str, object]) -> str:
    """Send `message` through the page's connection; the text its error box then shows."""
    box = page.locator("#form-error")
    await page.evaluate("(m) => window.atelier.connection.send(m)", message)
    await expect(box).to_be_visible()
    text = await box.text_content()
    await page.evaluate("document.querySelector('#form-error').hidden = true")
    return text or ""


async def test_the_servers_error_texts_never_reach_the_child(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    _, page = await demo_page(start_pipeline, open_page)
    bad_seed = {"type": "run.start", "prompt": "a fox", "interception": "bauhaus", "seed": -1}
    stranger = {"type": "run.cancel", "run": "r-NotOneOfMine"}

    assert await refusal_shown(page, bad_seed) == (
        "Something in your input does not fit. Please check it and try again."
    )
    assert await refusal_shown(page, stranger) == "Something went wrong. Please try again."
    await page.get_by_role("button", name="DE").click()
    assert await refusal_shown(page, stranger) == (
        "Etwas ist schiefgegangen. Bitte versuch es noch einmal."
    )
    assert re.search(r"seed|r-NotOneOfMine", await page.evaluate("document.body.innerText")) is None
