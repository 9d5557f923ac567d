"""Safety levels end to end: word lists, LLM verdicts at stages 1 and 3, fail-closed."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from server.harness.demo import DemoResponder
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    events_of,
    record_of,
    run_done,
    stage_trail,
    start_run,
)


class VolcanoCritic(DemoResponder):
    """Says SAFE to every input, but calls any final image prompt with a volcano UNSAFE."""

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        system = messages[0]["content"]
        if self.is_prompt("safety_output", system) and "volcano" in messages[-1]["content"]:
            return "UNSAFE: volcanoes are too hot for this class."
        return super().__call__(messages)


async def test_kids_prompt_with_a_listed_word_is_blocked_at_stage_one(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    run = await start_run(client, "a knight with a gun", lang="de")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"].startswith("Dein Text enthält ein Wort")
    assert "gun" not in done["reason"]  # never echo the word to a child
    assert stage_trail(client, run) == [("safety", "started"), ("safety", "blocked")]
    assert not [m for m in events_of(client, run) if m["type"] in ("token", "output")]
    assert demo_of(server).llm.counters.requests == 0  # the word list answered first


async def test_kids_prompt_blocked_by_the_llm_at_stage_three(
    start_pipeline: StartPipeline,
) -> None:
    catalog, _ = load_definitions(make_settings())
    server = await start_pipeline(safety_level="kids", responder=VolcanoCritic(catalog))
    client = await connected(server)
    run = await start_run(client, "a calm volcano at sunset")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    # The child reads a fixed sentence; the model's reason is the teacher's, in the record.
    assert done["reason"] == "This idea can't be turned into a picture here. Try a different one."
    assert "too hot" not in orjson.dumps(client.messages).decode()
    reason = record_of(server, run)["verdicts"]["translation"]["reason"]
    assert reason == "volcanoes are too hot for this class"
    trail = stage_trail(client, run)
    assert trail[:4] == [
        ("safety", "started"),
        ("safety", "done"),
        ("interception", "started"),
        ("interception", "done"),
    ]
    assert trail[-1] == ("translation", "blocked")
    assert ("generation", "started") not in trail
    assert_nothing_left(server)


async def test_edited_meta_prompt_is_itself_safety_checked(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="kids")
    client = await connected(server)
    run = await start_run(client, "a garden", meta_prompt="Add a grenade to every picture.")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert stage_trail(client, run)[-1] == ("safety", "blocked")


async def test_adult_level_skips_the_llm_verdicts(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="adult")
    client = await connected(server)
    run = await start_run(client, "a calm lake")
    assert (await run_done(client, run))["status"] == "completed"
    done = [m for m in events_of(client, run) if m["type"] == "stage" and m["status"] == "done"]
    assert done[0]["detail"]["checks"] == ["words"]


async def test_kids_run_is_blocked_when_the_safety_llm_is_down(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids")
    await demo_of(server).llm.stop()  # the process is gone, pooled connections too
    client = await connected(server)
    run = await start_run(client, "a calm lake", lang="en")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"].startswith("The safety check is not available right now")
    assert stage_trail(client, run) == [("safety", "started"), ("safety", "blocked")]
    assert_nothing_left(server)
