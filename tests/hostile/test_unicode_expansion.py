"""An attacker's expanding or accent-stacked prompts are refused cheaply; a victim runs beside.

Over real sockets: U+FDFA (18 characters after NFKC) filled a 2,000-character prompt to 36,000
characters and froze every socket; now the prompt is refused at admission with the field named.
"""

from __future__ import annotations

from server.engine.stages import texts
from server.harness.client import AtelierClient
from server.harness.demo import DemoResponder
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    run_done,
    start_run,
)

ATTACKS = ["\ufdfa" * 2000, "e" + "\u0301\u0316" * 1000]


async def refused(client: AtelierClient, prompt: str) -> dict[str, object]:
    await client.send({"type": "run.start", "prompt": prompt, "interception": "bauhaus"})
    return await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))


async def test_expanding_prompts_are_refused_and_a_victim_still_runs(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    attacker, victim = await connected(server), await connected(server)
    for prompt in ATTACKS * 5:
        error = await refused(attacker, prompt)
        assert (error["type"], error["code"]) == ("error", "invalid_field"), error
        assert str(error["message"]).startswith("prompt: ")
        attacker.messages.clear()
    run = await start_run(victim, "a fox in the snow")
    assert (await run_done(victim, run))["status"] == "completed"
    assert demo_of(server).llm.counters.requests > 0  # only the victim's run reached the LLM
    await attacker.close()
    await victim.close()
    assert_nothing_left(server)


class ExpandingImagination(DemoResponder):
    """Reimagines every prompt as text that grows 18-fold: only the LLM can hand stage 3 that."""

    def reimagine(self, system: str, user: str) -> str:
        return "a castle " + "\ufdfa" * 500


async def test_an_expanding_final_prompt_is_blocked_not_waved_through(
    start_pipeline: StartPipeline,
) -> None:
    catalog, _ = load_definitions(make_settings())
    server = await start_pipeline(safety_level="kids", responder=ExpandingImagination(catalog))
    client = await connected(server)
    run = await start_run(client, "a castle at dawn")
    done = await run_done(client, run)
    # The live screen of stage 2 refuses the text as too costly to check, before any of it is
    # shown and before stage 3 could hand it on (fail-closed: blocked, not waved through).
    assert (done["status"], done["reason"]) == ("blocked", texts.text("stream_blocked", "en"))
    assert not any("\ufdfa" in str(m.get("text", "")) for m in client.messages)
    await client.close()
    assert_nothing_left(server)
