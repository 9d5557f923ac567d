"""Structured output in the simulators: what schema a chat request asks for in each dialect
(and the requests a real server refuses), and the answer reshaped to follow it.

A responder answers a verdict prompt in words (`SAFE`, `UNSAFE: <reason>`). When the request
carries a schema with a `decision` property, the simulator sends that verdict as the JSON the
schema asks for, as a server constraining its output would. `Faults.garbage_answers` is the
opposite: a model that follows nothing (every answer is `GARBAGE_ANSWER`).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

#: What a model that follows no format says (neither JSON nor a verdict word).
GARBAGE_ANSWER = "Sure! What a lovely idea, here it comes: {decision: maybe"

_VERDICT = re.compile(r"^\s*(?P<unsafe>UN)?SAFE\b[\s:.\-]*(?P<reason>.*)$", re.DOTALL)


class SchemaRefused(ValueError):
    """The request's schema field is one the simulated server answers with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def ollama_schema(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Ollama's `format`: `"json"` or a schema object; anything else is a 400 (llm-api.md)."""
    value = payload.get("format")
    if value is None or value == "" or value == "json":
        return None
    if not isinstance(value, dict):
        raw = orjson.dumps(value).decode()
        message = f'invalid format: "{raw}"; expected "json" or a valid JSON Schema object'
        raise SchemaRefused(400, message)
    return value


def openai_schema(payload: dict[str, Any], *, python: bool) -> dict[str, Any] | None:
    """The schema of `response_format`. llama-server reads both forms; llama-cpp-python 0.3
    takes only `json_object` and answers `json_schema` with 500 (measured, 0.3.36)."""
    value = payload.get("response_format")
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "json_schema" and python:
        raise SchemaRefused(500, _PYTHON_REFUSAL)
    if kind == "json_schema":
        inner = value.get("json_schema")
        schema = inner.get("schema") if isinstance(inner, dict) else None
        return schema if isinstance(schema, dict) else None
    schema = value.get("schema") if kind == "json_object" else None
    return schema if isinstance(schema, dict) else None


_PYTHON_REFUSAL = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}"
)


def shaped(answer: str, schema: dict[str, Any] | None, *, garbage: bool) -> str:
    """The answer as the simulated model sends it: garbage, the verdict as JSON, or as is."""
    if garbage:
        return GARBAGE_ANSWER
    properties = (schema or {}).get("properties")
    if not isinstance(properties, dict) or "decision" not in properties:
        return answer
    match = _VERDICT.match(answer)
    if match is None:
        return answer
    decision = "unsafe" if match.group("unsafe") else "safe"
    reason = " ".join(match.group("reason").split()) or "nothing to worry about"
    return orjson.dumps({"decision": decision, "reason": reason}).decode()
