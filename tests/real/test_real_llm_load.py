"""Five students start a run at once against one real llama-cpp-python server: every run
completes, and the server is never shown as anything but healthy, neither in a `backend` event
nor in `/api/status` (which counts every state each instance entered).

llama-cpp-python answers one request at a time, so the five runs queue in Atelier (one slot)
and the server is busy from the first run to the last. The health checks are made frequent and
short here (every 0.5 s, 1 s bound) so that they land in the middle of answers, as the default
10 s checks do in a class whose answers take longer than the bound.
"""

from __future__ import annotations

import asyncio

import pytest

from server.harness.client import AtelierClient
from tests.pipeline_support import connected, run_done, start_run
from tests.real.conftest import StartAtelier, StartLlama
from tests.real.llama_server import RECOMMENDED_FLAGS
from tests.real.support import api_status, states_entered

pytestmark = pytest.mark.real_llm

SESSIONS = 5
PROMPTS = (
    "a red fox in the snow",
    "a lighthouse at night",
    "three cats on a roof",
    "a ship in a storm",
    "a garden full of robots",
)
#: Checks that collide with the answers being streamed (see the module docstring).
BUSY_CHECKS = {"health_interval": 0.5, "health_timeout": 1.0}


async def one_student(client: AtelierClient, prompt: str) -> dict[str, object]:
    run = await start_run(client, prompt, seed=11)
    return await run_done(client, run, timeout=180)


@pytest.mark.parametrize(
    "flags",
    [RECOMMENDED_FLAGS, ()],
    ids=["interrupt_requests_off", "server_defaults"],
)
async def test_five_sessions_at_once_all_complete_and_the_server_stays_healthy(
    flags: tuple[str, ...], start_llama: StartLlama, start_atelier: StartAtelier
) -> None:
    llama = await start_llama(flags)
    server = await start_atelier(llama.url, **BUSY_CHECKS)
    clients = [await connected(server) for _ in range(SESSIONS)]
    done = await asyncio.gather(*map(one_student, clients, PROMPTS))

    assert [d["status"] for d in done] == ["completed"] * SESSIONS, done
    backend_events = [(m["state"], m["reason"]) for c in clients for m in c.of_type("backend")]
    assert [e for e in backend_events if e[0] != "healthy"] == []
    assert states_entered(await api_status(server), "llama") == {"healthy": 1}
    for client in clients:
        await client.close()
