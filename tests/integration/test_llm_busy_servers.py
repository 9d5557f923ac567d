"""The whole server against llama.cpp servers' habits under a class's load, over real sockets:
llama-server closing the keep-alive connection after each streamed answer, llama-cpp-python
answering its model list only after the answer it is streaming; and the interception config's
sampling reaching the wire in both dialects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.instances import LLMInstance
from server.engine.backends.kinds import LLM
from server.harness.client import AtelierClient
from server.harness.llm_sim import OllamaSimulator, OpenAISimulator, SimSettings, SimulatorBase
from server.harness.llm_sim.common import Responder, default_responder
from server.protocol import BackendState
from tests.backends_support import StartAtelier, backends_of
from tests.pipeline_support import connected, run_done, start_run, until

pytest_plugins = ["tests.backends_support"]


def long_answer(messages: Sequence[dict[str, str]]) -> str:
    return " ".join([default_responder(messages)] * 6)  # 48 tokens


@asynccontextmanager
async def simulator(
    kind: str, responder: Responder = default_responder, **kw: Any
) -> AsyncIterator[SimulatorBase]:
    settings = SimSettings(accept_any_model=True, **kw)
    sim: SimulatorBase = (
        OllamaSimulator(settings, responder)
        if kind == "ollama"
        else OpenAISimulator(settings, responder)
    )
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@asynccontextmanager
async def one_at_a_time_server(
    start_atelier: StartAtelier,
    comfyui_sim: str,
    responder: Responder = default_responder,
    **settings: Any,
) -> AsyncIterator[tuple[SimulatorBase, TestServer]]:
    """Atelier whose only LLM is like llama-cpp-python with its defaults (one generation at a
    time, its model list behind the generation lock, a waiting request cuts the answer being
    streamed short), checked every 0.1 s with a 0.3 s bound."""
    async with simulator(
        "openai",
        responder,
        flavor="llama-cpp-python",
        max_parallel=1,
        models_wait_for_generation=True,
        interrupt_requests=True,
        **settings,
    ) as sim:
        server = await start_atelier(
            llm=[LLMBackendConfig(name="python", url=sim.url, dialect="openai", slots=1)],
            comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
            health_interval=0.1,
            health_timeout=0.3,
        )
        yield sim, server


@asynccontextmanager
async def long_answers(
    start_atelier: StartAtelier, comfyui_sim: str
) -> AsyncIterator[tuple[SimulatorBase, TestServer, LLMInstance]]:
    """The one-at-a-time server answering in 48 tokens at 20 tokens/s (2.4 s an answer)."""
    async with one_at_a_time_server(
        start_atelier, comfyui_sim, long_answer, tokens_per_second=20
    ) as (sim, server):
        yield sim, server, only_llm(server)


def only_llm(server: TestServer) -> LLMInstance:
    (instance,) = backends_of(server).instances(LLM)
    return instance


async def runs_complete(clients: Sequence[AtelierClient], prompt: str) -> list[str]:
    runs = [await start_run(client, prompt) for client in clients]
    done = [await run_done(client, run) for client, run in zip(clients, runs, strict=True)]
    return [str(d["status"]) for d in done]


async def test_a_burst_on_a_server_that_hangs_up_after_each_answer_loses_no_run(
    start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    # llama-server keeps promising keep-alive and closes the socket after every answer; five
    # students at once on its one slot each take the connection the previous answer left.
    async with simulator("openai", tokens_per_second=0, close_after_stream=0.5) as sim:
        server = await start_atelier(
            llm=[LLMBackendConfig(name="llama", url=sim.url, dialect="openai", slots=1)],
            comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
        )
        llm = only_llm(server)
        changes = llm.health.changes
        clients = [await connected(server) for _ in range(5)]
        assert await runs_complete(clients, "a red fox in the snow") == ["completed"] * 5
        assert sim.counters.hung_up == 5
        assert llm.client.transport.stale_retries >= 2  # the closed connections were met
        assert (llm.health.changes, llm.health.state) == (changes, BackendState.HEALTHY)
        assert (llm.breaker.failures, backends_of(server).failures) == (0, 0)
        for client in clients:
            await client.close()


async def test_a_long_answer_on_a_one_at_a_time_server_keeps_it_healthy_and_the_next_run_waits(
    start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    # llama-cpp-python answers /v1/models only after the answer it is streaming (a check would
    # time out) and cuts that answer short for it: the tokens arriving are proof of life, and
    # no check is sent over HTTP while they do.
    async with long_answers(start_atelier, comfyui_sim) as (sim, server, llm):
        changes = llm.health.changes
        first, second = await connected(server), await connected(server)
        await start_run(first, "a red fox in the snow")
        # Half the answer (1 s: ten check intervals), then a second student.
        readiness = await readiness_during(server, first, tokens=20)
        asked = sim.counters.info_requests
        second_run = await start_run(second, "a blue whale at night")
        readiness += await readiness_during(server, first)
        assert sim.counters.info_requests == asked  # the second run took over the slot
        assert (await run_done(second, second_run, timeout=60))["status"] == "completed"
        assert set(readiness) == {200}
        assert len(readiness) >= 40  # one per token of the first answer
        assert (sim.counters.interrupted, sim.counters.completed) == (0, 2)
        assert llm.health.entered[BackendState.UNHEALTHY] == 0
        assert llm.health.changes == changes
        await first.close()
        await second.close()


async def readiness_during(
    server: TestServer, client: AtelierClient, tokens: int | None = None
) -> list[int]:
    """/readyz's status at each interception token the client receives: for `tokens` tokens,
    or until its run ends (completed)."""
    readiness: list[int] = []
    async with aiohttp.ClientSession() as http:
        while len(readiness) != tokens:
            message = await client.recv()
            if message["type"] == "run.done":
                assert message["status"] == "completed"
                break
            if message["type"] == "token" and message["stage"] == "interception":
                async with http.get(server.make_url("/readyz")) as response:
                    readiness.append(response.status)
    return readiness


async def test_a_long_wait_for_the_first_token_keeps_the_server_healthy(
    start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    # A cold or loaded CPU server evaluates the meta-prompt for seconds before its first
    # token (12 s in a real llama-cpp-python trial); the checks meanwhile time out.
    async with one_at_a_time_server(
        start_atelier, comfyui_sim, tokens_per_second=0, first_token_delay=1.5
    ) as (sim, server):
        llm = only_llm(server)
        client = await connected(server)
        assert await runs_complete([client], "a red fox in the snow") == ["completed"]
        assert (sim.counters.interrupted, sim.counters.completed) == (0, 1)
        assert llm.health.entered[BackendState.UNHEALTHY] == 0
        assert llm.client.awaiting_first_token == 0
        await client.close()


async def test_a_refused_connection_counts_even_while_the_server_streams(
    start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    async with long_answers(start_atelier, comfyui_sim) as (sim, server, llm):
        client = await connected(server)
        run = await start_run(client, "a red fox in the snow")
        await client.expect(lambda m: m["type"] == "token" and m["run"] == run)
        await sim.refuse_connections()  # the answer goes on over its open connection
        await until(lambda: llm.health.state is BackendState.DOWN)
        assert sim.counters.completed == 0
        await client.close()


async def test_a_slow_check_with_nothing_streaming_still_marks_the_instance_unhealthy(
    start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    async with one_at_a_time_server(start_atelier, comfyui_sim) as (sim, server):
        llm = only_llm(server)
        async with sim.gate.slot():  # busy with something that streams nothing to us
            await until(lambda: llm.health.state is BackendState.UNHEALTHY)
        await until(lambda: llm.health.healthy)


@pytest.mark.parametrize("dialect", ["ollama", "openai"])
async def test_the_perspectives_top_p_reaches_the_server(
    dialect: str, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    async with simulator(dialect, tokens_per_second=0) as sim:
        server = await start_atelier(
            llm=[LLMBackendConfig(name="gpu", url=sim.url, dialect=dialect)],
            comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
        )
        client = await connected(server)
        assert await runs_complete([client], "a red fox in the snow") == ["completed"]
        chat = sim.last_chat
        assert chat is not None
        sampling = chat["options"] if dialect == "ollama" else chat
        assert sampling["top_p"] == 0.9  # workflows/interception/bauhaus.json
        assert sampling["temperature"] == 0.7
        await client.close()
