"""The server cuts the socket mid-stage-2: the page reconnects, resumes, and loses no text."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from server.harness.demo import DemoSpeed
from server.protocol import CloseCode
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    connected,
    final_stage_text,
    logged_messages,
    record_changes,
    recorded,
    session_of,
    stage,
    start_run,
)
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

#: Slow enough that the cut lands while stage 2 streams and tokens arrive while away.
SLOW_TOKENS = DemoSpeed(tokens_per_second=20, first_token_delay=0, step_time=0.01, steps=4)


async def test_a_cut_socket_mid_stage_two_resumes_with_the_complete_text(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", speed=SLOW_TOKENS)
    page = await open_page(server)
    await connected(page)
    await record_changes(page, "#conn", "states", attribute="data-state")
    prompt = "an old wooden sailing ship crossing a stormy sea at night, lit by a bright moon"
    run = await start_run(page, prompt)
    text = stage(run, "interception").locator(".stage-text")
    await expect(text).not_to_be_empty(timeout=WAIT_MS)
    await expect(stage(run, "interception")).to_have_attribute("data-status", "started")

    session = await session_of(page, server)
    assert session.connection is not None
    cut_at = session.seq
    session.connection.close(CloseCode.GOING_AWAY, "test cuts the socket")

    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    states = await recorded(page, "states")
    assert "reconnecting" in states, states
    assert await session_of(page, server) is session  # resumed, not a fresh session
    run_id = await run.get_attribute("data-run")
    assert run_id is not None
    missed = [
        m
        for m in logged_messages(session)
        if m["seq"] > cut_at and m["type"] == "token" and m["stage"] == "interception"
    ]
    assert missed, "the cut came too late: stage 2 had already finished streaming"
    # The same text the server produced: nothing lost while away, nothing doubled by replay.
    await expect(text).to_have_text(final_stage_text(session, run_id, "interception"))
    await expect(run.locator('.run-picture[data-kind="final"] img')).to_be_visible()
    await expect(page.locator(".run")).to_have_count(1)
