"""Cancelling a run while the real server streams its answer stops the generation: the server
logs that its client left in the middle of the answer (it never does once an answer is
complete), and its CPU time stops growing."""

from __future__ import annotations

import pytest

from tests.pipeline_support import pipeline_of, run_done
from tests.real.conftest import StartAtelier
from tests.real.llama_server import LlamaServer
from tests.real.support import (
    SERVER_SAW_DISCONNECT,
    cpu_settles,
    long_story_streaming,
    server_log_says,
    tokens_arrive,
)

pytestmark = pytest.mark.real_llm

#: Tokens to see streaming before the cancel, in two halves: CPU time must grow between them.
TOKENS_BEFORE_CANCEL = 10


async def test_cancel_mid_stream_stops_the_server_generating(
    llama_server: LlamaServer, start_atelier: StartAtelier
) -> None:
    server = await start_atelier(llama_server.url)
    client, run = await long_story_streaming(server, TOKENS_BEFORE_CANCEL // 2)
    busy_from = llama_server.cpu_seconds()
    await tokens_arrive(client, run, TOKENS_BEFORE_CANCEL)
    assert llama_server.cpu_seconds() > busy_from  # what the idle check measures: generating

    await client.send({"type": "run.cancel", "run": run})
    done = await run_done(client, run)
    assert done["status"] == "cancelled", done
    await server_log_says(llama_server, SERVER_SAW_DISCONNECT)
    await cpu_settles(llama_server)

    services = pipeline_of(server).services
    assert (services.backends.open_responses, services.scheduler.held_slots) == (0, 0)
    await client.close()
