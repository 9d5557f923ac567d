"""A whole run at level `adult` through a real llama-cpp-python server: what the browser
received is exactly what the server streamed, byte for byte, as a recording proxy saw it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.pipeline_support import connected, events_of, pipeline_of, run_done, start_run
from tests.real.conftest import StartAtelier
from tests.real.llama_server import LlamaServer
from tests.real.recording_proxy import RecordingProxy, streamed_chunks, streamed_text
from tests.real.support import SHORT_ANSWER_TOKENS, stage_done, stage_text

pytestmark = pytest.mark.real_llm

BAUHAUS_SEED = 7


@pytest.fixture
async def proxy(llama_server: LlamaServer) -> AsyncIterator[RecordingProxy]:
    recorder = RecordingProxy(llama_server.url)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.close()


async def test_adult_run_relays_exactly_the_tokens_the_server_streamed(
    proxy: RecordingProxy, start_atelier: StartAtelier
) -> None:
    server = await start_atelier(proxy.url)
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow", seed=BAUHAUS_SEED)
    done = await run_done(client, run, timeout=120)
    assert done["status"] == "completed", done

    chat = proxy.to("/v1/chat/completions")[0]  # stage 2's: at `adult` stage 1 asks no LLM
    sent = chat.request_json()
    assert sent["stream"] is True
    assert (sent["max_tokens"], sent["seed"]) == (SHORT_ANSWER_TOKENS, BAUHAUS_SEED)
    assert sent["messages"][1] == {"role": "user", "content": "a red fox in the snow"}
    finish = [c["choices"][0]["finish_reason"] for c in streamed_chunks(chat) if c["choices"]]
    assert finish[-1] in ("stop", "length")  # the server finished the answer itself

    received = stage_text(client, run)
    assert received == streamed_text(chat)
    assert received.strip() == stage_done(client, run, "interception")["text"]
    assert [m["type"] for m in events_of(client, run)].count("output") == 1
    services = pipeline_of(server).services
    assert (services.backends.open_responses, services.scheduler.held_slots) == (0, 0)
    await client.close()
