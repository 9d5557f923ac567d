"""The dialect interpreters read real servers' bytes (the captured transcripts) into deltas and
a finish state, and flag every way a stream can go wrong; request payloads map options."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from server.engine.errors import BackendBusy, BackendRejected, ModelNotFound
from server.engine.llm import ChatDelta, DeltaKind, LLMInstanceConfig
from server.engine.llm.decoders import DecodeError
from server.engine.llm.errors import (
    BackendAuthFailed,
    BackendServerError,
    StreamTruncated,
    error_for_status,
    error_message,
)
from server.engine.llm.ollama import OllamaChatInterpreter, ollama_chat_payload
from server.engine.llm.openai import OpenAIChatInterpreter, openai_chat_payload
from tests.llm_support import REFERENCE, chat
from tests.unit.test_llm_decoders import split_at

TRANSCRIPTS = sorted((REFERENCE / "llm").glob("*.raw.sse"))
OLLAMA_FINAL = (
    b'{"model":"llama3.2","created_at":"2026-08-21T18:48:26.918Z","message":{"role":"assistant",'
    b'"content":""},"done":true,"done_reason":"stop","total_duration":4883583458,'
    b'"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,'
    b'"eval_count":282,"eval_duration":4535599000}\n'
)


def ollama_line(content: str, thinking: str | None = None) -> bytes:
    message = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    line = {"model": "llama3.2", "created_at": "2026-08-21T18:48:22.385406455Z"}
    return orjson.dumps({**line, "message": message, "done": False}) + b"\n"


def feed_all(interp: OllamaChatInterpreter | OpenAIChatInterpreter, chunks: list[bytes]) -> str:
    deltas: list[ChatDelta] = []
    for chunk in chunks:
        deltas += interp.feed(chunk)
    deltas += interp.finish()
    return "".join(d.text for d in deltas if d.kind is DeltaKind.CONTENT)


def transcript_text(raw: bytes) -> str:
    parts = []
    for line in raw.split(b"\n"):
        if line.startswith(b"data: {"):
            delta = orjson.loads(line[6:])["choices"][0]["delta"]
            parts.append(delta.get("content") or "")
    return "".join(parts)


def test_both_transcripts_are_present() -> None:
    assert len(TRANSCRIPTS) == 2


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.name)
@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(0, 100_000), max_size=30))
def test_openai_interpreter_reads_captured_llamacpp_streams_split_anywhere(
    path: Path, cuts: list[int]
) -> None:
    raw = path.read_bytes()
    interp = OpenAIChatInterpreter("smollm2")
    text = feed_all(interp, split_at(raw, cuts))
    assert text == transcript_text(raw)
    assert text.startswith("One day, a robot named")
    assert (interp.done, interp.finish_reason, interp.model) == (True, "length", "smollm2")


def test_openai_interpreter_takes_token_counts_from_llama_server_timings() -> None:
    raw = (REFERENCE / "llm" / "llamacpp-server-v1-chat-stream.raw.sse").read_bytes()
    interp = OpenAIChatInterpreter("smollm2")
    feed_all(interp, [raw])
    assert (interp.prompt_tokens, interp.completion_tokens) == (42, 100)


def test_openai_interpreter_prefers_the_usage_chunk() -> None:
    usage = {"choices": [], "usage": {"prompt_tokens": 26, "completion_tokens": 3}}
    body = (
        b'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n'
        b"data: " + orjson.dumps(usage) + b"\n\ndata: [DONE]\n\n"
    )
    interp = OpenAIChatInterpreter("m")
    assert feed_all(interp, [body]) == "Hi"
    assert (interp.prompt_tokens, interp.completion_tokens) == (26, 3)


def test_openai_stream_without_done_marker_is_truncated() -> None:
    raw = (REFERENCE / "llm" / "llamacpp-python-v1-chat-stream.raw.sse").read_bytes()
    interp = OpenAIChatInterpreter("smollm2")
    interp.feed(raw.replace(b"data: [DONE]\n\n", b""))
    with pytest.raises(StreamTruncated, match=r"\[DONE\]"):
        interp.finish()


def test_openai_done_marker_without_finish_reason_is_an_interrupted_stream() -> None:
    body = b'data: {"choices":[{"index":0,"delta":{"content":"One"}}]}\n\ndata: [DONE]\n\n'
    with pytest.raises(StreamTruncated, match="finish_reason"):
        OpenAIChatInterpreter("m").feed(body)


def test_openai_error_event_mid_stream_is_reported_after_the_deltas_before_it() -> None:
    body = (
        b'data: {"choices":[{"index":0,"delta":{"content":"One"}}]}\n\n'
        b'data: {"error":{"code":500,"message":"out of memory","type":"server_error"}}\n\n'
        b'data: {"choices":[{"index":0,"delta":{"content":"lost"}}]}\n\n'
    )
    interp = OpenAIChatInterpreter("m")
    assert interp.feed(body) == [ChatDelta(DeltaKind.CONTENT, "One")]
    assert interp.failure == "out of memory (type=server_error, code=500)"
    assert interp.finish() == []


def test_openai_reasoning_deltas_are_thinking_not_content() -> None:
    body = (
        b'data: {"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{"reasoning":" ok"}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{"content":"Yes"}}]}\n\n'
    )
    assert OpenAIChatInterpreter("m").feed(body) == [
        ChatDelta(DeltaKind.THINKING, "hmm"),
        ChatDelta(DeltaKind.THINKING, " ok"),
        ChatDelta(DeltaKind.CONTENT, "Yes"),
    ]


def test_openai_undecodable_event_raises_decode_error() -> None:
    with pytest.raises(DecodeError):
        OpenAIChatInterpreter("m").feed(b"data: {not json\n\n")


def test_ollama_interpreter_reads_reference_lines_and_final_metrics() -> None:
    interp = OllamaChatInterpreter("llama3.2")
    assert feed_all(interp, [ollama_line("The"), ollama_line(" sky"), OLLAMA_FINAL]) == "The sky"
    assert (interp.finish_reason, interp.prompt_tokens, interp.completion_tokens) == (
        "stop",
        26,
        282,
    )


def test_ollama_error_line_is_checked_before_done() -> None:
    interp = OllamaChatInterpreter("m")
    assert interp.feed(ollama_line("The") + b'{"error":"boom","done":true}\n') == [
        ChatDelta(DeltaKind.CONTENT, "The")
    ]
    assert (interp.failure, interp.done) == ("boom", False)


def test_ollama_stream_without_done_is_truncated() -> None:
    interp = OllamaChatInterpreter("m")
    interp.feed(ollama_line("The"))
    with pytest.raises(StreamTruncated, match="done:true"):
        interp.finish()


def test_ollama_thinking_lines_with_empty_content_are_thinking_deltas() -> None:
    deltas = OllamaChatInterpreter("m").feed(ollama_line("", thinking="Let me"))
    assert deltas == [ChatDelta(DeltaKind.THINKING, "Let me")]


def test_ollama_payload_maps_options_and_always_sets_stream() -> None:
    request = chat(temperature=0.2, max_tokens=64, seed=7, stop=("\n",), think=False)
    payload = ollama_chat_payload(request)
    assert payload["stream"] is True
    assert payload["think"] is False
    assert payload["options"] == {"num_predict": 64, "temperature": 0.2, "seed": 7, "stop": ["\n"]}
    assert ollama_chat_payload(chat(top_p=0.9))["options"]["top_p"] == 0.9


def test_openai_payload_maps_fields_and_always_bounds_max_tokens() -> None:
    payload = openai_chat_payload(chat(seed=3, think=True))
    assert (payload["stream"], payload["max_tokens"], payload["seed"]) == (True, 1024, 3)
    assert payload["stream_options"] == {"include_usage": True}
    assert payload["reasoning_effort"] == "medium"
    assert "reasoning_effort" not in openai_chat_payload(chat(think=False))
    assert "top_p" not in payload  # None leaves the server's default
    assert openai_chat_payload(chat(top_p=0.9))["top_p"] == 0.9


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"error":"model \'x\' not found"}', "model 'x' not found"),
        (
            b'{"error":{"message":"too long","type":"invalid_request_error","param":null,'
            b'"code":"context_length_exceeded"}}',
            "too long (type=invalid_request_error, code=context_length_exceeded)",
        ),
        (b'{"detail":"Not Found"}', "Not Found"),
        (b"Internal Server Error", "Internal Server Error"),
        (b"", "(empty body)"),
    ],
)
def test_error_bodies_of_every_shape_become_readable_messages(body: bytes, expected: str) -> None:
    assert error_message(body) == expected


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, ModelNotFound),
        (503, BackendBusy),
        (429, BackendBusy),
        (401, BackendAuthFailed),
        (400, BackendRejected),
        (500, BackendServerError),
    ],
)
def test_http_statuses_map_onto_the_error_hierarchy(status: int, kind: type) -> None:
    error = error_for_status(status, b'{"error":"x"}', model="m9", backend="ollama", instance="a")
    assert type(error) is kind
    assert (error.backend, error.instance) == ("ollama", "a")


def test_model_not_found_names_the_model() -> None:
    error = error_for_status(404, b"{}", model="llama9", backend="ollama", instance="a")
    assert "'llama9'" in str(error)


def test_busy_is_retryable() -> None:
    assert error_for_status(503, b"", model="m", backend="o", instance="a").retryable


def test_config_never_shows_the_api_key() -> None:
    config = LLMInstanceConfig(name="gw", url="https://gw.example/", api_key=SecretStr("sk-123"))
    assert "sk-123" not in repr(config)
    assert "sk-123" not in str(config.model_dump())
    assert config.url == "https://gw.example"


def test_config_rejects_a_url_without_scheme() -> None:
    with pytest.raises(ValueError, match="http"):
        LLMInstanceConfig(name="x", url="localhost:11434")
