"""The simulators send what the real servers send: field names, value types, key order and
event order are compared with the llama.cpp captures in shared/reference/llm/ and the Ollama
lines quoted in shared/reference/llm-api.md."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from server.harness.llm_sim import (
    BUSY_MESSAGE,
    OllamaSimulator,
    OpenAISimulator,
    SimSettings,
    SimulatorBase,
)
from server.harness.llm_sim.common import Flavor
from tests.llm_support import REFERENCE, eventually

LLM_API = (REFERENCE / "llm-api.md").read_text()
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
PING = re.compile(r"^: ping - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$")
REQUEST = {
    "model": "smollm2",
    "messages": [{"role": "user", "content": "Write a long story about a robot."}],
    "stream": True,
    "max_tokens": 100,
    "temperature": 0.7,
    "seed": 42,
}


def shape(value: Any) -> Any:
    """Key order and value types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return ["list", shape(value[0]) if value else None]
    return type(value).__name__


def reference_line(prefix: str) -> dict[str, Any]:
    """The first JSON line in llm-api.md starting with `prefix`."""
    for line in LLM_API.splitlines():
        line = line.strip()
        if line.startswith(prefix):
            return dict(orjson.loads(line))
    raise AssertionError(f"no line starting with {prefix!r} in llm-api.md")


