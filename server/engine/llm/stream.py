"""`HttpChatStream`: one streamed chat completion over an open aiohttp response.

It owns the response from `__aenter__` to `__aexit__`. A stream that was read to its end goes
back to the connection pool; any other exit (break, error, cancellation) closes the socket at
once, which is also how Ollama and llama.cpp learn to stop generating.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import aiohttp

from server.engine.errors import BackendError, BackendProtocolError, BackendTimeout, InvalidState
from server.engine.llm.decoders import DecodeError
from server.engine.llm.errors import StreamTruncated
from server.engine.llm.types import ChatDelta, ChatRequest, ChatResult, DeltaKind
from server.engine.llm.watchdog import ReadWatchdog

if TYPE_CHECKING:
    from server.engine.llm.base import BaseLLMClient


class StreamInterpreter(Protocol):
    """Turns a dialect's raw bytes into deltas and remembers how the stream ended (pure)."""

    done: bool
    failure: str | None
    finish_reason: str | None
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None

    def feed(self, chunk: bytes) -> list[ChatDelta]: ...

    def finish(self) -> list[ChatDelta]: ...


class HttpChatStream:
    """`async with client.stream_chat(req) as s: async for text in s: ...`, then `s.result`."""

    def __init__(
        self, client: BaseLLMClient, request: ChatRequest, interpreter: StreamInterpreter
    ) -> None:
        self._client = client
        self._request = request
        self._interp = interpreter
        self._config = client.config
        self._response: aiohttp.ClientResponse | None = None
        self._pending: deque[ChatDelta] = deque()
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._entered = False
        self._awaiting = False  # counted in the client's awaiting_first_token
        self._finished = False
        self._reusable = False
        self._started = 0.0
        self._first_token_at: float | None = None
        self._result: ChatResult | None = None
        self._failure: BackendError | None = None
        self._watchdog: ReadWatchdog | None = None
        #: The running loop, once entered: `asyncio.get_running_loop()` and `current_task()`
        #: make a getpid() system call each (CPython 3.11), and a relay reads once per token.
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def result(self) -> ChatResult:
        if self._result is None:
            raise InvalidState("the stream has not been read to its end")
        return self._result

    async def __aenter__(self) -> HttpChatStream:
        if self._entered:
            raise InvalidState("a ChatStream can be entered only once")
        self._entered = True
        loop = self._loop = asyncio.get_running_loop()
        self._started = loop.time()
        deadline = self._started + self._config.first_token_timeout
        self._client.awaiting_first_token += 1
        self._awaiting = True
        try:
            self._response = await self._client.open_stream(self._request, deadline)
        except BaseException:
            self._done_awaiting()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._drop_response()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._content()

    async def _content(self) -> AsyncIterator[str]:
        """Answer text only. One generator per stream, not an iterator object awaiting
        `next_delta` per token: the relay reads once per token (docs/performance.md)."""
        pending = self._pending
        while True:
            while pending:
                delta = pending.popleft()
                if delta.kind is DeltaKind.CONTENT:
                    yield delta.text
            if self._ended():
                return
            await self._read_more()

    async def batches(self) -> AsyncIterator[list[str]]:
        """Answer text in the pieces each read brought together: a relay that has fallen
        behind its LLMs checks and sends them as one message instead of one by one."""
        pending = self._pending
        while True:
            texts = [delta.text for delta in pending if delta.kind is DeltaKind.CONTENT]
            pending.clear()
            if texts:
                yield texts
            if self._ended():
                return
            await self._read_more()

    async def deltas(self) -> AsyncIterator[ChatDelta]:
        """Every delta, thinking included (the plain iterator yields answer text only)."""
        pending = self._pending
        while True:
            while pending:
                yield pending.popleft()
            if self._ended():
                return
            await self._read_more()

    def _ended(self) -> bool:
        """Nothing more will come: True at a clean end; the stream's failure is raised."""
        if self._failure is not None:
            raise self._failure
        return self._finished

    async def _read_more(self) -> None:
        response = self._response
        if response is None:
            raise InvalidState("use `async with` before iterating a ChatStream")
        chunk = await self._read_chunk(response)
        try:
            deltas = self._interp.finish() if not chunk else self._interp.feed(chunk)
        except (DecodeError, StreamTruncated) as exc:
            raise self._translate(exc) from exc
        self._accept(deltas)
        if self._interp.failure is not None:
            message = f"error in stream: {self._interp.failure}"
            self._failure = self._client.error(BackendError, message)
        elif not chunk:
            self._reusable = True
            self._finish()
        elif self._interp.done:
            self._reusable = await self._drain(response)
            self._finish()

    async def _read_chunk(self, response: aiohttp.ClientResponse) -> bytes:
        loop = self._running_loop()
        timeout, which = self._read_bound(loop)
        task = asyncio.current_task(loop)
        assert task is not None
        watchdog = self._watchdog
        if watchdog is None:
            watchdog = self._watchdog = ReadWatchdog(loop)
        watchdog.start(task, timeout)
        try:
            return await response.content.readany()
        except asyncio.CancelledError as exc:
            if not watchdog.expired(task):
                raise
            timed_out = TimeoutError()  # what asyncio.timeout would have raised
            timed_out.__cause__ = exc
            raise self._client.error(
                BackendTimeout, f"{which} timeout: nothing within {timeout:.1f}s", timed_out
            ) from timed_out
        except aiohttp.ClientError as exc:
            raise self._client.error(
                BackendProtocolError, f"truncated: connection lost mid-stream ({exc!r})", exc
            ) from exc
        finally:
            watchdog.stop()

    def _read_bound(self, loop: asyncio.AbstractEventLoop) -> tuple[float, str]:
        if self._first_token_at is None:
            remaining = self._started + self._config.first_token_timeout
            return max(0.0, remaining - loop.time()), "first token"
        return self._config.idle_timeout, "idle"

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            raise InvalidState("use `async with` before iterating a ChatStream")
        return loop

    def _accept(self, deltas: list[ChatDelta]) -> None:
        if not deltas:
            return
        now = self._running_loop().time()
        # Proof of life for the health checks: a busy server may answer them late.
        self._client.last_delivery = now
        if self._first_token_at is None:
            self._first_token_at = now
            self._done_awaiting()
        for delta in deltas:
            (self._text if delta.kind is DeltaKind.CONTENT else self._thinking).append(delta.text)
        self._pending.extend(deltas)

    async def _drain(self, response: aiohttp.ClientResponse) -> bool:
        """After the final event, wait briefly for the body's end so the socket can be reused."""
        try:
            async with asyncio.timeout(self._config.drain_timeout):
                while await response.content.readany():
                    pass
        except (TimeoutError, aiohttp.ClientError):
            return False
        return True

    def _finish(self) -> None:
        self._finished = True
        now = self._running_loop().time()
        interp = self._interp
        self._result = ChatResult(
            text="".join(self._text),
            thinking="".join(self._thinking),
            finish_reason=interp.finish_reason,
            model=interp.model,
            prompt_tokens=interp.prompt_tokens,
            completion_tokens=interp.completion_tokens,
            time_to_first_token_s=(
                None if self._first_token_at is None else self._first_token_at - self._started
            ),
            duration_s=now - self._started,
        )
        self._drop_response()

    def _done_awaiting(self) -> None:
        """The stream no longer waits for its first token: it came, or the stream ended."""
        if self._awaiting:
            self._awaiting = False
            self._client.awaiting_first_token -= 1

    def _drop_response(self) -> None:
        self._done_awaiting()
        if self._watchdog is not None:
            self._watchdog.close()
        response, self._response = self._response, None
        if response is None:
            return
        if self._reusable:
            response.release()
        else:
            response.close()
        self._client.response_closed()

    def _translate(self, exc: Exception) -> BackendError:
        if isinstance(exc, StreamTruncated):
            return self._client.error(BackendProtocolError, f"truncated: {exc}", exc)
        return self._client.error(BackendProtocolError, f"undecodable stream: {exc}", exc)
