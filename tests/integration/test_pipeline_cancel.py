"""Cancel at every stage, and backends going away: every run ends once, nothing is left."""

from __future__ import annotations

import asyncio

from server.harness.client import AtelierClient
from server.harness.demo import DemoSpeed
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    events_of,
    pipeline_of,
    run_done,
    stage_trail,
    start_run,
    until,
)

SLOW_TOKENS = DemoSpeed(tokens_per_second=15, first_token_delay=0, step_time=0.005, steps=4)


async def cancel_and_expect(client: AtelierClient, run: str) -> None:
    await client.send({"type": "run.cancel", "run": run})
    done = await run_done(client, run)
    assert done["status"] == "cancelled"
    assert [m["type"] for m in events_of(client, run)].count("run.done") == 1


async def test_cancel_during_stage_one_closes_the_safety_request(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    demo = demo_of(server)
    demo.llm.faults.hang_after_tokens = 0  # the verdict never comes
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    await until(lambda: demo.llm.active_streams == 1)
    await cancel_and_expect(client, run)
    await until(lambda: demo.llm.active_streams == 0)
    assert demo.llm.cancelled_streams == 1
    assert stage_trail(client, run) == [("safety", "started")]
    assert_nothing_left(server)


async def test_cancel_during_stage_two_stops_generation_upstream(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", speed=SLOW_TOKENS)
    demo = demo_of(server)
    client = await connected(server)
    run = await start_run(client, "a calm lake at night under many stars")
    await client.wait_for(lambda m: m["type"] == "token" and m["stage"] == "interception")
    await cancel_and_expect(client, run)
    await until(lambda: demo.llm.active_streams == 0)
    assert demo.llm.cancelled_streams == 1
    assert ("interception", "done") not in stage_trail(client, run)
    assert_nothing_left(server)


async def test_cancel_during_stage_three_stops_the_translation(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", speed=SLOW_TOKENS)
    demo = demo_of(server)
    client = await connected(server)
    # Long enough that the translation still streams when its first word has been screened
    # and shown (the screen holds each word until the next one begins).
    run = await start_run(client, "ein Fuchs im Schnee unter dem Mond", "passthrough")
    await client.wait_for(lambda m: m["type"] == "token" and m["stage"] == "translation")
    await cancel_and_expect(client, run)
    await until(lambda: demo.llm.active_streams == 0)
    assert demo.llm.cancelled_streams == 1
    assert_nothing_left(server)


async def test_cancel_during_stage_four_interrupts_the_render(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    demo.comfyui.hold_after(2)
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    await client.wait_for(lambda m: m["type"] == "progress")
    await client.send({"type": "run.cancel", "run": run})
    async with asyncio.timeout(10):  # the interrupt for this prompt reached the image server
        await demo.comfyui.state.interrupt_requested.wait()
    demo.comfyui.release()  # like ComfyUI, the render notices it at its next step
    done = await run_done(client, run)
    assert done["status"] == "cancelled"
    await until(lambda: demo.comfyui.running == 0)
    assert demo.comfyui.interrupted == 1
    assert not [m for m in events_of(client, run) if m["type"] == "output"]
    assert_nothing_left(server)


async def test_cancel_while_waiting_for_the_image_server_deletes_nothing_upstream(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    demo.comfyui.hold_after(1)
    first, second = await connected(server), await connected(server)
    busy = await start_run(first, "a calm lake")
    await first.wait_for(lambda m: m["type"] == "progress")
    waiting = await start_run(second, "a quiet forest")
    queued = await second.wait_for(lambda m: m["type"] == "queue" and m["stage"] == "generation")
    assert queued["position"] == 1
    await cancel_and_expect(second, waiting)
    assert demo.comfyui.queued == 0  # it never reached ComfyUI: we submit only with a slot
    demo.comfyui.release()
    assert (await run_done(first, busy))["status"] == "completed"
    assert_nothing_left(server)


async def test_llm_down_fails_the_run_naming_the_stage(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    await demo_of(server).llm.stop()
    client = await connected(server)
    run = await start_run(client, "a calm lake", lang="en")
    done = await run_done(client, run)
    assert done["status"] == "failed"
    assert done["code"] == "backend_unavailable"
    assert done["reason"].startswith("Something went wrong while re-imagining your prompt")
    assert stage_trail(client, run)[-1] == ("interception", "failed")


async def test_comfyui_down_fails_the_run_at_stage_four(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    await demo_of(server).comfyui.crash()
    client = await connected(server)
    run = await start_run(client, "a calm lake", lang="de")
    done = await run_done(client, run, timeout=60)
    assert done["status"] == "failed"
    assert done["reason"].startswith("Beim Erzeugen des Bildes ist etwas schiefgegangen")
    assert stage_trail(client, run)[-1] == ("generation", "failed")
    assert pipeline_of(server).services.scheduler.held_slots == 0
