"""Both clients against both simulators over real sockets: whole streams, every error case,
timeouts, and leaving a stream early in every way a consumer can."""

from __future__ import annotations

import asyncio
import random
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from server.engine.errors import (
    BackendBusy,
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
    InvalidState,
    ModelNotFound,
)
from server.engine.llm import (
    BaseLLMClient,
    ChatMessage,
    ChatRequest,
    DeltaKind,
    LLMInstanceConfig,
    create_llm_client,
)
from server.engine.llm.errors import BackendAuthFailed, BackendServerError
from server.harness.llm_sim import SimulatorBase
from tests.llm_support import DIALECTS, chat, eventually, running

ANSWER = "Simulated answer about a fox in the snow."
ANSWER_TOKENS = 8
ROOT = Path(__file__).resolve().parents[2]
FAST: dict[str, Any] = {"tokens_per_second": 0}

pytestmark = pytest.mark.parametrize("dialect", DIALECTS)


async def test_full_stream_yields_the_answer_and_a_result(dialect: str) -> None:
    async with running(dialect, **FAST) as (sim, client):
        async with client.stream_chat(chat()) as stream:
            deltas = [d async for d in stream]
        assert "".join(deltas) == ANSWER == stream.result.text
        result = stream.result
        assert (result.finish_reason, result.completion_tokens) == ("stop", len(deltas))
        assert result.prompt_tokens is not None
        assert result.prompt_tokens > 0
        assert result.model == "llama3.2"
        assert result.time_to_first_token_s is not None
        assert (client.open_responses, sim.completed_streams, sim.cancelled_streams) == (
            1 - 1,
            1,
            0,
        )


async def test_batches_hold_every_answer_piece_once_in_order(dialect: str) -> None:
    """Unthrottled, several pieces arrive in one read: batches() hands them on together, and
    a thinking model's reasoning is not among them."""
    async with running(dialect, **FAST) as (_, client):
        async with client.stream_chat(chat(model="qwen3:4b")) as stream:
            batches = [texts async for texts in stream.batches()]
        async with client.stream_chat(chat(model="qwen3:4b")) as plain:
            one_by_one = [text async for text in plain]
        assert [text for texts in batches for text in texts] == one_by_one
        assert "".join(one_by_one) == ANSWER == stream.result.text
        assert all(batches)


async def test_max_tokens_ends_the_answer_with_finish_reason_length(dialect: str) -> None:
    async with running(dialect, **FAST) as (_, client):
        result = await client.complete(chat(max_tokens=3))
        assert (result.text, result.finish_reason) == ("Simulated answer about", "length")


async def test_thinking_model_streams_thinking_apart_from_a_non_empty_answer(dialect: str) -> None:
    async with running(dialect, **FAST) as (_, client):
        async with client.stream_chat(chat(model="qwen3:4b")) as stream:
            kinds = [d.kind async for d in stream.deltas()]
        assert kinds[0] is DeltaKind.THINKING
        assert kinds[-1] is DeltaKind.CONTENT
        assert stream.result.text == ANSWER
        assert stream.result.thinking.startswith("Let me think")


async def test_complete_gives_the_default_safety_verdict(dialect: str) -> None:
    request = ChatRequest(
        model="llama3.2",
        messages=(
            ChatMessage(role="system", content="Answer with a safety verdict."),
            ChatMessage(role="user", content="a dragon with a weapon"),
        ),
    )
    async with running(dialect, **FAST) as (_, client):
        assert (await client.complete(request)).text == "UNSAFE: weapon"


async def test_models_version_and_health_are_reported(dialect: str) -> None:
    async with running(dialect) as (_, client):
        assert await client.list_models() == ["llama3.2:latest", "qwen3:4b"]
        assert await client.version() == ("0.33.0" if dialect == "ollama" else "llama.cpp")
        assert await client.health() is True


