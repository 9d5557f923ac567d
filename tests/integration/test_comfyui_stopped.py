"""ComfyUIClient against a stopped ComfyUI (SIGSTOP: port open, nothing answered).

The request timeout is long on purpose: the runs must fail by `unreachable_timeout`, however
long a single request may hang, and every prompt given up on must be withdrawn once the
instance resumes, before the next prompt runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from server.engine.comfyui import ComfyUIClient, ComfyUIConfig, Failed, Finished, Progress
from server.engine.errors import BackendTimeout, BackendUnavailable
from server.harness.comfyui_sim import ComfyUISimulator
from tests.comfyui_support import TIMEOUT, sim_config
from tests.integration.test_comfyui_client import collect, graph
from tests.pipeline_support import until

#: Runs on a stopped instance fail by `unreachable_timeout`, however long a request may hang.
STOPPED = {
    "poll_interval": 0.05,
    "unreachable_timeout": 0.5,
    "request_timeout": 600.0,
    "ws_heartbeat": 600.0,
    "ws_reconnect_min": 0.01,
    "ws_reconnect_max": 0.05,
}
SILENT = "ComfyUI has not answered for more than 0.5 s (unreachable_timeout)"
SILENT_PATTERN = r"has not answered for more than 0\.5 s"


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[ComfyUISimulator]:
    simulator = ComfyUISimulator(sim_config(step_time=0.002, steps=6, tmp=tmp_path / "sim"))
    await simulator.start()
    yield simulator
    simulator.thaw()
    await simulator.close()


@pytest.fixture
async def client(sim: ComfyUISimulator) -> AsyncIterator[ComfyUIClient]:
    c = ComfyUIClient(ComfyUIConfig(url=sim.url, **STOPPED))
    await c.start()
    yield c
    await c.close()


def journal_of(sim: ComfyUISimulator, prompt_id: str) -> list[str]:
    return [kind for kind, pid in sim.state.journal if pid == prompt_id]


async def stop_while_rendering(sim: ComfyUISimulator) -> None:
    """Freeze the instance between two sampler steps of the running prompt."""
    held = sim.hold_after(2)
    await asyncio.wait_for(held.wait(), TIMEOUT)
    sim.freeze()
    sim.release()


async def test_a_stopped_instance_fails_the_run_and_its_prompt_is_interrupted_on_resume(
    client: ComfyUIClient, sim: ComfyUISimulator, tmp_path: Path
) -> None:
    async with client.run(graph(21), tmp_path / "a") as run:
        await stop_while_rendering(sim)
        events = await collect(run.events())
    failed = events[-1]
    assert failed == Failed(run.prompt_id, SILENT, "backend_unavailable", retryable=True)
    assert run.prompt_id in client.withdrawals
    # The next run in line fails at once, not after a bound of its own.
    with pytest.raises(BackendUnavailable, match=SILENT_PATTERN):
        async with client.run(graph(20), tmp_path / "queued"):
            pass
    assert journal_of(sim, run.prompt_id) == ["queued", "started"]

    sim.thaw()
    await until(lambda: len(client.withdrawals) == 0)  # it answered: withdrawn
    async with client.run(graph(22), tmp_path / "b") as after:
        later = await collect(after.events())
    assert isinstance(later[-1], Finished)
    assert sum(isinstance(e, Progress) for e in later) == 6
    # The orphan was interrupted before the next student's prompt started.
    journal = list(sim.state.journal)
    assert journal.index(("interrupted", run.prompt_id)) < journal.index(
        ("started", after.prompt_id)
    )
    assert sim.state.history[run.prompt_id]["status"]["messages"][-1][0] == (
        "execution_interrupted"
    )
    assert (len(client.withdrawals), client.withdrawals.withdrawn) == (0, 1)
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_a_cancel_the_stopped_instance_cannot_take_is_delivered_when_it_resumes(
    client: ComfyUIClient, sim: ComfyUISimulator, tmp_path: Path
) -> None:
    async with client.run(graph(23), tmp_path) as run:
        await stop_while_rendering(sim)
    # Leaving the block cancels; ComfyUI takes no request, the watchdog ends the wait.
    assert client.cancels == 1
    assert run.prompt_id in client.withdrawals
    assert journal_of(sim, run.prompt_id) == ["queued", "started"]

    sim.thaw()
    await asyncio.wait_for(sim.wait_until(lambda: run.prompt_id in sim.state.history), TIMEOUT)
    assert journal_of(sim, run.prompt_id) == ["queued", "started", "interrupted"]
    await until(lambda: len(client.withdrawals) == 0)
    assert (client.open_responses, client.active_jobs) == (0, 0)


async def test_a_submission_the_stopped_instance_never_answers_is_deleted_on_resume(
    client: ComfyUIClient, sim: ComfyUISimulator, tmp_path: Path
) -> None:
    await until(lambda: client.connected)
    sim.freeze()
    with pytest.raises(BackendTimeout, match=r"did not answer the submission within 0\.5 s"):
        async with client.run(graph(24), tmp_path):
            pass
    (abandoned,) = client.withdrawals.pending()
    assert client.active_jobs == 0

    sim.thaw()  # the submission it had accepted is queued now, and taken back at once
    await until(lambda: len(client.withdrawals) == 0)
    await asyncio.wait_for(sim.wait_until(lambda: not (sim.running or sim.queued)), TIMEOUT)
    # Deleted while pending, or interrupted if the worker took it first; never rendered.
    assert journal_of(sim, abandoned) in (
        ["queued", "deleted"],
        ["queued", "started", "interrupted"],
    )
    assert sim.state.completed == 0


async def test_a_prompt_on_the_withdraw_list_is_taken_back_before_the_next_submission(
    client: ComfyUIClient, sim: ComfyUISimulator, tmp_path: Path
) -> None:
    held = sim.hold_after(1)
    async with aiohttp.ClientSession() as http:
        payload = {"prompt": graph(25), "prompt_id": "abandoned-earlier"}
        async with http.post(sim.url + "/prompt", json=payload) as response:
            assert response.status == 200
    await asyncio.wait_for(held.wait(), TIMEOUT)
    await until(lambda: client.connected)
    client.withdrawals.add("abandoned-earlier", "left over from before")

    async with client.run(graph(26), tmp_path) as run:
        sim.release()
        events = await collect(run.events())
    assert isinstance(events[-1], Finished)
    journal = list(sim.state.journal)
    assert journal.index(("interrupted", "abandoned-earlier")) < journal.index(
        ("queued", run.prompt_id)
    )
