"""A class at once: ten sessions in fair order with honest positions; resume mid-stream."""

from __future__ import annotations

import asyncio

from server.handlers.keys import REGISTRY
from server.harness.client import AtelierClient
from server.harness.demo import DemoSpeed
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    events_of,
    run_done,
    start_run,
    until,
)

CLASS_SPEED = DemoSpeed(tokens_per_second=0, first_token_delay=0, step_time=0.01, steps=5)


async def test_ten_sessions_at_once_are_served_in_admission_order(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", speed=CLASS_SPEED, queue_update_interval=0)
    clients = [await connected(server) for _ in range(10)]
    runs = [await start_run(c, f"picture number {i}") for i, c in enumerate(clients)]
    rendering_order: list[int] = []

    async def follow(index: int, client: AtelierClient, run: str) -> None:
        await client.wait_for(lambda m: m["type"] == "progress" and m["run"] == run, timeout=60)
        rendering_order.append(index)
        assert (await run_done(client, run, timeout=60))["status"] == "completed"

    await asyncio.gather(
        *(follow(i, c, r) for i, (c, r) in enumerate(zip(clients, runs, strict=True)))
    )
    assert rendering_order == list(
        range(10)
    )  # the image server's one slot, first come first served
    waited = 0
    for client, run in zip(clients, runs, strict=True):
        updates = [
            m for m in events_of(client, run) if m["type"] == "queue" and m["stage"] == "generation"
        ]
        positions = [m["position"] for m in updates]
        assert positions == sorted(positions, reverse=True), positions  # only ever moving up
        assert all(1 <= m["position"] <= m["length"] for m in updates)
        waited += bool(updates)
    assert waited >= 5  # most of the class really queued for the one image slot
    assert_nothing_left(server)


async def test_resume_in_the_middle_of_stage_two_loses_no_token(
    start_pipeline: StartPipeline,
) -> None:
    speed = DemoSpeed(tokens_per_second=40, first_token_delay=0, step_time=0.005, steps=3)
    server = await start_pipeline(safety_level="adult", speed=speed)
    client = await connected(server)
    run = await start_run(client, "a lighthouse on a cliff above a stormy sea at night")
    await client.wait_for(lambda m: m["type"] == "token" and m["stage"] == "interception")
    client.drop()  # the tunnel cuts us off mid-sentence
    session = server.app[REGISTRY].get(client.session or "")
    assert session is not None
    await until(lambda: session.seq >= client.last_seq + 3)  # the story goes on without us
    welcome = await client.reconnect()
    assert welcome["resumed"] is True
    done = await run_done(client, run)
    assert done["status"] == "completed"
    stages = [m for m in events_of(client, run) if m["type"] == "stage"]
    final = next(
        m["text"] for m in stages if m["stage"] == "interception" and m["status"] == "done"
    )
    tokens = [
        m["text"]
        for m in events_of(client, run)
        if m["type"] == "token" and m["stage"] == "interception"
    ]
    assert "".join(tokens).strip() == final
    assert (client.gaps, client.duplicates) == (0, 0)
    assert client.replayed > 0