async def test_unknown_model_raises_model_not_found_naming_it(dialect: str) -> None:
    async with running(dialect) as (_, client):
        with pytest.raises(ModelNotFound, match="'llama9'") as info:
            await client.complete(chat(model="llama9"))
        assert (info.value.backend, info.value.instance) == (dialect, "test")
        assert client.open_responses == 0


async def test_error_in_the_stream_raises_after_the_tokens_before_it(dialect: str) -> None:
    async with running(dialect, **FAST) as (sim, client):
        sim.faults.fail_after_tokens = 3
        received: list[str] = []

        async def consume() -> None:
            async with client.stream_chat(chat()) as stream:
                async for delta in stream:
                    received.append(delta)

        with pytest.raises(BackendError, match="simulated failure after 3 tokens"):
            await consume()
        assert received == ["Simulated", " answer", " about"]
        assert client.open_responses == 0


async def test_stream_without_its_final_event_is_reported_truncated(dialect: str) -> None:
    async with running(dialect, **FAST) as (sim, client):
        sim.faults.truncate_after_tokens = 2
        with pytest.raises(BackendProtocolError, match="truncated"):
            await client.complete(chat())
        assert client.open_responses == 0


async def test_server_error_status_is_translated(dialect: str) -> None:
    async with running(dialect) as (sim, client):
        sim.faults.error_status = 500
        with pytest.raises(BackendServerError, match="HTTP 500"):
            await client.complete(chat())


async def test_api_key_is_sent_and_a_wrong_one_is_refused_without_showing_it(dialect: str) -> None:
    async with running(dialect, api_key="right", client={"api_key": SecretStr("wrong")}) as (
        sim,
        client,
    ):
        with pytest.raises(BackendAuthFailed) as info:
            await client.complete(chat())
        assert "wrong" not in str(info.value)
        assert "wrong" not in repr(client)
        good = create_llm_client(
            LLMInstanceConfig(name="ok", url=sim.url, dialect=dialect, api_key=SecretStr("right"))
        )
        assert (await good.complete(chat())).text == ANSWER
        await good.close()


async def test_full_queue_raises_busy_which_is_retryable(dialect: str) -> None:
    async with running(dialect, max_parallel=1, max_queue=0) as (sim, client):
        sim.faults.hang_after_tokens = 1
        async with client.stream_chat(chat()) as holder:
            await anext(aiter(holder))
            with pytest.raises(BackendBusy) as info:
                await client.complete(chat())
            assert info.value.retryable
        await sim.wait_idle()
        assert client.open_responses == 0


async def test_requests_beyond_the_parallel_limit_wait_for_a_slot(dialect: str) -> None:
    async with running(dialect, max_parallel=1, **FAST) as (sim, client):
        sim.faults.hang_after_tokens = 1
        async with client.stream_chat(chat()) as holder:
            await anext(aiter(holder))
            sim.faults.hang_after_tokens = None
            waiter = asyncio.create_task(client.complete(chat("a second prompt")))
            await eventually(lambda: sim.queued_streams == 1)
            assert not waiter.done()
        result = await asyncio.wait_for(waiter, 5)
        assert result.text == "Simulated answer about a second prompt."