def transcript(name: str) -> tuple[list[str], dict[str, str]]:
    """The events of a capture (`data:` payloads) and its response headers (lower-cased)."""
    raw = (REFERENCE / "llm" / f"{name}-v1-chat-stream.raw.sse").read_text()
    head = (
        (REFERENCE / "llm" / f"{name}-v1-chat-stream.txt")
        .read_text()
        .split("# --- response headers ---")[1]
    )
    headers = {}
    for line in head.split("# --- body")[0].splitlines()[2:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    return [e for e in raw.split("\n\n") if e], headers


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, await response.read()


@pytest.fixture(params=["llamacpp-server", "llamacpp-python"])
def capture(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def sse_from_sim(flavor: Flavor, **settings: Any) -> tuple[list[str], dict[str, str]]:
    sim = OpenAISimulator(
        SimSettings(tokens_per_second=0, flavor=flavor, accept_any_model=True, **settings)
    )
    url = await sim.start()
    try:
        status, headers, body = await post(url + "/v1/chat/completions", REQUEST)
    finally:
        await sim.stop()
    assert status == 200
    text = body.decode()
    assert text.endswith("\n\n")
    return [e for e in text.split("\n\n") if e], headers


FLAVOR: dict[str, Flavor] = {
    "llamacpp-server": "llama-server",
    "llamacpp-python": "llama-cpp-python",
}


async def test_openai_simulator_events_have_the_captured_shapes_in_order(capture: str) -> None:
    expected, _ = transcript(capture)
    events, _ = await sse_from_sim(FLAVOR[capture])
    assert all(e.startswith("data: ") for e in expected + events)
    assert events[-1] == expected[-1] == "data: [DONE]"

    def chunks(evts: list[str]) -> list[dict[str, Any]]:
        return [orjson.loads(e[6:]) for e in evts[:-1]]

    want, got = chunks(expected), chunks(events)
    assert shape(got[0]) == shape(want[0])  # role-only first chunk
    assert all(shape(c) == shape(want[1]) for c in got[1:-1])  # content chunks
    assert shape(got[-1]) == shape(want[-1])  # delta:{} finish chunk (with timings)
    assert got[-1]["choices"][0]["delta"] == {}
    assert got[-1]["choices"][0]["finish_reason"]
    assert len({c["id"] for c in got}) == 1


async def test_openai_simulator_writes_json_like_the_captured_server(capture: str) -> None:
    expected, _ = transcript(capture)
    events, _ = await sse_from_sim(FLAVOR[capture])
    spaced = ", " in expected[1]  # llama-cpp-python uses json.dumps defaults
    assert all((", " in e) == spaced for e in events[:-1])
    pattern = r"^chatcmpl-[0-9a-f-]{36}$" if spaced else r"^chatcmpl-[A-Za-z0-9]{32}$"
    assert re.match(pattern, orjson.loads(expected[1][6:])["id"])
    assert re.match(pattern, orjson.loads(events[1][6:])["id"])


async def test_openai_simulator_sends_the_captured_response_headers(capture: str) -> None:
    _, expected = transcript(capture)
    _, headers = await sse_from_sim(FLAVOR[capture])
    for name in ("content-type", "x-accel-buffering", "server", "transfer-encoding"):
        assert headers[name] == expected[name]


async def test_openai_simulator_pings_as_sse_comment_lines_while_waiting() -> None:
    events, _ = await sse_from_sim("llama-cpp-python", ping_interval=0.001, first_token_delay=0.05)
    pings = [e for e in events if e.startswith(":")]
    assert pings
    assert all(PING.match(p) for p in pings)


async def test_openai_simulator_usage_chunk_only_when_asked() -> None:
    sim = OpenAISimulator(SimSettings(tokens_per_second=0))
    url = await sim.start()
    body = {**REQUEST, "model": "llama3.2", "stream_options": {"include_usage": True}}
    try:
        _, _, raw = await post(url + "/v1/chat/completions", body)
    finally:
        await sim.stop()
    events = [e for e in raw.decode().split("\n\n") if e]
    usage = orjson.loads(events[-2][6:])
    assert usage["choices"] == []
    assert set(usage["usage"]) == {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    }


async def test_openai_simulator_error_bodies_are_openai_shaped() -> None:
    sim = OpenAISimulator(SimSettings(flavor="llama-cpp-python"))
    url = await sim.start()
    try:
        status, _, raw = await post(url + "/v1/chat/completions", {**REQUEST, "model": "x"})
    finally:
        await sim.stop()
    assert status == 404
    assert orjson.loads(raw) == {
        "error": {
            "message": "model 'x' not found",
            "type": "not_found_error",
            "param": None,
            "code": None,
        }
    }


async def ollama_stream(
    sim: OllamaSimulator, body: dict[str, Any]
) -> tuple[dict[str, str], list[bytes]]:
    url = await sim.start()
    try:
        status, headers, raw = await post(url + "/api/chat", body)
    finally:
        await sim.stop()
    assert status == 200
    assert raw.endswith(b"\n")
    return headers, raw.split(b"\n")[:-1]


async def test_ollama_simulator_lines_match_the_reference_lines() -> None:
    body = {
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "sky <b> & sea"}],
        "stream": True,
    }
    headers, lines = await ollama_stream(OllamaSimulator(SimSettings(tokens_per_second=0)), body)
    assert headers["content-type"] == "application/x-ndjson"
    assert headers["transfer-encoding"] == "chunked"
    parsed = [orjson.loads(line) for line in lines]
    first = reference_line(
        '{"model":"llama3.2","created_at":"2026-08-21T18:48:22.385406455Z","message"'
    )
    final = reference_line('{"model":"llama3.2","created_at":"2026-08-21T18:48:26.918Z","message"')
    assert all(shape(p) == shape(first) for p in parsed[:-1])
    assert shape(parsed[-1]) == shape(final)
    assert all(CREATED_AT.match(p["created_at"]) for p in parsed)
    joined = b"".join(lines)
    assert b"\\u003cb\\u003e" in joined
    assert b"\\u0026" in joined
    text = "".join(p["message"]["content"] for p in parsed)
    assert text == "Simulated answer about sky <b> & sea."
    assert parsed[-1]["eval_count"] == len(parsed) - 1


async def test_ollama_simulator_thinking_lines_carry_empty_content() -> None:
    body = {"model": "qwen3:4b", "messages": [{"role": "user", "content": "a cat"}], "stream": True}
    _, lines = await ollama_stream(OllamaSimulator(SimSettings(tokens_per_second=0)), body)
    first = orjson.loads(lines[0])["message"]
    assert list(first) == ["role", "content", "thinking"]
    assert first["content"] == ""


