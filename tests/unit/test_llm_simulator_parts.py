"""The simulators' pure parts: Go-style JSON, timestamps, tokens, the default responder."""

from __future__ import annotations

import re

import orjson
from hypothesis import given
from hypothesis import strategies as st

from server.harness.llm_sim import default_responder, tokenize
from server.harness.llm_sim.common import (
    TOKEN_BREAK,
    SimSettings,
    SlotGate,
    find_model,
    rfc3339_nano,
)
from server.harness.llm_sim.ollama import BUSY_MESSAGE, go_json


def test_go_json_escapes_html_characters_like_go() -> None:
    assert go_json({"c": "<a> & b"}) == b'{"c":"\\u003ca\\u003e \\u0026 b"}'
    assert orjson.loads(go_json({"c": "<\u2028>"})) == {"c": "<\u2028>"}


def test_created_at_is_rfc3339_nano_utc_with_trailing_zeros_trimmed() -> None:
    assert rfc3339_nano(1_787_338_102_385_406_455) == "2026-08-21T18:48:22.385406455Z"
    assert rfc3339_nano(1_787_338_102_918_000_000) == "2026-08-21T18:48:22.918Z"
    assert rfc3339_nano(1_787_338_102_000_000_000) == "2026-08-21T18:48:22Z"


@given(st.text(max_size=80))
def test_tokens_join_back_to_the_text(text: str) -> None:
    # TOKEN_BREAK only marks where a scripted answer splits its tokens, and is never sent.
    assert "".join(tokenize(text)) == text.replace(TOKEN_BREAK, "")


def test_a_scripted_answer_is_split_where_it_says_and_the_marks_are_dropped() -> None:
    assert tokenize(f"a g{TOKEN_BREAK}u{TOKEN_BREAK}n here") == ["a g", "u", "n here"]


def test_default_responder_builds_a_readable_answer_from_the_last_user_message() -> None:
    messages = [
        {"role": "system", "content": "You are an artist."},
        {"role": "user", "content": "ignored"},
        {"role": "user", "content": "a lighthouse at dawn"},
    ]
    assert default_responder(messages) == "Simulated answer about a lighthouse at dawn."


def test_default_responder_gives_a_deterministic_safety_verdict() -> None:
    system = {"role": "system", "content": "Give a safety verdict: SAFE or UNSAFE."}
    assert default_responder([system, {"role": "user", "content": "a cat"}]) == "SAFE"
    flagged = {"role": "user", "content": "a knight with a weapon"}
    assert default_responder([system, flagged]) == "UNSAFE: weapon"


def test_busy_message_is_ollamas_exact_text_with_two_spaces() -> None:
    assert re.search(r"again\.  maximum", BUSY_MESSAGE)


def test_model_names_match_with_or_without_latest_tag() -> None:
    settings = SimSettings()
    assert find_model(settings, "llama3.2") is not None
    assert find_model(settings, "llama3.2:latest") is not None
    assert find_model(settings, "llama9") is None
    assert find_model(SimSettings(accept_any_model=True), "anything") is not None


def test_slot_gate_admits_while_a_slot_is_free_or_the_queue_has_room() -> None:
    assert SlotGate(parallel=1, max_queue=0).admits()
