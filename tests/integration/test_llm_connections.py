"""The LLM client's connections over real sockets: a pooled connection the server closed after
its answer (llama-server) is retried once on a fresh one, the work pool holds one connection
per slot, and health checks never wait behind work."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.engine.backends.config import LLMBackendConfig
from server.engine.errors import BackendUnavailable
from server.engine.llm import create_llm_client
from tests.llm_support import chat, eventually, running

FAST: dict[str, Any] = {"tokens_per_second": 0}


async def test_back_to_back_streams_survive_a_server_that_hangs_up_after_each_answer() -> None:
    # As llama-server does: keep-alive promised, the socket closed shortly after the body.
    async with running("openai", close_after_stream=0.5, **FAST) as (sim, client):
        for _ in range(5):
            async with client.stream_chat(chat()) as stream:
                assert "".join([text async for text in stream]) == stream.result.text
        assert sim.counters.completed == 5
        assert sim.counters.hung_up == 5
        assert client.transport.stale_retries >= 2  # the pool did hand out closed connections
        assert client.open_responses == 0


async def test_a_lost_request_on_a_fresh_connection_is_not_retried() -> None:
    async with running("openai", **FAST) as (sim, client):
        sim.faults.drop_connections = True
        with pytest.raises(BackendUnavailable, match="lost before an answer"):
            await client.complete(chat())
        assert (client.transport.stale_retries, sim.counters.dropped) == (0, 1)


async def test_a_stale_connection_is_retried_once_and_a_second_loss_is_reported() -> None:
    async with running("openai", **FAST) as (sim, client):
        await client.complete(chat())  # leaves one connection in the pool
        sim.faults.drop_connections = True  # now every request dies before an answer
        with pytest.raises(BackendUnavailable, match="lost before an answer"):
            await client.complete(chat())
        assert (client.transport.stale_retries, sim.counters.dropped) == (1, 2)


async def test_the_work_pool_has_a_connection_for_every_slot() -> None:
    slots = 40  # more than the 32 connections a pool used to have
    async with running("openai", max_parallel=64, **FAST) as (sim, _):
        sim.faults.hang_after_tokens = 1
        client = create_llm_client(
            LLMBackendConfig(name="big", url=sim.url, dialect="openai", slots=slots)
        )
        streams = [client.stream_chat(chat()) for _ in range(slots)]
        opening = [asyncio.ensure_future(stream.__aenter__()) for stream in streams]
        try:
            await eventually(lambda: sim.counters.generating == slots)
        finally:
            for task in opening:
                task.cancel()
            await asyncio.gather(*opening, return_exceptions=True)
            for stream in streams:
                await stream.__aexit__(None, None, None)
            await client.close()


async def test_a_health_check_does_not_wait_behind_work_holding_every_connection() -> None:
    async with running("openai", client={"max_connections": 1}, **FAST) as (sim, client):
        sim.faults.hang_after_tokens = 1
        async with client.stream_chat(chat()) as stream:  # holds the only work connection
            await anext(aiter(stream))
            async with asyncio.timeout(5):
                assert await client.health() is True


async def test_streams_waiting_for_their_first_token_are_counted_until_it_comes() -> None:
    async with running("openai", first_token_delay=30, **FAST) as (sim, client):
        waiting = asyncio.ensure_future(client.complete(chat()))
        await eventually(lambda: sim.counters.generating == 1)
        assert client.awaiting_first_token == 1  # the server works on it: proof of life
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert client.awaiting_first_token == 0
        sim.faults.drop_connections = True
        with pytest.raises(BackendUnavailable):
            await client.complete(chat())
        assert client.awaiting_first_token == 0


async def test_a_stream_stops_waiting_at_its_first_token() -> None:
    async with running("ollama", **FAST) as (_, client):
        async with client.stream_chat(chat()) as stream:
            await anext(aiter(stream))
            assert client.awaiting_first_token == 0
        assert client.last_delivery is not None


async def test_a_chat_waits_for_a_check_under_way() -> None:
    # llama-cpp-python's lock is not fair: a chat sent during a check could get it first, and
    # the waiting check would then cut the answer short. So the chat waits (milliseconds).
    settings: dict[str, Any] = {"flavor": "llama-cpp-python", "models_wait_for_generation": True}
    async with running("openai", **settings, **FAST) as (sim, client):
        async with sim.gate.slot():  # the server is busy with someone else's work
            check = asyncio.ensure_future(client.health())
            await eventually(lambda: sim.counters.info_requests == 1)
            chat_done = asyncio.ensure_future(client.complete(chat()))
            await eventually(lambda: client.transport.held_for_checks == 1)
            assert sim.counters.requests == 0  # the chat has not been sent
        assert await check is True
        assert (await chat_done).text
        assert client.transport.held_for_checks == 0