async def test_ollama_simulator_answers_endpoints_with_reference_bodies() -> None:
    sim = OllamaSimulator()
    url = await sim.start()
    tags_example = reference_line('{"models":[{"name":"llama3.2:latest"')
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/") as root:
                assert (root.status, await root.text()) == (200, "Ollama is running")
            async with session.get(url + "/api/version") as version:
                assert await version.json() == {"version": "0.33.0"}
            async with session.get(url + "/api/tags") as tags:
                assert shape((await tags.json())["models"][0]) == shape(tags_example["models"][0])
    finally:
        await sim.stop()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"model": "llama9", "messages": []}, 404, "model 'llama9' not found"),
        ({"messages": []}, 400, "model is required"),
        (
            {"model": "llama3.2", "think": True, "messages": []},
            400,
            '"llama3.2" does not support thinking',
        ),
    ],
)
async def test_ollama_simulator_errors_use_the_exact_reference_bodies(
    body: dict[str, Any], status: int, error: str
) -> None:
    sim = OllamaSimulator()
    url = await sim.start()
    try:
        got_status, headers, raw = await post(url + "/api/chat", body)
    finally:
        await sim.stop()
    assert (got_status, orjson.loads(raw)) == (status, {"error": error})
    assert headers["content-type"] == "application/json; charset=utf-8"


CHAT = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def chat_request(path: str, body: dict[str, Any]) -> bytes:
    data = orjson.dumps(body)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    return head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data


