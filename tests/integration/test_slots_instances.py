"""Two Atelier instances on one Redis share ONE ComfyUI (the simulator, slot count 1): runs
through both instances never have more than one prompt at the simulator at once, where each
instance alone would send its own (`state/slots.py`: a lease across instances per job; with
`state = "embedded"` this test sees 2). The two instances are two apps on real ports in this
process, each with its own Redis connections and instance id: what two processes would do,
without two interpreters' start-up in the suite's time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import generate_latest

from server.app import create_app
from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.handlers.ops import METRICS
from server.harness.comfyui_sim import ComfyUISimulator
from server.harness.demo import DemoBackends, DemoSpeed
from server.protocol import BackendKind
from server.settings import Settings
from server.wiring import load_definitions, pipeline_models
from tests.conftest import make_settings
from tests.pipeline_support import connected, run_done, start_run
from tests.state_support import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]  # fixtures

#: Fast simulators: the image stage (10 steps of 30 ms) is what the runs contend for.
SPEED = DemoSpeed(tokens_per_second=2000.0, first_token_delay=0.0, step_time=0.03, steps=10)
RUNS_PER_INSTANCE = 2


class AtTheSimulator:
    """The most prompts the simulator held at once (queued or running), seen at each submit."""

    def __init__(self, sim: ComfyUISimulator) -> None:
        self.most = 0
        self.submitted = 0
        state = sim.state
        put = state.put

        def counted(item: object) -> None:
            put(item)  # type: ignore[arg-type]
            self.submitted += 1
            self.most = max(self.most, state.queue_remaining)

        setattr(state, "put", counted)  # noqa: B010 (a method of a dataclass instance)


@pytest.fixture
async def simulators() -> AsyncIterator[DemoBackends]:
    catalog, _ = load_definitions(Settings())
    sims = DemoBackends(catalog, pipeline_models(Settings(), catalog), SPEED)
    await sims.start()
    yield sims
    await sims.stop()


async def test_two_instances_never_run_two_prompts_on_one_comfyui(
    redis_url: str,
    simulators: DemoBackends,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    seen = AtTheSimulator(simulators.comfyui)
    configs = simulators.configs()
    llm, comfyui = configs[BackendKind.LLM][0], configs[BackendKind.COMFYUI][0]
    assert isinstance(llm, LLMBackendConfig)
    assert isinstance(comfyui, ComfyUIBackendConfig)
    servers = [
        await aiohttp_server(
            create_app(
                make_settings(
                    state="redis",
                    redis_url=redis_url,
                    llm=[llm],
                    comfyui=[comfyui],
                    demo="off",
                    safety_level="adult",
                )
            )
        )
        for _ in range(2)
    ]
    clients = [await connected(server) for server in servers for _ in range(RUNS_PER_INSTANCE)]
    runs = [await start_run(client, "a fox in the snow") for client in clients]
    async with asyncio.timeout(60):
        done = await asyncio.gather(*(run_done(c, r) for c, r in zip(clients, runs, strict=True)))
    assert [m["status"] for m in done] == ["completed"] * len(clients)
    for client in clients:
        await client.close()
    assert seen.submitted == len(clients)
    assert seen.most == 1
    for server in servers:  # /metrics counts each instance's leases (one per job at least)
        scraped = generate_latest(server.app[METRICS]).decode()
        grants = re.search(r"^atelier_global_slots_grants_total (\S+)$", scraped, re.M)
        assert grants is not None
        assert float(grants.group(1)) >= RUNS_PER_INSTANCE
