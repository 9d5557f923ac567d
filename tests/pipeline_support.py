"""Starting the whole server (pipeline + in-process simulators) for end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.engine.pipeline import Pipeline
from server.handlers.keys import PIPELINE
from server.harness.client import AtelierClient, Message
from server.harness.demo import DemoBackends, DemoSpeed
from server.harness.llm_sim.common import Responder
from server.wiring import DEMO, DemoOptions
from tests.conftest import make_settings, ws_url

#: Fast simulators: unthrottled tokens, short image steps.
FAST = DemoSpeed(tokens_per_second=0, first_token_delay=0, step_time=0.005, steps=4)

StartPipeline = Callable[..., Awaitable[TestServer]]


@pytest.fixture
def start_pipeline(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]], tmp_path: Path
) -> StartPipeline:
    async def start(
        *, speed: DemoSpeed = FAST, responder: Responder | None = None, **overrides: Any
    ) -> TestServer:
        overrides.setdefault("data_dir", tmp_path / "data")
        settings = make_settings(demo="on", **overrides)
        app = create_app(settings, demo_options=DemoOptions(speed, responder))
        return await aiohttp_server(app)

    return start


def demo_of(server: TestServer) -> DemoBackends:
    return server.app[DEMO]


def pipeline_of(server: TestServer) -> Pipeline:
    return server.app[PIPELINE]


async def connected(server: TestServer) -> AtelierClient:
    client = AtelierClient(ws_url(server))
    await client.connect()
    return client


async def start_run(
    client: AtelierClient, prompt: str, interception: str = "bauhaus", **fields: Any
) -> str:
    await client.send(
        {"type": "run.start", "prompt": prompt, "interception": interception, **fields}
    )
    accepted = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    assert accepted["type"] == "run.accepted", accepted
    return str(accepted["run"])


async def run_done(client: AtelierClient, run: str, timeout: float = 30) -> Message:
    return await client.expect(
        lambda m: m["type"] == "run.done" and m["run"] == run, timeout=timeout
    )


def events_of(client: AtelierClient, run: str) -> list[Message]:
    return [m for m in client.messages if m.get("run") == run]


def stage_trail(client: AtelierClient, run: str) -> list[tuple[str, str]]:
    return [(m["stage"], m["status"]) for m in events_of(client, run) if m["type"] == "stage"]


def assert_nothing_left(server: TestServer) -> None:
    """Every upstream response closed, every slot released, every run ended."""
    services = pipeline_of(server).services
    demo = demo_of(server)
    assert services.backends.open_responses == 0
    assert services.scheduler.held_slots == 0
    assert pipeline_of(server).active_runs == 0
    assert demo.llm.active_streams == 0
    assert (demo.comfyui.running, demo.comfyui.queued) == (0, 0)


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition another task brings about; bounded, never a fixed sleep.

    The conditions are counters of simulators and the scheduler, which have no event to
    await, so this polls; it returns the moment the condition holds and fails at `timeout`.
    """
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - see above: there is no event to wait on
            await asyncio.sleep(0.005)


def record_of(server: TestServer, run: str) -> dict[str, Any]:
    """The run's record on disk (written before its run.done is sent)."""
    path = pipeline_of(server).services.records.run_dir(run) / "record.json"
    record: dict[str, Any] = orjson.loads(path.read_bytes())
    return record