async def raw_chat(port: int, path: str, body: dict[str, Any]) -> socket.socket:
    """A plain socket with a chat request sent, to see exactly when the server writes."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(chat_request(path, body))
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def one_generation(sim: SimulatorBase, path: str) -> AsyncIterator[socket.socket]:
    """The simulator started, busy with one chat that hangs after its first token until the
    socket it yields closes; stopped afterwards."""
    sim.faults.hang_after_tokens = 1
    await sim.start()
    holder = await raw_chat(sim.port, path, CHAT)
    try:
        await eventually(lambda: sim.counters.generating == 1)
        yield holder
    finally:
        holder.close()
        await sim.wait_idle()
        await sim.stop()


async def read_until(sock: socket.socket, marker: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    async with asyncio.timeout(5):
        while marker not in data:
            data += await loop.sock_recv(sock, 65536)
    return data


@pytest.mark.parametrize(("kind", "headers_early"), [("ollama", False), ("openai", True)])
async def test_headers_come_late_from_ollama_and_at_once_from_llamacpp(
    kind: str, headers_early: bool
) -> None:
    settings = SimSettings(tokens_per_second=0, max_parallel=1)
    sim = OllamaSimulator(settings) if kind == "ollama" else OpenAISimulator(settings)
    path = "/api/chat" if kind == "ollama" else "/v1/chat/completions"
    sim.faults.hang_after_tokens = 1
    await sim.start()
    holder = await raw_chat(sim.port, path, CHAT)
    await read_until(holder, b"\r\n\r\n")
    await eventually(lambda: sim.counters.generating == 1)
    waiter = await raw_chat(sim.port, path, CHAT)
    await eventually(lambda: sim.queued_streams == 1)
    if headers_early:
        assert (await read_until(waiter, b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    else:
        with pytest.raises(BlockingIOError):
            waiter.recv(1)  # nothing written: the request waits for a slot without headers
    holder.close()
    # Once the slot frees, the waiter's first chunk arrives (with Ollama's headers before it).
    assert b"assistant" in await read_until(waiter, b"assistant")
    waiter.close()
    await sim.wait_idle()
    await sim.stop()


async def test_ollama_simulator_answers_503_with_the_exact_busy_body_when_the_queue_is_full() -> (
    None
):
    sim = OllamaSimulator(SimSettings(max_parallel=1, max_queue=0))
    async with one_generation(sim, "/api/chat"):
        status, _, raw = await post(sim.url + "/api/chat", CHAT)
        assert status == 503
        assert (
            raw == b'{"error":"server busy, please try again.  maximum pending requests exceeded"}'
        )
        assert BUSY_MESSAGE in raw.decode()


def test_reference_files_are_where_the_tests_read_them() -> None:
    assert Path(REFERENCE / "llm").is_dir()


async def read_response(sock: socket.socket) -> bytes:
    """One whole chunked response (through its terminating zero-length chunk)."""
    return await read_until(sock, b"\r\n0\r\n\r\n")


async def test_llama_server_mode_keeps_alive_in_its_headers_then_hangs_up_after_the_body() -> None:
    # llama-server: `Keep-Alive: timeout=5, max=100`, no `Connection: close`, and the socket
    # closed right after the SSE body; a request sent on it meanwhile gets no answer at all.
    sim = OpenAISimulator(SimSettings(tokens_per_second=0, close_after_stream=0.2))
    await sim.start()
    sock = await raw_chat(sim.port, "/v1/chat/completions", CHAT)
    try:
        response = await read_response(sock)
        head = response.split(b"\r\n\r\n", 1)[0].decode().lower().split("\r\n")
        assert "keep-alive: timeout=5, max=100" in head
        assert not [line for line in head if line.startswith("connection:")]
        assert b"data: [DONE]" in response
        sock.sendall(chat_request("/v1/chat/completions", CHAT))
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(5):
            try:
                rest = await loop.sock_recv(sock, 65536)
            except ConnectionResetError:
                rest = b""
        assert rest == b""  # closed (or reset) without a byte of an answer
        assert (sim.counters.hung_up, sim.counters.requests) == (1, 1)
    finally:
        sock.close()
        await sim.stop()


async def test_without_the_mode_the_llama_server_simulator_keeps_the_connection() -> None:
    sim = OpenAISimulator(SimSettings(tokens_per_second=0))
    await sim.start()
    sock = await raw_chat(sim.port, "/v1/chat/completions", CHAT)
    try:
        await read_response(sock)
        sock.sendall(chat_request("/v1/chat/completions", CHAT))
        assert b"data: [DONE]" in await read_response(sock)
        assert (sim.counters.hung_up, sim.counters.requests) == (0, 2)
    finally:
        sock.close()
        await sim.stop()


def one_at_a_time(**settings: Any) -> SimSettings:
    """llama-cpp-python: one generation at a time, the model list behind its lock."""
    return SimSettings(
        flavor="llama-cpp-python", max_parallel=1, models_wait_for_generation=True, **settings
    )


async def test_llama_cpp_python_mode_answers_the_model_list_only_after_the_generation() -> None:
    sim = OpenAISimulator(one_at_a_time(tokens_per_second=0))
    async with (
        one_generation(sim, "/v1/chat/completions") as holder,
        aiohttp.ClientSession() as http,
    ):
        models = asyncio.ensure_future(http.get(sim.url + "/v1/models"))
        await eventually(lambda: sim.queued_streams == 1)  # waiting for the model lock
        assert not models.done()
        holder.close()  # the generation ends
        async with asyncio.timeout(5):
            response = await models
        assert response.status == 200
        assert response.headers["server"] == "uvicorn"
        listed = [m["id"] for m in (await response.json())["data"]]
        assert listed == ["llama3.2:latest", "qwen3:4b"]
        response.release()


async def test_llama_cpp_python_default_cuts_the_answer_short_when_a_request_waits() -> None:
    # interrupt_requests (its default): the running stream gets `data: [DONE]` with no finish
    # chunk, and the connection drops without the chunked body's terminating chunk.
    sim = OpenAISimulator(one_at_a_time(tokens_per_second=20, interrupt_requests=True))
    await sim.start()
    sock = await raw_chat(sim.port, "/v1/chat/completions", CHAT)
    try:
        await read_until(sock, b'"content": "')  # streaming
        async with aiohttp.ClientSession() as http:
            async with http.get(sim.url + "/v1/models") as response:  # waits for the lock
                assert response.status == 200
            cut = await read_until(sock, b"data: [DONE]")
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(5):
            while chunk := await loop.sock_recv(sock, 65536):
                cut += chunk
        assert b'"finish_reason": "' not in cut
        assert not cut.endswith(b"\r\n0\r\n\r\n")
        assert (sim.counters.interrupted, sim.counters.completed) == (1, 0)
    finally:
        sock.close()
        await sim.wait_idle()
        await sim.stop()
