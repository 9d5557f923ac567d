"""ComfyUIClient over real sockets against the simulator: renders, cancels, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.engine.comfyui import (
    ComfyUIClient,
    ComfyUIConfig,
    Failed,
    Finished,
    JobEvent,
    Output,
    Preview,
    Progress,
    Queued,
    Started,
)
from server.engine.errors import BackendRejected, BackendUnavailable
from server.engine.workflows import Graph, load_workflows
from server.engine.workflows.mapping import inject_parameters, resolve_values
from server.harness.comfyui_sim import ComfyUISimulator
from tests.comfyui_support import TIMEOUT, WORKFLOWS, sim_config

FAST = {
    "poll_interval": 0.05,
    "connect_timeout": 2.0,
    "ws_reconnect_min": 0.01,
    "ws_reconnect_max": 0.05,
    "interrupt_wait": 5.0,
    "unreachable_timeout": 0.5,
}


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[ComfyUISimulator]:
    simulator = ComfyUISimulator(sim_config(step_time=0.002, steps=6, tmp=tmp_path / "sim"))
    await simulator.start()
    yield simulator
    await simulator.close()


async def _client(sim: ComfyUISimulator, **overrides: float) -> ComfyUIClient:
    client = ComfyUIClient(ComfyUIConfig(url=sim.url, **{**FAST, **overrides}))
    await client.start()
    return client


@pytest.fixture
async def client(sim: ComfyUISimulator) -> AsyncIterator[ComfyUIClient]:
    c = await _client(sim, preview_rate=1e6)
    yield c
    await c.close()


def graph(seed: int, workflow: str = "sdxl_base", prompt: str = "a fox") -> Graph:
    wf = load_workflows(WORKFLOWS)[workflow]
    values = resolve_values(
        wf.config.parameters, {"prompt": prompt, "seed": seed, "width": 512, "height": 512}
    )
    return inject_parameters(wf.template, wf.config.parameters, values)


async def collect(events: AsyncIterator[JobEvent]) -> list[JobEvent]:
    async with asyncio.timeout(TIMEOUT):
        return [event async for event in events]


async def test_full_render_streams_progress_previews_and_its_own_output(
    client: ComfyUIClient,
    tmp_path: Path,
) -> None:
    async with client.run(graph(1), tmp_path / "run") as run:
        events = await collect(run.events())
    kinds = [type(e) for e in events]
    assert kinds[:2] == [Queued, Started]
    assert kinds[-2:] == [Output, Finished]
    assert [(e.value, e.max) for e in events if isinstance(e, Progress)] == [
        (i, 6) for i in range(1, 7)
    ]
    previews = [e for e in events if isinstance(e, Preview)]
    assert len(previews) == 6
    assert previews[0].mime == "image/png"
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.prompt_id == run.prompt_id
    (path,) = finished.outputs
    assert path.parent == tmp_path / "run"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_previews_are_throttled_per_run(sim: ComfyUISimulator, tmp_path: Path) -> None:
    client = await _client(sim, preview_rate=1e-6)
    try:
        async with client.run(graph(2), tmp_path) as run:
            events = await collect(run.events())
        assert sum(isinstance(e, Preview) for e in events) == 1
        assert run.dropped_previews == 5
    finally:
        await client.close()


async def test_cancel_while_queued_deletes_the_prompt_from_comfyui(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    held = sim.hold_after(1)
    async with client.run(graph(3), tmp_path / "a") as first:
        await asyncio.wait_for(held.wait(), TIMEOUT)
        async with client.run(graph(4), tmp_path / "b") as second:
            event = await anext(second.events())
            assert event == Queued(second.prompt_id, 1)
        assert sim.deleted == 1
        assert sim.queued == 0
        sim.release()
        events = await collect(first.events())
    assert isinstance(events[-1], Finished)
    assert second.prompt_id not in sim.state.history
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_cancel_while_running_interrupts_and_waits_for_the_end(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    held = sim.hold_after(2)

    async def leave_early() -> None:
        async with client.run(graph(5), tmp_path) as run:
            async for event in run.events():
                if isinstance(event, Progress) and event.value == 2:
                    break
        assert run.prompt_id in sim.state.history  # the end was awaited

    task = asyncio.create_task(leave_early())
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await asyncio.wait_for(sim.state.interrupt_requested.wait(), TIMEOUT)
    sim.release()
    await asyncio.wait_for(task, TIMEOUT)
    assert sim.interrupted == 1
    (entry,) = sim.state.history.values()
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert client.cancels == 1
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_websocket_drop_mid_run_completes_through_history(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    held = sim.hold_after(2)
    async with client.run(graph(6), tmp_path) as run:
        await asyncio.wait_for(held.wait(), TIMEOUT)
        await sim.drop_websockets()
        sim.release()
        events = await collect(run.events())
    assert isinstance(events[-1], Finished)
    assert len(events[-1].outputs) == 1
    assert client.ws_connections >= 2  # it reconnected, under a fresh client id
    async with client.run(graph(7), tmp_path / "next") as run:
        events = await collect(run.events())
    assert any(isinstance(e, Progress) for e in events)
    assert isinstance(events[-1], Finished)


async def test_instance_restart_mid_run_fails_the_run_clearly(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    held = sim.hold_after(1)
    async with client.run(graph(8), tmp_path) as run:
        await asyncio.wait_for(held.wait(), TIMEOUT)
        await sim.crash()
        await sim.restart()
        events = await collect(run.events())
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.code == "backend_prompt_lost"
    assert failed.retryable
    assert "restarted" in failed.message
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_instance_that_stays_down_fails_the_run_after_the_bound(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    held = sim.hold_after(1)
    async with client.run(graph(9), tmp_path) as run:
        await asyncio.wait_for(held.wait(), TIMEOUT)
        await sim.crash()
        events = await collect(run.events())
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.code == "backend_unavailable"
    with pytest.raises(BackendUnavailable):
        async with client.run(graph(10), tmp_path):
            pass


async def test_two_runs_at_once_each_get_their_own_outputs(
    client: ComfyUIClient,
    tmp_path: Path,
) -> None:
    async def render(seed: int) -> tuple[str, list[JobEvent]]:
        async with client.run(graph(seed, prompt=f"seed {seed}"), tmp_path / str(seed)) as run:
            return run.prompt_id, await collect(run.events())

    (pid_a, a), (pid_b, b) = await asyncio.gather(render(11), render(12))
    assert pid_a != pid_b
    for seed, events in ((11, a), (12, b)):
        finished = events[-1]
        assert isinstance(finished, Finished)
        (path,) = finished.outputs
        assert path.parent == tmp_path / str(seed)
        assert (
            f'"seed": {seed}'.encode() in path.read_bytes()
            or f'"seed":{seed}'.encode() in path.read_bytes()
        )
        assert sum(isinstance(e, Progress) for e in events) == 6


async def test_invalid_graph_is_rejected_with_readable_node_errors(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    bad = graph(13)
    bad["5"]["inputs"]["steps"] = 0
    with pytest.raises(BackendRejected) as info:
        async with client.run(bad, tmp_path):
            pass
    assert "Node 5 (KSampler): steps: Value 0 smaller than min of 1" in str(info.value)
    assert client.active_jobs == 0


async def test_partly_valid_graph_is_a_failure_and_is_withdrawn(
    client: ComfyUIClient,
    sim: ComfyUISimulator,
    tmp_path: Path,
) -> None:
    partial = graph(14)
    partial["90"] = {"class_type": "ImageInvert", "inputs": {}}
    partial["91"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["90", 0], "filename_prefix": "x"},
    }
    with pytest.raises(BackendRejected) as info:
        async with client.run(partial, tmp_path):
            pass
    assert "Node 90 (ImageInvert): image: Required input is missing" in str(info.value)
    # withdrawn: deleted if still pending, else interrupted
    await asyncio.wait_for(sim.wait_until(lambda: not (sim.running or sim.queued)), TIMEOUT)
    assert sim.deleted + sim.interrupted == 1
    assert all(e["status"]["status_str"] == "error" for e in sim.state.history.values())


async def test_execution_error_ends_the_run_with_the_node_and_exception(
    client: ComfyUIClient,
    tmp_path: Path,
) -> None:
    broken = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 32, "height": 32, "batch_size": 1, "color": 0},
        },
        "2": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "broken.pth"}},
        "3": {
            "class_type": "ImageUpscaleWithModel",
            "inputs": {"upscale_model": ["2", 0], "image": ["1", 0]},
        },
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "e"}},
    }
    async with client.run(broken, tmp_path) as run:
        events = await collect(run.events())
    assert events[-1] == Failed(
        run.prompt_id,
        "Node 2 (UpscaleModelLoader) failed: IndexError: pop from empty list",
        "backend_execution_error",
    )


async def test_model_free_workflow_renders_on_a_bare_instance(
    client: ComfyUIClient,
    tmp_path: Path,
) -> None:
    async with client.run(graph(15, workflow="model_free"), tmp_path) as run:
        events = await collect(run.events())
    assert isinstance(events[-1], Finished)


async def test_upload_and_capabilities(client: ComfyUIClient) -> None:
    from server.harness.comfyui_sim.png import gradient_png

    image = gradient_png(4, 4, "upload")
    uploaded = await client.upload_image(image, "pupil.png", subfolder="runs")
    assert uploaded.reference == "runs/pupil.png"
    with pytest.raises(BackendRejected):
        await client.upload_image(b"not an image", "x.png")
    with pytest.raises(BackendRejected):
        await client.upload_image(image + bytes(client.config.max_upload_bytes), "big.png")
    caps = await client.capabilities()
    assert "sd_xl_base_1.0.safetensors" in (caps.checkpoints or ())  # None (unknown) fails too
    assert "watercolor.safetensors" in (caps.loras or ())
    assert "LoraLoader" in caps.node_classes
    stats = await client.system_stats()
    assert stats["system"]["comfyui_version"] == "0.3.64"
