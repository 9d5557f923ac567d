"""The Gradio leg of bench_relay.py: what a teacher would otherwise run (`pip install .[bench]`).

A minimal `gr.ChatInterface` whose function streams the same token source over HTTP (one
shared aiohttp `ClientSession`, like the floor) and yields the answer so far, as a Gradio chat
function does. Its queue is opened up so it is not capped at 1 job per event
(`default_concurrency_limit`) or 40 worker threads (`max_threads`). The client drives it through
Gradio's own queue over its documented HTTP/SSE API: `POST /gradio_api/call/chat` joins the
queue and answers an event id, `GET /gradio_api/call/chat/{id}` streams the event's
`generating` messages (each the whole answer so far) and `complete`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson

#: Jobs Gradio may run at once, and its thread pool: above the bench's 500 streams.
GRADIO_CONCURRENCY = 2000


def serve(port: int, source: str, model: str) -> None:
    """Run the ChatInterface on `port` (blocks)."""
    import gradio as gr

    shared: dict[str, aiohttp.ClientSession] = {}

    def http() -> aiohttp.ClientSession:
        if "s" not in shared:
            connector = aiohttp.TCPConnector(limit=GRADIO_CONCURRENCY)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
            shared["s"] = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return shared["s"]

    async def respond(message: str, history: list[Any]) -> AsyncIterator[str]:
        body = {"model": model, "messages": [{"role": "user", "content": message}]}
        text = ""
        async with http().post(f"{source}/api/chat", json=body) as upstream:
            async for line in upstream.content:
                data = orjson.loads(line)
                if data["done"]:
                    break
                text += data["message"]["content"]
                yield text

    demo = gr.ChatInterface(respond, api_name="chat")
    demo.queue(default_concurrency_limit=GRADIO_CONCURRENCY, max_size=None)
    demo.launch(
        server_name="127.0.0.1", server_port=port, max_threads=GRADIO_CONCURRENCY, quiet=True
    )


async def stream(
    http: aiohttp.ClientSession,
    base: str,
    prompt: str,
    on_text: Callable[[str, int], None],
) -> None:
    """One chat through Gradio's queue; `on_text(new text, receipt ns)` per `generating`."""
    async with http.post(f"{base}/gradio_api/call/chat", json={"data": [prompt, []]}) as join:
        event_id = (await join.json())["event_id"]
    seen = 0
    async with http.get(f"{base}/gradio_api/call/chat/{event_id}") as events:
        event = ""
        async for line in events.content:
            now = time.monotonic_ns()
            if line.startswith(b"event: "):
                event = line[7:].strip().decode()
            elif line.startswith(b"data: ") and event == "generating":
                text = orjson.loads(line[6:])[0]
                on_text(text[seen:], now)  # each message is the whole answer so far
                seen = len(text)
            elif event in ("complete", "error"):
                return
