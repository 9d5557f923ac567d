"""The simulator's fault modes against what real ComfyUI did (shared/reference/real-peers.md):
a fresh install with no LoRAs, and a stopped process (SIGSTOP) that keeps its port open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.engine.workflows import LoraSpec, inject_loras, load_workflows
from server.harness.comfyui_sim import ComfyUISimulator, ModelFiles, SimConfig
from server.harness.comfyui_sim.executor import ExecConfig
from tests.comfyui_support import TIMEOUT, WORKFLOWS, SimHarness, posted, transcript
from tests.pipeline_support import until


def captured_body(name: str, path: str) -> Any:
    (line,) = (
        line
        for line in transcript(name)
        if line["kind"] == "http" and line["request"]["path"] == path
    )
    return line["response"]["body"]


@pytest.fixture
async def bare(tmp_path: Path) -> AsyncIterator[SimHarness]:
    """A fresh install: empty `checkpoints` and `loras` folders."""
    models = ModelFiles(checkpoints=(), loras=())
    sim = ComfyUISimulator(SimConfig(models=models, root=tmp_path / "sim"))
    await sim.start()
    h = SimHarness(sim, aiohttp.ClientSession())
    yield h
    await h.close()


def lora_graph(lora: str) -> dict[str, Any]:
    """The shipped SDXL graph with one LoRA chained in, as stage 4 builds it."""
    graph = load_workflows(WORKFLOWS)["sdxl_base"].template
    return inject_loras(graph, [LoraSpec(lora, 0.8, 0.6)], available={lora}).graph


async def test_a_fresh_install_lists_empty_folders_as_captured(bare: SimHarness) -> None:
    captured = captured_body("misc.jsonl", "/object_info/CheckpointLoaderSimple")
    _, info = await bare.get("/object_info/CheckpointLoaderSimple")
    assert info["CheckpointLoaderSimple"]["input"] == captured["CheckpointLoaderSimple"]["input"]
    _, lora = await bare.get("/object_info/LoraLoader")
    assert lora["LoraLoader"]["input"]["required"]["lora_name"] == [
        [],
        {"tooltip": "The name of the LoRA."},
    ]
    assert await bare.get("/models/loras") == (200, [])


async def test_a_fresh_install_rejects_a_graph_naming_a_lora_it_lacks(bare: SimHarness) -> None:
    graph = lora_graph("bauhaus.safetensors")
    (lora_node,) = (nid for nid, node in graph.items() if node["class_type"] == "LoraLoader")
    status, body = await bare.post("/prompt", {"prompt": graph})
    assert status == 400
    (error,) = body["node_errors"][lora_node]["errors"]
    # As real-peers.md saw it: `Value not in list: lora_name: '…' not in []`.
    assert (error["message"], error["details"]) == (
        "Value not in list",
        "lora_name: 'bauhaus.safetensors' not in []",
    )


@pytest.fixture
async def stoppable(tmp_path: Path) -> AsyncIterator[SimHarness]:
    sim = ComfyUISimulator(
        SimConfig(execution=ExecConfig(step_time=0.002, steps=6), root=tmp_path / "sim")
    )
    await sim.start()
    h = SimHarness(sim, aiohttp.ClientSession())
    yield h
    await h.close()


async def test_a_stopped_instance_accepts_but_answers_nothing_until_it_resumes(
    stoppable: SimHarness,
) -> None:
    sim = stoppable.sim
    graph = posted(transcript("tiny_sd.jsonl"))[0]["request"]["json"]
    rec = await stoppable.record(graph["client_id"])
    held = sim.hold_after(2)
    _, body = await stoppable.post("/prompt", graph)
    pid = body["prompt_id"]
    await asyncio.wait_for(held.wait(), TIMEOUT)
    sim.freeze()
    sim.release()
    await until(lambda: sim.state.held["worker"] == 1)  # stopped at a step boundary
    steps = sim.executor.steps_done
    messages = len(rec.items)

    answer = asyncio.create_task(stoppable.get("/queue"))
    upgrade = asyncio.create_task(stoppable.session.ws_connect(stoppable.url + "/ws"))
    await until(lambda: sim.state.held["http"] == 2)  # both connections were accepted
    await rec.ws.ping()
    await until(lambda: sim.state.held["ws_in"] == 1)  # the ping is read by nobody
    assert not answer.done()
    assert not upgrade.done()
    assert (sim.executor.steps_done, len(rec.items)) == (steps, messages)

    sim.thaw()
    status, queue = await asyncio.wait_for(answer, TIMEOUT)
    assert status == 200
    assert [item[1] for item in queue["queue_running"]] == [pid]
    late = await asyncio.wait_for(upgrade, TIMEOUT)
    assert (await asyncio.wait_for(late.receive_json(), TIMEOUT))["type"] == "status"
    await rec.wait_done(pid)  # it carries on and renders the prompt to its end
    assert sim.state.history[pid]["status"]["status_str"] == "success"
    assert [kind for kind, p in sim.state.journal if p == pid] == ["queued", "started"]
    await late.close()
