"""Benchmark of the LLM clients: the pure decode cost per token, and tokens per second through
a client streaming from a simulator that runs in its own process (so the client's CPU is
measured alone). Prints figures, asserts nothing.

    .venv/bin/python bench/bench_llm_client.py [--streams 20] [--repeat 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from server.engine.llm import ChatMessage, ChatRequest, LLMInstanceConfig, create_llm_client
from server.engine.llm.ollama import OllamaChatInterpreter
from server.engine.llm.openai import OpenAIChatInterpreter

TOKENS = 100_000
ROOT = Path(__file__).resolve().parents[1]


def ollama_body(tokens: int) -> list[bytes]:
    line = {
        "model": "llama3.2",
        "created_at": "2026-08-21T18:48:22.385406455Z",
        "message": {"role": "assistant", "content": " word"},
        "done": False,
    }
    final = {"model": "llama3.2", "message": {"content": ""}, "done": True, "eval_count": tokens}
    return [orjson.dumps(line) + b"\n"] * tokens + [orjson.dumps(final) + b"\n"]


def openai_body(tokens: int) -> list[bytes]:
    chunk = {
        "choices": [{"finish_reason": None, "index": 0, "delta": {"content": " word"}}],
        "created": 1795236001,
        "id": "chatcmpl-uZML9698gpLaZjEv5t2ZUZJzugFtM5lM",
        "model": "smollm2",
        "system_fingerprint": "b0-unknown",
        "object": "chat.completion.chunk",
    }
    finish = {"choices": [{"finish_reason": "stop", "index": 0, "delta": {}}]}
    events = [b"data: " + orjson.dumps(chunk) + b"\n\n"] * tokens
    return [*events, b"data: " + orjson.dumps(finish) + b"\n\n", b"data: [DONE]\n\n"]


def decode_cost(name: str, make: type, body: list[bytes], batch: int) -> None:
    """µs per token when each network read carries `batch` events."""
    chunks = [b"".join(body[i : i + batch]) for i in range(0, len(body), batch)]
    best = float("inf")
    for _ in range(3):
        interp = make("m")
        start = time.perf_counter()
        count = 0
        for chunk in chunks:
            count += len(interp.feed(chunk))
        interp.finish()
        best = min(best, time.perf_counter() - start)
    assert count == TOKENS
    print(f"  {name:7} {batch:>3} events/read: {best / TOKENS * 1e6:6.2f} µs/token")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_simulator(dialect: str, streams: int, repeat: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "server.harness", dialect, "--port", str(port)]
    command += ["--tokens-per-second", "0", "--max-parallel", str(streams)]
    command += ["--answer-repeat", str(repeat), "--accept-any-model"]
    sim = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return sim, port
        time.sleep(0.05)
    sim.kill()
    raise SystemExit(f"the {dialect} simulator did not start")


async def through_client(dialect: str, port: int, streams: int, rounds: int) -> None:
    config = LLMInstanceConfig(name="bench", url=f"http://127.0.0.1:{port}", dialect=dialect)
    client = create_llm_client(config)
    request = ChatRequest(
        model="llama3.2",
        messages=(ChatMessage(role="user", content="a b c d e f g h i j k l"),),
        max_tokens=100_000,
    )

    async def one() -> int:
        count = 0
        async with client.stream_chat(request) as stream:
            async for _ in stream:
                count += 1
        return count

    try:
        await one()  # warm the connection pool
        for _ in range(rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            total = sum(await asyncio.gather(*(one() for _ in range(streams))))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"  {dialect:7} {streams} streams x {total // streams} tokens: "
                f"{total / wall:9.0f} tokens/s, client CPU {cpu / total * 1e6:5.1f} µs/token"
            )
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40, help="answer repetitions (~15 tokens)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("decode + interpret cost (pure, no I/O), best of 3 over", TOKENS, "tokens:")
    for batch in (1, 16):
        decode_cost("ollama", OllamaChatInterpreter, ollama_body(TOKENS), batch)
        decode_cost("openai", OpenAIChatInterpreter, openai_body(TOKENS), batch)
    print("through the client (simulator in its own process, unthrottled):")
    run = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    for dialect in ("ollama", "openai"):
        sim, port = start_simulator(dialect, args.streams, args.repeat)
        try:
            run(through_client(dialect, port, args.streams, args.rounds))
        finally:
            sim.terminate()
            sim.wait(5)


if __name__ == "__main__":
    main()
