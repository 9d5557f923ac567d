"""A run that waits for its picture's slot hears, over the socket, one estimate for the whole run
(`run_eta`) once a completed run has measured it; before that, none."""

from __future__ import annotations

import asyncio

from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    run_done,
    start_run,
    until,
)

TIMEOUT = 15


async def test_a_queued_runs_events_carry_the_whole_run_estimate(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    client = await connected(server)
    first = await start_run(client, "a lighthouse on a cliff", "passthrough")
    assert (await run_done(client, first))["status"] == "completed"
    first_queue = [m for m in client.messages if m["type"] == "queue" and m["run"] == first]
    assert all(m["run_eta"] is None for m in first_queue)  # nothing measured yet: no number

    held = demo.comfyui.hold_after(2)
    working = await start_run(client, "a quiet forest", "passthrough")
    await asyncio.wait_for(held.wait(), TIMEOUT)
    waiting = await start_run(client, "a red kite", "passthrough")
    told = await client.wait_for(
        lambda m: m["type"] == "queue" and m["run"] == waiting and m["run_eta"] is not None,
        TIMEOUT,
    )
    assert told["stage"] == "generation"
    assert told["eta"] is not None
    assert told["run_eta"] >= told["eta"]  # the slot, then the picture itself

    demo.comfyui.release()
    for run in (working, waiting):
        assert (await run_done(client, run))["status"] == "completed"
    await until(lambda: demo.comfyui.running == 0)
    await client.close()
    assert_nothing_left(server)
