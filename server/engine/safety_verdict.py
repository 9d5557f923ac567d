"""The LLM safety verdict: the JSON schema we ask for, and the fail-closed reading of an answer.

A small model (SmolLM2-135M) never answers a free-form verdict prompt with exactly `SAFE`, but
follows a schema when its server constrains the output (Ollama `format`, llama.cpp
`response_format`). So the safety stages ask for `VERDICT_SCHEMA` and `parse_verdict` reads,
in this order: a JSON object (the whole answer, inside a code fence, or inside prose), then the
plain words of the older format (`SAFE`, `UNSAFE: <reason>`). Anything else is unsafe: an
answer too long to read, a schema violation (wrong types, an unknown decision, a key given
twice), prose that contradicts its JSON, or an unclosed reasoning block. Pure: no I/O.

The reason is for the teacher (the run's record), never for the child.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

#: What the schema lets a reason be; a longer one is cut to this (not blocked for its length).
MAX_REASON_CHARS: Final = 200
#: An answer longer than this is not read at all (unsafe): 120 tokens are far less.
MAX_ANSWER_CHARS: Final = 16_000

#: The structured verdict: the decision and a short reason for the teacher.
VERDICT_SCHEMA: Final[dict[str, Any]] = {
    "title": "verdict",
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": ["safe", "unsafe"]},
        "reason": {"type": "string", "maxLength": MAX_REASON_CHARS},
    },
    "required": ["decision", "reason"],
    "additionalProperties": False,
}

#: How an answer was read: `json`, the older plain `words`, or `none` (unreadable: unsafe).
ReadAs = Literal["json", "words", "none"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """An LLM safety judgement. `reason` is the model's short explanation, when it gave one."""

    safe: bool
    reason: str | None = None
    read_as: ReadAs = "none"


UNREADABLE: Final = Verdict(safe=False)

_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.IGNORECASE | re.DOTALL)
_UNCLOSED_THINK = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
_DECORATION = " \t\r\n*_`\"'.!:;,()[]"
_UNSAFE = re.compile(r"unsafe\b[\s*_`\"'.:;,\-–—]*(?P<reason>.*)", re.IGNORECASE | re.DOTALL)
# Words beside a JSON "safe" that take it back: such an answer is read as unsafe.
_CONTRADICTION = re.compile(r"\b(?:unsafe|not\s+safe|inappropriate)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Duplicate(ValueError):
    """A JSON object gave one key twice: which one counts is up to the parser, so neither."""


def parse_verdict(text: str) -> Verdict:
    """Read a model's answer fail-closed: safe only when it clearly says so."""
    if len(text) > MAX_ANSWER_CHARS:
        return UNREADABLE
    answer = _THINK_BLOCK.sub("", text)
    if _UNCLOSED_THINK.search(answer):
        return UNREADABLE
    found = _json_verdict(answer)
    if found is not None:
        return found
    return _word_verdict(answer)


def _json_verdict(answer: str) -> Verdict | None:
    """The verdict of the JSON object in `answer`; None when there is none to read."""
    for candidate, outside in _json_candidates(answer):
        value = _loads(candidate)
        if value is None:
            continue
        verdict = _from_object(value)
        if verdict.safe and _CONTRADICTION.search(outside):
            return Verdict(safe=False, reason=verdict.reason, read_as="json")
        return verdict
    return None


def _json_candidates(answer: str) -> list[tuple[str, str]]:
    """Texts that may be the JSON verdict, each with the prose around it."""
    candidates = [
        (m.group(1), answer[: m.start()] + answer[m.end() :]) for m in _FENCE.finditer(answer)
    ]
    start, end = answer.find("{"), answer.rfind("}")
    if 0 <= start < end:
        candidates.append((answer[start : end + 1], answer[:start] + answer[end + 1 :]))
    return candidates


def _loads(candidate: str) -> Any:
    """The parsed JSON, or None when it is not JSON (too deep, a key twice, malformed)."""
    try:
        return json.loads(candidate, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key.casefold() for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Duplicate("a key given twice")
    return dict(zip(keys, (value for _, value in pairs), strict=True))


def _from_object(value: Any) -> Verdict:
    """A parsed JSON value against the schema; any violation is unsafe."""
    if not isinstance(value, dict):
        return Verdict(safe=False, read_as="json")
    decision, reason = value.get("decision"), value.get("reason")
    if reason is not None and not isinstance(reason, str):
        return Verdict(safe=False, read_as="json")
    said = _clean_reason(reason or "")
    if not isinstance(decision, str) or decision.strip(_DECORATION).casefold() != "safe":
        return Verdict(safe=False, reason=said, read_as="json")
    return Verdict(safe=True, reason=said, read_as="json")


def _word_verdict(answer: str) -> Verdict:
    """The older plain format: exactly `SAFE`, or `UNSAFE` with an optional reason."""
    words = answer.strip(_DECORATION)
    if words.casefold() == "safe":
        return Verdict(safe=True, read_as="words")
    match = _UNSAFE.match(words)
    if match is None:
        return UNREADABLE
    return Verdict(safe=False, reason=_clean_reason(match.group("reason")), read_as="words")


def _clean_reason(reason: str) -> str | None:
    """One line, no control characters, at most MAX_REASON_CHARS; None when empty."""
    line = " ".join(_CONTROL.sub(" ", reason).split()).strip(_DECORATION)
    return line[:MAX_REASON_CHARS] or None
