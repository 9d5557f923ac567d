"""Crash recovery with simulator processes: an instance killed mid-run, the run completing on
the second; a flapping instance behind its circuit breaker."""

from __future__ import annotations

from aiohttp import ClientSession

from server.engine.backends.breaker import BreakerState, CircuitBreaker
from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.engine.backends.kinds import LLM
from server.harness.client import AtelierClient
from tests.backends_support import (
    Spawn,
    StartAtelier,
    backends_of,
    llm_killed_mid_stream,
    state_becomes,
)
from tests.conftest import MONITOR_HEADERS
from tests.pipeline_support import (
    connected,
    events_of,
    pipeline_of,
    record_of,
    run_done,
    start_run,
)

pytest_plugins = ["tests.backends_support"]


def state_of(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # read through a call: the runs in between change it


def interception_done(client: AtelierClient, run: str) -> dict[str, object]:
    return next(
        m
        for m in events_of(client, run)
        if m["type"] == "stage" and m["stage"] == "interception" and m["status"] == "done"
    )


def interception_tokens(client: AtelierClient, run: str) -> list[dict[str, object]]:
    return [
        m for m in events_of(client, run) if m["type"] == "token" and m["stage"] == "interception"
    ]


async def test_llm_killed_mid_stream_run_completes_on_the_second_instance(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    slow = await spawn("ollama", "--tokens-per-second", "20", "--answer-repeat", "30")
    fast = await spawn("ollama", "--tokens-per-second", "0")
    server = await start_atelier(
        llm=[
            LLMBackendConfig(name="first", url=slow.url),
            LLMBackendConfig(name="second", url=fast.url),
        ],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
    )
    client = await connected(server)
    run = await start_run(client, "a red fox in the snow")
    await client.expect(lambda m: m["type"] == "token" and m["run"] == run)
    slow.kill()

    done = await run_done(client, run)
    assert done["status"] == "completed", done
    tokens = interception_tokens(client, run)
    clears = [i for i, m in enumerate(tokens) if m["clear"]]
    assert len(clears) == 1
    assert clears[0] > 0  # text had streamed, then the UI was told to clear it
    after = "".join(str(m["text"]) for m in tokens[clears[0] :])
    stage = interception_done(client, run)
    assert after.strip() == stage["text"]
    assert str(stage["text"]).count("Simulated answer") == 1  # the second instance's answer
    assert stage["detail"] == {"model": "llama3.2@second"}

    await state_becomes(server, "llm:first", "down")
    backends = backends_of(server)
    assert backends.retries == 1
    assert backends.open_responses == 0
    assert pipeline_of(server).services.scheduler.held_slots == 0
    async with ClientSession() as http:
        status_url, metrics_url = server.make_url("/api/status"), server.make_url("/metrics")
        status = await (await http.get(status_url, headers=MONITOR_HEADERS)).json()
        ready = await http.get(server.make_url("/readyz"))
        metrics = await (await http.get(metrics_url, headers=MONITOR_HEADERS)).text()
    states = {b["instance"]: b["state"] for b in status["backends"]}
    assert states == {"first": "down", "second": "healthy", "img": "healthy"}
    assert ready.status == 200  # one healthy instance of each kind is enough
    assert 'atelier_backend_state{instance="first",kind="llm",state="down"} 1.0' in metrics
    assert "atelier_backend_retries_total 1.0" in metrics
    await client.close()


async def test_llm_killed_mid_stream_without_another_instance_fails_clearly(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    server, client, run, _ = await llm_killed_mid_stream(spawn, start_atelier, comfyui_sim)

    done = await run_done(client, run)
    assert done["status"] == "failed"
    assert done["reason"] == (
        "Something went wrong while re-imagining your prompt: "
        "the text machine cannot be reached right now"
    )
    error = record_of(server, run)["error"]  # the operator's account, never the student's
    assert "only stopped answering" in error
    assert "no other server could take over" in error
    await state_becomes(server, "llm:only", "down")
    async with ClientSession() as http:
        ready = await http.get(server.make_url("/readyz"))
        body = await ready.json()
    assert (ready.status, body["backends"]) == (503, {"llm": False, "comfyui": True})
    await client.close()


async def test_flapping_instance_is_cut_off_by_its_breaker_and_tried_again_later(
    spawn: Spawn, start_atelier: StartAtelier, comfyui_sim: str
) -> None:
    # Answers its health check, fails every generation: only the breaker can catch it.
    flaky = await spawn("ollama", "--tokens-per-second", "0", "--fail-after", "1")
    good = await spawn("ollama", "--tokens-per-second", "0")
    server = await start_atelier(
        llm=[
            LLMBackendConfig(name="flaky", url=flaky.url),
            LLMBackendConfig(name="good", url=good.url),
        ],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
        breaker_failures=2,
        breaker_cooldown=0.5,
    )
    flaky_instance = backends_of(server).instances(LLM)[0]
    breaker = flaky_instance.breaker
    client = await connected(server)

    async def one_run() -> tuple[str, bool]:
        run = await start_run(client, "a red fox in the snow")
        done = await run_done(client, run)
        assert done["status"] == "completed", done
        retried = any(m["clear"] for m in interception_tokens(client, run))
        return str(interception_done(client, run)["detail"]["model"]), retried  # type: ignore[index]

    # Two failures in a row on `flaky` (each run retried on `good`) open its breaker.
    assert await one_run() == ("llama3.2@good", True)
    assert state_of(breaker) is BreakerState.CLOSED
    assert await one_run() == ("llama3.2@good", True)
    assert state_of(breaker) is BreakerState.OPEN
    await state_becomes(server, "llm:flaky", "unhealthy")
    # While it is open, work goes straight to the good instance: no failed attempt first.
    assert await one_run() == ("llama3.2@good", False)
    assert breaker.failures == 2

    # After the cooldown the health check lets it back in half-open; one trial goes there,
    # fails, and the breaker opens again.
    await state_becomes(server, "llm:flaky", "healthy")
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert await one_run() == ("llama3.2@good", True)
    assert state_of(breaker) is BreakerState.OPEN
    assert (breaker.opens, breaker.failures) == (2, 3)
    assert backends_of(server).failures == 3
    await client.close()
