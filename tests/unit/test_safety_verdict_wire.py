"""The verdict schema on the wire: both dialects' request bodies carry it in the fields the
references name (shared/reference/llm-api.md; llama-cpp-python 0.3's `json_object` form), and
the simulators read it back the way the real servers do."""

from __future__ import annotations

import re

import orjson
import pytest
from pydantic import ValidationError

from server.engine.llm import ChatMessage, ChatRequest, LLMInstanceConfig
from server.engine.llm.ollama import ollama_chat_payload
from server.engine.llm.openai import openai_chat_payload
from server.engine.safety_verdict import VERDICT_SCHEMA, parse_verdict
from server.harness.llm_sim.cli import build, parse_args
from server.harness.llm_sim.structured import (
    GARBAGE_ANSWER,
    SchemaRefused,
    ollama_schema,
    openai_schema,
    shaped,
)
from tests.llm_support import REFERENCE

LLM_API = (REFERENCE / "llm-api.md").read_text()


def verdict_request(schema: dict[str, object] | None = VERDICT_SCHEMA) -> ChatRequest:
    messages = (
        ChatMessage(role="system", content="You are the safety reviewer."),
        ChatMessage(role="user", content="a cat"),
    )
    return ChatRequest(model="m", messages=messages, max_tokens=120, response_schema=schema)


def test_the_reference_names_the_fields_we_send() -> None:
    # Ollama: `format` takes a JSON-Schema object; its /v1 maps `json_schema` to the same.
    assert re.search(r"\| `format` \| `\"json\"` or a JSON-Schema object \|", LLM_API)
    assert '`response_format` `json_object` becomes `format:"json"`, and `json_schema`' in LLM_API


def test_ollama_sends_the_schema_as_format() -> None:
    payload = ollama_chat_payload(verdict_request())
    assert payload["format"] == VERDICT_SCHEMA
    assert ollama_schema(orjson.loads(orjson.dumps(payload))) == VERDICT_SCHEMA


def test_openai_sends_a_json_schema_response_format_by_default() -> None:
    payload = openai_chat_payload(verdict_request())
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA},
    }
    assert openai_schema(payload, python=False) == VERDICT_SCHEMA


def test_openai_json_object_form_is_what_llama_cpp_python_takes() -> None:
    payload = openai_chat_payload(verdict_request(), structured_output="json_object")
    assert payload["response_format"] == {"type": "json_object", "schema": VERDICT_SCHEMA}
    assert openai_schema(payload, python=True) == VERDICT_SCHEMA


def test_openai_off_sends_no_response_format() -> None:
    assert "response_format" not in openai_chat_payload(verdict_request(), structured_output="off")


def test_a_schema_without_a_title_is_named_answer() -> None:
    payload = openai_chat_payload(verdict_request({"type": "object"}))
    assert payload["response_format"]["json_schema"]["name"] == "answer"


def test_a_request_without_a_schema_asks_for_free_text() -> None:
    assert "format" not in ollama_chat_payload(verdict_request(None))
    assert "response_format" not in openai_chat_payload(verdict_request(None))


def test_structured_output_is_one_of_three_forms() -> None:
    assert LLMInstanceConfig(name="x").structured_output == "json_schema"
    with pytest.raises(ValidationError):
        LLMInstanceConfig(name="x", structured_output="grammar")


def test_llama_cpp_python_refuses_json_schema_with_500() -> None:
    payload = openai_chat_payload(verdict_request())
    with pytest.raises(SchemaRefused) as refused:
        openai_schema(payload, python=True)
    assert refused.value.status == 500
    assert "Input should be 'text' or 'json_object'" in str(refused.value)


@pytest.mark.parametrize("value", [3, ["json"], "yaml", True])
def test_ollama_refuses_a_format_that_is_no_schema(value: object) -> None:
    with pytest.raises(SchemaRefused) as refused:
        ollama_schema({"format": value})
    assert refused.value.status == 400
    assert str(refused.value).endswith('expected "json" or a valid JSON Schema object')


@pytest.mark.parametrize(
    ("answer", "safe", "reason"),
    [("SAFE", True, None), ("UNSAFE: weapon", False, "weapon"), ("UNSAFE", False, None)],
)
def test_the_simulated_model_follows_the_verdict_schema(
    answer: str, safe: bool, reason: str | None
) -> None:
    sent = shaped(answer, VERDICT_SCHEMA, garbage=False)
    value = orjson.loads(sent)
    assert set(value) == {"decision", "reason"}
    assert isinstance(value["reason"], str)
    verdict = parse_verdict(sent)
    assert (verdict.safe, verdict.read_as) == (safe, "json")
    if reason is not None:
        assert verdict.reason == reason


def test_without_a_schema_the_simulated_model_answers_in_words() -> None:
    assert shaped("SAFE", None, garbage=False) == "SAFE"
    assert shaped("A story.", VERDICT_SCHEMA, garbage=False) == "A story."
    assert shaped("SAFE", {"type": "object"}, garbage=False) == "SAFE"


def test_garbage_mode_follows_nothing_and_reads_as_unsafe() -> None:
    for schema in (VERDICT_SCHEMA, None):
        sent = shaped("SAFE", schema, garbage=True)
        assert sent == GARBAGE_ANSWER
        assert parse_verdict(sent).safe is False


def test_the_simulator_command_has_the_garbage_mode() -> None:
    for kind in ("ollama", "openai"):
        assert build(kind, parse_args([kind, "--garbage-answers"])).faults.garbage_answers
        assert not build(kind, parse_args([kind])).faults.garbage_answers
