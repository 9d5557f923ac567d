"""`SimulatorBase`: the lifecycle and bookkeeping both LLM simulators share: its own runner on
a real port (with handler cancellation, so a client that leaves stops generation), switching
the listener off and on to refuse connections, and the stream counters tests assert on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from aiohttp import web

from server.harness.llm_sim.common import (
    Faults,
    Responder,
    SimSettings,
    SlotGate,
    StreamCounters,
    default_responder,
)
from server.harness.llm_sim.structured import shaped

log = structlog.get_logger(__name__)


class SimulatorBase:
    """Subclasses add routes in `_routes` and count every chat through `_tracked()`."""

    kind = "llm"

    def __init__(
        self, settings: SimSettings | None = None, responder: Responder = default_responder
    ) -> None:
        self.settings = settings or SimSettings()
        self.faults = Faults()
        self.responder = responder
        self.counters = StreamCounters()
        self.counters.idle.set()
        self.gate = SlotGate(self.settings.max_parallel, self.settings.max_queue)
        #: The body of the last chat request that parsed (what reached the wire).
        self.last_chat: dict[str, Any] | None = None
        self.app = web.Application()
        self._routes(self.app)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def answer(self, payload: dict[str, Any], schema: dict[str, Any] | None) -> str:
        """The responder's answer as the simulated model sends it: JSON when a verdict schema
        was asked for, garbage in that fault (`structured.shaped`)."""
        answer = self.responder(payload.get("messages") or [])
        return shaped(answer, schema, garbage=self.faults.garbage_answers)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def active_streams(self) -> int:
        """Chat requests being served (queued or generating)."""
        return self.counters.active

    @property
    def cancelled_streams(self) -> int:
        return self.counters.cancelled

    @property
    def completed_streams(self) -> int:
        return self.counters.completed

    @property
    def queued_streams(self) -> int:
        """Chat requests waiting for a generation slot."""
        return self.gate.waiting

    def authorised(self, request: web.Request) -> bool:
        key = self.settings.api_key
        return key is None or request.headers.get("Authorization") == f"Bearer {key}"

    async def wait_idle(self) -> None:
        """Return once no chat request is being served."""
        await self.counters.idle.wait()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        self.host = host
        self.port = port
        await self.accept_connections()
        log.info("llm_simulator_started", kind=self.kind, url=self.url)
        return self.url

    async def accept_connections(self) -> None:
        if self._runner is None or self._site is not None:
            return
        self._site = web.TCPSite(self._runner, self.host, self.port)
        await self._site.start()
        if self.port == 0:  # works for asyncio's and uvloop's servers alike
            self.port = self._runner.addresses[-1][1]

    async def refuse_connections(self) -> None:
        """Close the listening socket: new connections are refused, open ones carry on."""
        site, self._site = self._site, None
        if site is not None:
            await site.stop()

    async def stop(self) -> None:
        await self.refuse_connections()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @asynccontextmanager
    async def _tracked(self) -> AsyncIterator[StreamCounters]:
        """Counts one chat request from arrival to end; a client that left counts as cancelled."""
        counters = self.counters
        counters.requests += 1
        counters.active += 1
        counters.idle.clear()
        try:
            yield counters
        except (asyncio.CancelledError, ConnectionResetError):
            counters.cancelled += 1
            raise
        finally:
            counters.active -= 1
            if counters.active == 0:
                counters.idle.set()

    async def _until_disconnected(self, request: web.Request) -> None:
        """Hang (a fault) until the client goes away, noticing it even without cancellation."""
        # No event fires on disconnect unless the runner cancels handlers; polling works in both.
        while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(self.settings.disconnect_poll)
        raise ConnectionResetError("client went away")

    def _drop(self, request: web.Request) -> web.StreamResponse:
        self.counters.dropped += 1
        if request.transport is not None:
            request.transport.abort()
        return web.Response()  # aiohttp drops a response for a closed transport quietly

    async def _serve(self, work: Awaitable[web.StreamResponse]) -> web.StreamResponse:
        """Run one chat under the counters; a client that left is not a server error."""
        try:
            async with self._tracked():
                return await work
        except ConnectionResetError:
            return web.Response()
