"""Structured verdicts in whole runs over real sockets: the app asks the (simulated) safety
model for the verdict schema, reads its JSON, blocks an unsafe verdict without showing the
child the model's reason (the record keeps it for the teacher), and blocks garbage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestServer

from server.engine.safety_verdict import VERDICT_SCHEMA
from server.engine.stages import texts
from server.harness.demo import DemoResponder
from server.harness.llm_sim.structured import GARBAGE_ANSWER
from server.wiring import load_definitions
from tests.conftest import make_settings
from tests.pipeline_support import (
    StartPipeline,
    assert_nothing_left,
    connected,
    demo_of,
    record_of,
    run_done,
    stage_trail,
    start_run,
)

#: How the two text verdict prompts begin (workflows/prompts/safety_input.md, _output.md).
VERDICTS = ("You are the safety reviewer", "You are the final safety reviewer")
#: The model's reason: it must reach the record and never the child.
REASON = "the lake looks far too deep for this class"


class LakeCritic(DemoResponder):
    """Calls every student idea with a lake in it unsafe, with a reason."""

    def __call__(self, messages: Sequence[dict[str, str]]) -> str:
        system = messages[0]["content"]
        if self.is_prompt("safety_input", system) and "lake" in messages[-1]["content"]:
            return f"UNSAFE: {REASON}"
        return super().__call__(messages)


def lake_critic() -> LakeCritic:
    catalog, _ = load_definitions(make_settings())
    return LakeCritic(catalog)


def recorded_chats(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every chat body the demo LLM answers, as it arrived."""
    sim = demo_of(server).llm
    answer, chats = sim.answer, []

    def recording(payload: dict[str, Any], schema: dict[str, Any] | None) -> str:
        chats.append(payload)
        return answer(payload, schema)

    monkeypatch.setattr(sim, "answer", recording)
    return chats


async def test_kids_run_asks_for_the_schema_and_reads_json_verdicts(
    start_pipeline: StartPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_pipeline(safety_level="kids")
    chats = recorded_chats(server, monkeypatch)
    client = await connected(server)
    run = await start_run(client, "a calm lake at sunrise", lang="en")
    assert (await run_done(client, run))["status"] == "completed"
    systems = [c["messages"][0]["content"] for c in chats]
    verdict_chats = [c for c, s in zip(chats, systems, strict=True) if s.startswith(VERDICTS)]
    assert len(verdict_chats) == 2  # stage 1 and stage 3
    assert all(c["format"] == VERDICT_SCHEMA for c in verdict_chats)
    prompt_chats = [c for c in chats if c["messages"][-1]["content"] == "a calm lake at sunrise"]
    [interception] = [c for c in prompt_chats if c not in verdict_chats]
    assert "format" not in interception  # free text where no verdict is asked for
    verdicts = record_of(server, run)["verdicts"]
    for stage in ("safety", "translation"):
        assert verdicts[stage]["safe"] is True
        assert verdicts[stage]["read_as"] == "json"  # only a schema makes the model answer JSON
        assert orjson.loads(verdicts[stage]["answer"])["decision"] == "safe"
    assert_nothing_left(server)


async def test_unsafe_verdict_blocks_and_the_reason_goes_to_the_record_only(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(safety_level="kids", responder=lake_critic())
    client = await connected(server)
    for lang in ("en", "de"):
        run = await start_run(client, "a calm lake at sunrise", lang=lang)
        done = await run_done(client, run)
        assert done["status"] == "blocked"
        assert done["reason"] == texts.text("llm_blocked", lang)
        assert stage_trail(client, run) == [("safety", "started"), ("safety", "blocked")]
        verdict = record_of(server, run)["verdicts"]["safety"]
        assert (verdict["safe"], verdict["read_as"], verdict["reason"]) == (False, "json", REASON)
    shown = orjson.dumps(client.messages).decode()
    assert "too deep" not in shown  # no message to the child carries the model's words
    assert_nothing_left(server)


async def test_garbage_from_the_safety_model_blocks(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(safety_level="youth")
    demo_of(server).llm.faults.garbage_answers = True
    client = await connected(server)
    run = await start_run(client, "a red apple on a table", lang="de")
    done = await run_done(client, run)
    assert done["status"] == "blocked"
    assert done["reason"] == texts.text("llm_blocked", "de")
    assert stage_trail(client, run) == [("safety", "started"), ("safety", "blocked")]
    verdict = record_of(server, run)["verdicts"]["safety"]
    assert (verdict["safe"], verdict["read_as"]) == (False, "none")
    assert "reason" not in verdict
    assert verdict["answer"] == GARBAGE_ANSWER
    assert GARBAGE_ANSWER not in orjson.dumps(client.messages).decode()
    assert_nothing_left(server)
