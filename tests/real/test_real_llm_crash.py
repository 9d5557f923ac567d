"""The real server killed (SIGKILL) while it streams: the run fails at once with a clear
reason for the student, and once the server is started again on the same port, the next run
completes without anyone touching Atelier."""

from __future__ import annotations

import signal

import pytest

from tests.pipeline_support import events_of, run_done, start_run
from tests.real.conftest import StartAtelier
from tests.real.llama_server import LlamaServer
from tests.real.support import api_status, long_story_streaming, state_becomes, states_entered

pytestmark = pytest.mark.real_llm


async def test_killed_server_fails_the_run_clearly_and_serves_again_after_a_restart(
    llama_server: LlamaServer, start_atelier: StartAtelier
) -> None:
    server = await start_atelier(llama_server.url)
    client, run = await long_story_streaming(server, tokens=1)
    llama_server.kill()
    done = await run_done(client, run)
    assert await llama_server.wait() == -signal.SIGKILL

    assert (done["status"], done["code"]) == ("failed", "backend_unavailable"), done
    assert "text machine cannot be reached" in done["reason"]
    assert "127.0.0.1" not in done["reason"]
    stages = [m for m in events_of(client, run) if m["type"] == "stage"]
    assert (stages[-1]["stage"], stages[-1]["status"]) == ("interception", "failed")
    # The server finds the dead backend out by itself within one check interval and its bound
    # (10 s + 5 s by default); restarted before that, nothing would have seen it down.
    await state_becomes(server, "llama", "down", timeout=30)

    await llama_server.start()  # the same port, a fresh process
    again = await start_run(client, "a lighthouse at night", seed=7)
    done_again = await run_done(client, again, timeout=180)
    assert done_again["status"] == "completed", done_again
    status = await api_status(server)
    assert {b["instance"]: b["state"] for b in status["backends"]} == {
        "llama": "healthy",
        "img": "healthy",
    }
    entered = states_entered(status, "llama")
    assert entered == {"healthy": 2, "down": 1}, (entered, status)
    await client.close()
