"""What both LLM simulators share: settings, run-time fault switches, the deterministic
responder, tokenisation, and the slot gate that mimics Ollama's parallel limit and queue."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from server.harness.vision_marker import vision_verdict

#: `responder(messages) -> answer`; messages are `{"role": ..., "content": ...}` dicts.
Responder = Callable[[Sequence[dict[str, str]]], str]

Flavor = Literal["llama-server", "llama-cpp-python"]

#: Words that make the default responder's safety verdict UNSAFE (tests and demo mode only).
FLAGGED_WORDS = ("weapon", "blood", "gore", "kill", "unsafe")


@dataclass(frozen=True, slots=True)
class SimModel:
    name: str
    #: A thinking model streams `thinking` / `reasoning_content` before its answer.
    thinking: bool = False


@dataclass(frozen=True, slots=True)
class SimSettings:
    """Fixed behaviour of one simulator instance; every bound is named and defaulted."""

    models: tuple[SimModel, ...] = (SimModel("llama3.2:latest"), SimModel("qwen3:4b", True))
    #: 0 means as fast as the loop can write.
    tokens_per_second: float = 50.0
    #: Before the first token (model load and prompt evaluation); Ollama sends no headers yet.
    first_token_delay: float = 0.0
    #: Simultaneous generations (OLLAMA_NUM_PARALLEL); more requests wait for a slot.
    max_parallel: int = 1
    #: Waiting requests beyond this get 503 (OLLAMA_MAX_QUEUE).
    max_queue: int = 512
    #: OpenAI dialect: `: ping` comment interval while queued or slow (sse-starlette: 15 s).
    ping_interval: float = 15.0
    #: OpenAI dialect: which llama.cpp server's byte format to reproduce.
    flavor: Flavor = "llama-server"
    #: llama.cpp servers run one model and accept any name; Ollama checks it.
    accept_any_model: bool = False
    version: str = "0.33.0"
    #: When set, chat requests must carry `Authorization: Bearer <api_key>` (gateways).
    api_key: str | None = None
    #: How often a hung stream looks for a client that went away.
    disconnect_poll: float = 0.05
    #: OpenAI dialect, llama-server's habit: after a streamed answer the connection stays open
    #: (no `Connection: close`), is read no more, and is closed this many seconds after the
    #: body. None: keep-alive works. Real llama-server closed 7-50 ms after the body.
    close_after_stream: float | None = None
    #: OpenAI dialect, llama-cpp-python's habit: `/v1/models` waits for the generation lock,
    #: so it answers only once a slot is free (after the answer being streamed).
    models_wait_for_generation: bool = False
    #: OpenAI dialect, llama-cpp-python's default `interrupt_requests`: while a request waits
    #: for the generation lock, the answer being streamed is cut short (`data: [DONE]` with no
    #: finish chunk, then the connection dropped without the body's last chunk).
    interrupt_requests: bool = False


@dataclass(slots=True)
class Faults:
    """Switches a test may flip at run time; each applies to chat requests arriving after it."""

    #: Send an in-stream error after N tokens (Ollama `{"error":..}` line / SSE error event).
    fail_after_tokens: int | None = None
    #: End the body cleanly after N tokens without `done:true` / `[DONE]`.
    truncate_after_tokens: int | None = None
    #: Stop sending after N tokens (0: before the first) and hold the connection open.
    hang_after_tokens: int | None = None
    #: Drop the TCP connection as soon as a chat request arrives.
    drop_connections: bool = False
    #: Answer every chat with this HTTP status and an error body.
    error_status: int | None = None
    #: A model that follows no format: every answer is `structured.GARBAGE_ANSWER`, schema
    #: or not (the verdict must then block, fail-closed).
    garbage_answers: bool = False


@dataclass(slots=True)
class StreamCounters:
    requests: int = 0
    active: int = 0
    generating: int = 0
    pings: int = 0
    completed: int = 0
    cancelled: int = 0
    failed: int = 0
    busy_rejections: int = 0
    #: Connections closed after a streamed answer (`close_after_stream`).
    hung_up: int = 0
    #: Chat requests whose connection was dropped (`Faults.drop_connections`).
    dropped: int = 0
    #: Streams cut short because another request waited (`interrupt_requests`).
    interrupted: int = 0
    #: Requests for the model list or the version (what health checks ask) received.
    info_requests: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


def default_responder(messages: Sequence[dict[str, str]]) -> str:
    """A short sentence built from the last user message. When a system prompt asks for a
    safety verdict the answer is `SAFE`, or `UNSAFE: <word>` if a flagged word occurs. Shown
    a picture, it answers as a vision model would (`vision_marker`: the picture's marker)."""
    seen = vision_verdict(messages)
    if seen is not None:
        return seen
    system = " ".join(m.get("content", "") for m in messages if m.get("role") == "system")
    user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    if "safety" in system.lower() or "verdict" in system.lower():
        found = [word for word in FLAGGED_WORDS if word in user.lower()]
        return f"UNSAFE: {found[0]}" if found else "SAFE"
    topic = " ".join(user.split()[:12]) or "nothing at all"
    return f"Simulated answer about {topic}."


def thinking_for(answer: str) -> str:
    return f"Let me think about how to say: {answer}"


#: A scripted answer may place token boundaries itself, inside words too ("g\x1fun"): the
#: character marks where one token ends and is never sent.
TOKEN_BREAK = "\x1f"


def tokenize(text: str) -> list[str]:
    """Word-like tokens that keep their leading space, so they join back to `text` exactly;
    an answer holding `TOKEN_BREAK` is split there instead."""
    if TOKEN_BREAK in text:
        return [piece for piece in text.split(TOKEN_BREAK) if piece]
    return re.findall(r"\s*\S+|\s+$", text) or ([text] if text else [])


def prompt_token_count(messages: Sequence[dict[str, str]]) -> int:
    # A chat template adds a handful of tokens per message.
    # A vision message's content is a list of parts (OpenAI); its pictures are not counted.
    return sum(len(tokenize(_text_of(m.get("content")))) + 4 for m in messages)


def _text_of(content: object) -> str:
    return content if isinstance(content, str) else ""


def find_model(settings: SimSettings, name: str) -> SimModel | None:
    for model in settings.models:
        if name in (model.name, model.name.removesuffix(":latest")):
            return model
    return SimModel(name) if settings.accept_any_model else None


class SlotGate:
    """Ollama's runner semaphore with its pending queue in front."""

    def __init__(self, parallel: int, max_queue: int) -> None:
        self._semaphore = asyncio.Semaphore(parallel)
        self._max_queue = max_queue
        self.waiting = 0

    def admits(self) -> bool:
        """False when the request would have to wait and the queue is already full."""
        return not self._semaphore.locked() or self.waiting < self._max_queue

    async def acquire(
        self, tick: float = 0.0, on_tick: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Wait for a slot, calling `on_tick` every `tick` seconds meanwhile (SSE pings)."""
        self.waiting += 1
        try:
            while True:
                try:
                    async with asyncio.timeout(tick if on_tick and tick > 0 else None):
                        await self._semaphore.acquire()
                    return
                except TimeoutError:
                    if on_tick is not None:
                        await on_tick()
        finally:
            self.waiting -= 1

    def release(self) -> None:
        self._semaphore.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class Pacer:
    """Sleeps until each token's due time, so the rate does not drift with write cost."""

    def __init__(self, tokens_per_second: float, first_token_delay: float) -> None:
        self._interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._first = first_token_delay
        self._start = time.monotonic()

    def due(self, index: int) -> float:
        """When token `index` should go out, on the `time.monotonic()` clock."""
        return self._start + self._first + index * self._interval

    async def wait_for(self, index: int) -> None:
        delay = self.due(index) - time.monotonic()
        await asyncio.sleep(delay if delay > 0 else 0)


def rfc3339_nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{fraction:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"