async def test_connection_refused_is_backend_unavailable(dialect: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LLMInstanceConfig(name="gone", url=f"http://127.0.0.1:{port}", dialect=dialect)
    client = create_llm_client(config)
    with pytest.raises(BackendUnavailable, match="cannot connect"):
        await client.complete(chat())
    assert await client.health() is False
    await client.close()


async def test_refusing_connections_can_be_switched_at_run_time(dialect: str) -> None:
    async with running(dialect, **FAST) as (sim, client):
        await sim.refuse_connections()
        with pytest.raises(BackendUnavailable):
            await client.complete(chat())
        await sim.accept_connections()
        assert (await client.complete(chat())).text == ANSWER


async def test_dropped_connection_is_backend_unavailable(dialect: str) -> None:
    async with running(dialect) as (sim, client):
        sim.faults.drop_connections = True
        with pytest.raises(BackendUnavailable):
            await client.complete(chat())


async def test_no_first_token_in_time_raises_a_first_token_timeout(dialect: str) -> None:
    async with running(dialect, client={"first_token_timeout": 0.2}) as (sim, client):
        sim.faults.hang_after_tokens = 0
        with pytest.raises(BackendTimeout, match="first token"):
            await client.complete(chat())
        await sim.wait_idle()
        assert (client.open_responses, sim.cancelled_streams) == (0, 1)


async def test_silence_between_tokens_raises_an_idle_timeout(dialect: str) -> None:
    async with running(dialect, client={"idle_timeout": 0.2}, **FAST) as (sim, client):
        sim.faults.hang_after_tokens = 2
        with pytest.raises(BackendTimeout, match="idle"):
            await client.complete(chat())
        await sim.wait_idle()
        assert (client.open_responses, sim.cancelled_streams) == (0, 1)


async def test_pings_between_events_do_not_disturb_the_stream(dialect: str) -> None:
    settings: dict[str, Any] = {
        "ping_interval": 0.001,
        "first_token_delay": 0.02,
        "tokens_per_second": 500,
    }
    async with running(dialect, **settings) as (sim, client):
        assert (await client.complete(chat())).text == ANSWER
        assert (sim.counters.pings > 0) is (dialect == "openai")


async def test_leaving_early_at_random_points_stops_generation_and_closes_the_response(
    dialect: str,
) -> None:
    rng = random.Random(3)
    async with running(dialect, **FAST) as (sim, client):
        sim.faults.hang_after_tokens = ANSWER_TOKENS  # the server never finishes on its own
        for round_ in range(12):
            await leave_early(sim, client, rng.randrange(ANSWER_TOKENS), how=round_ % 3)
            await sim.wait_idle()
            assert (client.open_responses, sim.cancelled_streams) == (0, round_ + 1)
        assert sim.completed_streams == 0


async def leave_early(sim: SimulatorBase, client: BaseLLMClient, after: int, how: int) -> None:
    """Leave a stream after `after` tokens by break (0), exception (1) or task cancel (2)."""
    stream_chat = client.stream_chat
    arrived = asyncio.Event()

    async def consume() -> None:
        async with stream_chat(chat()) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if count < after:
                    continue
                if how == 0:
                    break
                if how == 1:
                    raise LookupError("consumer failed")
                arrived.set()
                await asyncio.Future()  # parked until cancelled

    task = asyncio.create_task(consume())
    if how == 2:
        if after:
            await arrived.wait()
        else:  # cancel while the server holds the request but has sent no token
            await eventually(lambda: sim.active_streams == 1)
        task.cancel()
    if how == 0:
        await task
        return
    with pytest.raises((LookupError, asyncio.CancelledError)):
        await task


async def test_cancelling_while_waiting_for_headers_closes_everything(dialect: str) -> None:
    async with running(dialect) as (sim, client):
        sim.faults.hang_after_tokens = 0
        task = asyncio.create_task(client.complete(chat()))
        await eventually(lambda: sim.counters.generating == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await sim.wait_idle()
        assert (client.open_responses, sim.cancelled_streams) == (0, 1)


async def test_iterating_without_async_with_is_a_programming_error(dialect: str) -> None:
    async with running(dialect) as (_, client):
        with pytest.raises(InvalidState, match="async with"):
            await anext(aiter(client.stream_chat(chat())))


async def test_simulator_runs_as_its_own_process(dialect: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "server.harness", dialect, "--port", str(port), "--tokens-per-second", "0"),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        async with asyncio.timeout(20):
            assert process.stdout is not None
            while b"listening on" not in await process.stdout.readline():
                pass
        config = LLMInstanceConfig(name="p", url=f"http://127.0.0.1:{port}", dialect=dialect)
        client = create_llm_client(config)
        assert (await client.complete(chat())).text == ANSWER
        await client.close()
    finally:
        process.terminate()
        assert await process.wait() == 0
