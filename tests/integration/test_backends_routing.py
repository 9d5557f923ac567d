"""Routing across several instances with simulator processes: least-loaded among those with
the model; a ComfyUI instance killed mid-render and the prompt resubmitted on the second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import orjson
import pytest

from server.engine.backends.config import ComfyUIBackendConfig, LifecycleSettings, LLMBackendConfig
from server.engine.backends.kinds import LLM
from server.engine.backends.registry import Backends, LoadOf
from server.engine.errors import ModelNotFound
from server.engine.records import RECORD_NAME
from server.engine.scheduler import Scheduler, SchedulerSettings
from server.protocol import BackendKind
from tests.backends_support import Spawn, StartAtelier, backends_of, state_becomes
from tests.llm_support import chat
from tests.pipeline_support import connected, events_of, pipeline_of, run_done, start_run

pytest_plugins = ["tests.backends_support"]


def load_of(scheduler: Scheduler) -> LoadOf:
    def load(pool: str) -> float:  # the pipeline's measure: (running + waiting) / slots
        snap = scheduler.snapshot().pools[pool]
        return (snap.running + snap.waiting) / snap.slots

    return load


@asynccontextmanager
async def busy(scheduler: Scheduler, pool: str, count: int) -> AsyncIterator[None]:
    """Hold `count` slots of `pool`, as runs in the middle of a stage would."""
    async with AsyncExitStack() as stack:
        for n in range(count):
            ticket = scheduler.admit(f"busy-{pool}-{n}", f"s-{pool}-{n}")
            await stack.enter_async_context(ticket)
            await stack.enter_async_context(ticket.slot(pool, "interception"))
        yield


async def test_work_goes_to_the_least_loaded_instance_that_has_the_model(spawn: Spawn) -> None:
    small, big = await asyncio.gather(
        spawn("ollama", "--tokens-per-second", "0"), spawn("ollama", "--tokens-per-second", "0")
    )
    backends = Backends(
        {
            BackendKind.LLM: [
                LLMBackendConfig(name="small", url=small.url, slots=2, models=("llama3.2",)),
                LLMBackendConfig(name="big", url=big.url, slots=2, models=("llama3.2", "qwen3:4b")),
            ]
        },
        LifecycleSettings(health_interval=60),
    )
    await backends.start()
    scheduler = Scheduler(SchedulerSettings(pools=backends.pools(), queue_update_interval=0))
    load = load_of(scheduler)
    try:
        # Idle: ties keep the configured order.
        assert (await backends.acquire(LLM, "llama3.2", load)).name == "small"
        async with busy(scheduler, "llm:small", 1):
            assert (await backends.acquire(LLM, "llama3.2", load)).name == "big"
            async with busy(scheduler, "llm:big", 2):
                # big is fuller (2/2 against 1/2), so llama3.2 goes back to small ...
                assert (await backends.acquire(LLM, "llama3.2", load)).name == "small"
                # ... but only big has qwen3:4b, however loaded it is.
                chosen = await backends.acquire(LLM, "qwen3:4b", load)
                assert chosen.name == "big"
        result = await chosen.client.complete(chat(model="qwen3:4b", think=False))
        assert result.text
        with pytest.raises(ModelNotFound):
            await backends.acquire(LLM, "mistral", load)
    finally:
        scheduler.close()
        await backends.close()


async def test_comfyui_killed_mid_render_the_prompt_is_resubmitted_on_the_second(
    spawn: Spawn, start_atelier: StartAtelier, ollama_sim: str
) -> None:
    slow, fast = await asyncio.gather(
        spawn("comfyui", "--step-time", "0.1", "--steps", "40"),
        spawn("comfyui", "--step-time", "0.005", "--steps", "3"),
    )
    server = await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=ollama_sim)],
        comfyui=[
            ComfyUIBackendConfig(name="first", url=slow.url),
            ComfyUIBackendConfig(name="second", url=fast.url),
        ],
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    await client.expect(lambda m: m["type"] == "progress" and m["run"] == run)
    slow.kill()

    done = await run_done(client, run)
    assert done["status"] == "completed", done
    outputs = [m for m in events_of(client, run) if m["type"] == "output"]
    assert len(outputs) == 1
    generation = [
        m for m in events_of(client, run) if m["type"] == "stage" and m["stage"] == "generation"
    ]
    assert [m["status"] for m in generation] == ["started", "done"]
    records = pipeline_of(server).services.records
    record = orjson.loads((records.run_dir(run) / RECORD_NAME).read_bytes())
    assert record["models"]["generation"].endswith("@second")
    await state_becomes(server, "comfyui:first", "down")
    backends = backends_of(server)
    assert backends.retries == 1
    assert backends.open_responses == 0
    await client.close()
