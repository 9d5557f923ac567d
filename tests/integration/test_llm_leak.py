"""500 streams, each left at a random token in a random way, leave nothing behind: no stream
running in the simulator, no open upstream response in the client, no socket in CLOSE_WAIT."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from server.engine.llm import BaseLLMClient
from server.harness.llm_sim import default_responder, tokenize
from tests.llm_support import DIALECTS, chat, close_wait_sockets, eventually, running

STREAMS = 500
CONCURRENCY = 25
PROMPT = "paint " * 12
#: The simulator stops before its final event, so only the client can end a stream.
TOKENS = len(tokenize(default_responder([{"role": "user", "content": PROMPT}])))


async def consume(client: BaseLLMClient, stop_after: int, how: str) -> None:
    async with asyncio.timeout(10):
        async with client.stream_chat(chat(PROMPT)) as stream:
            seen = 0
            async for _ in stream:
                seen += 1
                if seen < stop_after:
                    continue
                if how == "break":
                    break
                if how == "raise":
                    raise LookupError("consumer failed")
                await asyncio.Future()  # parked: its task gets cancelled


async def leave(client: BaseLLMClient, rng: random.Random) -> None:
    stop_after, how = rng.randrange(TOKENS), rng.choice(("break", "raise", "cancel"))
    task = asyncio.create_task(consume(client, stop_after, how))
    if how == "cancel":
        for _ in range(rng.randrange(60)):  # a random point: headers, mid-read, parked
            await asyncio.sleep(0)
        task.cancel()
    with contextlib.suppress(LookupError, asyncio.CancelledError):
        await task


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_500_streams_left_at_random_tokens_leak_nothing(dialect: str) -> None:
    rng = random.Random(500)
    async with running(dialect, tokens_per_second=0, max_parallel=CONCURRENCY) as (sim, client):
        sim.faults.hang_after_tokens = TOKENS
        for start in range(0, STREAMS, CONCURRENCY):
            await asyncio.gather(*(leave(client, rng) for _ in range(start, start + CONCURRENCY)))
        async with asyncio.timeout(10):
            await sim.wait_idle()
        assert sim.active_streams == 0
        assert client.open_responses == 0
        assert sim.completed_streams == 0
        assert sim.cancelled_streams == sim.counters.requests
        ports = {sim.port}
        await eventually(lambda: not close_wait_sockets(ports))
        assert close_wait_sockets(ports) == []
