"""Whole runs against ComfyUI as it really behaves (shared/reference/real-peers.md): a fresh
install with no LoRAs, a stopped process, and a graph ComfyUI has cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import COMFYUI
from server.harness.comfyui_sim import ComfyUISimulator, ModelFiles, SimConfig
from server.harness.comfyui_sim.executor import ExecConfig
from server.harness.demo import DemoSpeed
from tests.backends_support import StartAtelier, state_becomes
from tests.comfyui_support import TIMEOUT
from tests.integration.test_comfyui_stopped import SILENT, STOPPED
from tests.pipeline_support import (
    StartPipeline,
    connected,
    events_of,
    pipeline_of,
    record_of,
    run_done,
    start_run,
)

pytest_plugins = ["tests.backends_support"]


def generation_started(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        m
        for m in events
        if m["type"] == "stage" and m["stage"] == "generation" and m["status"] == "started"
    )


@pytest.fixture
async def fresh_install(tmp_path: Path) -> AsyncIterator[ComfyUISimulator]:
    """A ComfyUI whose `models/loras` is empty, as after a fresh install."""
    sim = ComfyUISimulator(
        SimConfig(
            execution=ExecConfig(step_time=0.002, steps=3),
            models=ModelFiles(loras=()),
            root=tmp_path / "sim",
        )
    )
    await sim.start()
    yield sim
    await sim.close()


async def atelier_on(
    start_atelier: StartAtelier, llm: str, sim: ComfyUISimulator, **comfyui: Any
) -> TestServer:
    return await start_atelier(
        llm=[LLMBackendConfig(name="llm", url=llm)],
        comfyui=[ComfyUIBackendConfig(name="img", url=sim.url, **comfyui)],
    )


async def test_a_perspective_with_loras_renders_on_a_comfyui_without_any(
    start_atelier: StartAtelier, ollama_sim: str, fresh_install: ComfyUISimulator
) -> None:
    server = await atelier_on(start_atelier, ollama_sim, fresh_install)
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow", "bauhaus")
    done = await run_done(client, run)
    assert done["status"] == "completed", done
    detail = generation_started(events_of(client, run))["detail"]
    assert detail["loras"] == []
    assert detail["warnings"] == [
        "LoRA 'bauhaus_style_v1.safetensors' is not installed on this ComfyUI instance; skipped"
    ]
    assert [m for m in events_of(client, run) if m["type"] == "output"]
    await client.close()


@pytest.fixture
async def stoppable(tmp_path: Path) -> AsyncIterator[ComfyUISimulator]:
    sim = ComfyUISimulator(
        SimConfig(execution=ExecConfig(step_time=0.002, steps=6), root=tmp_path / "sim")
    )
    await sim.start()
    yield sim
    sim.thaw()
    await sim.close()


async def test_a_stopped_comfyui_fails_the_run_in_time_and_never_renders_it_for_the_next(
    start_atelier: StartAtelier, ollama_sim: str, stoppable: ComfyUISimulator
) -> None:
    server = await atelier_on(start_atelier, ollama_sim, stoppable, **STOPPED)
    client = await connected(server)
    held = stoppable.hold_after(2)
    first = await start_run(client, "a red fox in the snow", "passthrough")
    await asyncio.wait_for(held.wait(), TIMEOUT)
    stoppable.freeze()  # SIGSTOP between two sampler steps
    stoppable.release()

    done = await run_done(client, first)
    assert done["status"] == "failed"
    assert done["reason"] == (
        "Something went wrong while making the picture: "
        "the picture machine cannot be reached right now"
    )
    error = record_of(server, first)["error"]
    assert SILENT in error
    (orphan,) = (pid for kind, pid in stoppable.state.journal if kind == "started")

    stoppable.thaw()  # SIGCONT: it would carry on rendering the abandoned prompt
    await state_becomes(server, "comfyui:img", "healthy")
    second = await start_run(client, "a blue bird", "passthrough")
    assert (await run_done(client, second))["status"] == "completed"
    journal = list(stoppable.state.journal)
    started = [pid for kind, pid in journal if kind == "started"]
    assert started[0] == orphan
    assert journal.index(("interrupted", orphan)) < journal.index(("started", started[1]))
    assert stoppable.state.history[orphan]["status"]["status_str"] == "error"
    await client.close()


async def test_the_same_prompt_and_seed_again_completes_from_comfyuis_cache(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult", speed=DemoSpeed(0, 0, 0.002, 4))
    client = await connected(server)
    runs = []
    for _ in range(2):
        run = await start_run(client, "a red fox in the snow", "passthrough", seed=7)
        assert (await run_done(client, run))["status"] == "completed"
        runs.append(events_of(client, run))
    first, again = ([m["type"] for m in events] for events in runs)
    assert first.count("progress") == 4
    # Real ComfyUI sends no progress at all for a cached graph; the run must not wait for any.
    assert again.count("progress") == 0
    assert again.count("output") == 1
    await client.close()


async def test_loras_of_an_instance_not_yet_asked_are_asked_for_before_the_render(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="adult")
    (instance,) = pipeline_of(server).services.backends.instances(COMFYUI)
    instance.capabilities = None  # its /object_info answer at start-up was lost
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow", "bauhaus")
    assert (await run_done(client, run))["status"] == "completed"
    detail = generation_started(events_of(client, run))["detail"]
    assert (detail["loras"], detail["warnings"]) == (["bauhaus_style_v1.safetensors"], [])
    assert instance.capabilities is not None
    await client.close()
