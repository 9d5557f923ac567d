"""The verdict schema between our clients and the simulators, over real sockets: each dialect
(and each llama.cpp flavor) carries the schema the way its server reads it, the simulated model
answers JSON that parses, a server that refuses the form fails the request (the check is then
fail-closed), and a model answering garbage gives an unreadable verdict."""

from __future__ import annotations

from typing import Any

import pytest

from server.engine.llm import ChatMessage, ChatRequest
from server.engine.llm.errors import BackendServerError
from server.engine.safety_verdict import VERDICT_SCHEMA, Verdict, parse_verdict
from tests.llm_support import running

FAST: dict[str, Any] = {"tokens_per_second": 0}
#: The simulators' default responder gives a verdict when the system prompt mentions safety.
SYSTEM = "You are the safety reviewer."

#: (dialect, simulator flavor, the client's `structured_output`): what works together.
COMPATIBLE = [
    ("ollama", "llama-server", "json_schema"),  # Ollama ignores flavor and structured_output
    ("openai", "llama-server", "json_schema"),
    ("openai", "llama-server", "json_object"),
    ("openai", "llama-cpp-python", "json_object"),
]


def verdict_request(text: str) -> ChatRequest:
    messages = (
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content=text),
    )
    return ChatRequest(
        model="llama3.2", messages=messages, max_tokens=120, response_schema=VERDICT_SCHEMA
    )


def sent_schema(body: dict[str, Any] | None) -> Any:
    assert body is not None
    if "format" in body:
        return body["format"]
    form = body["response_format"]
    return form["schema"] if form["type"] == "json_object" else form["json_schema"]["schema"]


@pytest.mark.parametrize(("dialect", "flavor", "form"), COMPATIBLE)
async def test_the_schema_reaches_the_server_and_the_json_answer_parses(
    dialect: str, flavor: str, form: str
) -> None:
    client = {"structured_output": form}
    async with running(dialect, client=client, flavor=flavor, **FAST) as (sim, llm):
        harmless = await llm.complete(verdict_request("a cat on the moon"))
        assert sent_schema(sim.last_chat) == VERDICT_SCHEMA
        unsafe = await llm.complete(verdict_request("a weapon"))
    assert parse_verdict(harmless.text).read_as == "json"
    assert parse_verdict(harmless.text).safe is True
    assert parse_verdict(unsafe.text) == Verdict(safe=False, reason="weapon", read_as="json")


async def test_llama_cpp_python_refuses_json_schema_so_the_request_fails() -> None:
    flavor = {"flavor": "llama-cpp-python", **FAST}
    async with running("openai", **flavor) as (sim, llm):
        with pytest.raises(BackendServerError, match="json_object"):
            await llm.complete(verdict_request("a cat on the moon"))
        assert sim.completed_streams == 0


async def test_with_structured_output_off_the_model_answers_in_words() -> None:
    async with running("openai", client={"structured_output": "off"}, **FAST) as (sim, llm):
        result = await llm.complete(verdict_request("a cat on the moon"))
        assert sim.last_chat is not None
        assert "response_format" not in sim.last_chat
    assert parse_verdict(result.text) == Verdict(safe=True, read_as="words")


@pytest.mark.parametrize("dialect", ["ollama", "openai"])
async def test_a_model_answering_garbage_gives_an_unreadable_verdict(dialect: str) -> None:
    async with running(dialect, **FAST) as (sim, llm):
        sim.faults.garbage_answers = True
        result = await llm.complete(verdict_request("a cat on the moon"))
    assert parse_verdict(result.text) == Verdict(safe=False)
