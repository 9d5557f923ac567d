"""`SseWriter`: writes one OpenAI-style SSE stream for the OpenAI simulator: headers at once,
the role chunk, paced content chunks, `: ping` comments whenever the stream has been quiet for
`ping_interval` (queued, slow, or hung), faults where asked, the finish chunk and `[DONE]`."""

from __future__ import annotations

import asyncio
import datetime
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.harness.llm_sim.common import Pacer

if TYPE_CHECKING:
    from server.harness.llm_sim.openai import ChatRun, OpenAISimulator

#: Response headers as each captured server sends them (shared/reference/llm/*.txt).
HEADERS = {
    "llama-server": {
        "Server": "llama.cpp",
        "Access-Control-Allow-Origin": "",
        "X-Accel-Buffering": "no",
        "Content-Type": "text/event-stream",
        "Keep-Alive": "timeout=5, max=100",
    },
    "llama-cpp-python": {
        "server": "uvicorn",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        "content-type": "text/event-stream; charset=utf-8",
        "vary": "Origin",
    },
}


class SseWriter:
    """Writes one SSE stream: headers at once, pings while idle, faults where asked."""

    def __init__(self, sim: OpenAISimulator, request: web.Request, run: ChatRun) -> None:

        self.sim = sim
        self.request = request
        self.run = run
        self.response = web.StreamResponse(headers=HEADERS[sim.settings.flavor])
        self.last_write = time.monotonic()
        self.ping = sim.settings.ping_interval

    async def serve(self) -> web.StreamResponse:
        await self.response.prepare(self.request)
        await self.sim.gate.acquire(self.ping, self._ping)
        self.sim.counters.generating += 1
        try:
            return await self._generate()
        finally:
            self.sim.counters.generating -= 1
            self.sim.gate.release()

    async def _generate(self) -> web.StreamResponse:
        faults, run = self.sim.faults, self.run
        pacer = Pacer(self.sim.settings.tokens_per_second, self.sim.settings.first_token_delay)
        await self._send(run.role_chunk())
        for index, (kind, token) in enumerate(run.tokens):
            if self.sim.settings.interrupt_requests and self.sim.gate.waiting:
                return await self._interrupted()
            if index == faults.hang_after_tokens:
                await self._idle_until(math.inf)
            if index in (faults.fail_after_tokens, faults.truncate_after_tokens):
                return await self._cut(index)
            await self._idle_until(pacer.due(index))
            await self._send(run.chunk({kind: token}))
        if faults.hang_after_tokens == len(run.tokens):
            await self._idle_until(math.inf)
        await self._send(run.finish_chunk())
        if run.include_usage:
            await self._send(run.usage_chunk())
        await self._write(b"data: [DONE]\n\n")
        await self.response.write_eof()
        self.sim.counters.completed += 1
        if self.sim.settings.close_after_stream is not None:
            self._hang_up(self.sim.settings.close_after_stream)
        return self.response

    def _hang_up(self, delay: float) -> None:
        """llama-server's way: read nothing more on this connection and close it `delay`
        seconds after the body, though its headers promised keep-alive. A request a client
        sends on it meanwhile is never answered (the close resets it)."""
        transport = self.request.transport
        if transport is None:
            return
        transport.pause_reading()
        asyncio.get_running_loop().call_later(delay, transport.close)
        self.sim.counters.hung_up += 1

    async def _interrupted(self) -> web.StreamResponse:
        """llama-cpp-python's interrupt: `[DONE]` without a finish chunk, then the connection
        dropped before the chunked body's end."""
        self.sim.counters.interrupted += 1
        await self._write(b"data: [DONE]\n\n")
        if self.request.transport is not None:
            self.request.transport.abort()
        return self.response

    async def _cut(self, index: int) -> web.StreamResponse:
        self.sim.counters.failed += 1
        if index == self.sim.faults.fail_after_tokens:
            message = f"simulated failure after {index} tokens"
            error = {"error": {"code": 500, "message": message, "type": "server_error"}}
            await self._send(error)
        await self.response.write_eof()
        return self.response

    async def _idle_until(self, due: float) -> None:
        """Sleep until `due`, pinging when quiet for `ping_interval` and noticing a client that
        left (a hang would otherwise never end)."""
        poll = self.sim.settings.disconnect_poll
        transport = self.request.transport
        while True:
            now = time.monotonic()
            if self.ping > 0 and now - self.last_write >= self.ping:
                await self._ping()
            if now >= due:
                await asyncio.sleep(0)
                return
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client went away")
            step = due - now
            if self.ping > 0:
                step = min(step, self.last_write + self.ping - now)
            await asyncio.sleep(min(step, poll) if due == math.inf or step > poll else step)

    async def _ping(self) -> None:
        stamp = datetime.datetime.now(datetime.UTC)
        await self._write(f": ping - {stamp.isoformat(' ')}\n\n".encode())
        self.sim.counters.pings += 1

    async def _send(self, chunk: dict[str, Any]) -> None:
        await self._write(b"data: " + self.sim._dumps(chunk) + b"\n\n")

    async def _write(self, data: bytes) -> None:
        await self.response.write(data)
        self.last_write = time.monotonic()
