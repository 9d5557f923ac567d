"""The HTTP connections of one LLM instance: a work pool for chats, a connection of its own for
health checks and model lists, and one retry on a fresh connection for a request that a reused
keep-alive connection lost before any answer.

Why three: llama.cpp's `llama-server` answers a streamed chat with `Keep-Alive: timeout=5` and
no `Connection: close`, then closes the socket a few milliseconds after the body. The next run
takes that connection from the pool and its request fails before a single response byte
(`ServerDisconnectedError`, "Connection reset by peer", "Can not write request body"). The
server did nothing wrong, so the request is sent again, once, on a connection opened for it;
the caller never sees the first failure. aiohttp retries such a request itself only for
idempotent methods, and a chat is a POST. Health checks get their own connector so that runs
holding every work connection can never make a check wait (it would time out and mark a
healthy instance down). A chat waits for a check under way (a few milliseconds when the server
is idle): llama-cpp-python's model lock is not fair, so a chat sent just after a check could
take the lock first, and by default the check waiting for it would cut the answer short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp
import structlog

from server.engine.llm.types import LLMInstanceConfig

log = structlog.get_logger(__name__)

#: Connections for health checks and model lists: one check at a time, plus a start-up
#: check or model refresh that may overlap it.
CHECK_CONNECTIONS = 2


@dataclass(slots=True)
class _Attempt:
    """Per request: did the pool hand out a connection it had used before?"""

    reused: bool = False


async def _note_reuse(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceConnectionReuseconnParams,
) -> None:
    attempt = context.trace_request_ctx
    if isinstance(attempt, _Attempt):
        attempt.reused = True


def _reuse_tracer() -> aiohttp.TraceConfig:
    tracer = aiohttp.TraceConfig()
    tracer.on_connection_reuseconn.append(_note_reuse)
    return tracer


def lost_before_answer(exc: BaseException) -> bool:
    """A request that died on its connection before any response byte: the server closed
    the connection (or reset it) under the request. Connecting never got that far."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return False
    return isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)


class _ChecksUnderWay:
    """How many checks are waiting for their answer; work can wait until none is."""

    def __init__(self) -> None:
        self.count = 0
        self._none = asyncio.Event()
        self._none.set()

    @contextmanager
    def one(self) -> Iterator[None]:
        self.count += 1
        self._none.clear()
        try:
            yield
        finally:
            self.count -= 1
            if not self.count:
                self._none.set()

    async def finished(self) -> None:
        await self._none.wait()


class LLMTransport:
    """Opens and owns the instance's sessions; `work()` POSTs a chat, `check()` GETs a small
    document (health, model list) on the check connection."""

    def __init__(self, config: LLMInstanceConfig) -> None:
        self.config = config
        self._work: aiohttp.ClientSession | None = None
        self._checks: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None
        #: Requests sent again because a reused connection was closed under them.
        self.stale_retries = 0
        self._checking = _ChecksUnderWay()
        #: Chats waiting for a check under way to be answered before they are sent.
        self.held_for_checks = 0

    def open(self) -> None:
        self._work_session()
        self._check_session()

    async def close(self) -> None:
        sessions = (self._work, self._checks, self._fresh)
        self._work = self._checks = self._fresh = None
        for session in sessions:
            if session is not None:
                await session.close()

    async def work(self, url: str, body: bytes) -> aiohttp.ClientResponse:
        await self._after_checks()
        attempt = _Attempt()
        try:
            return await self._work_session().post(url, data=body, trace_request_ctx=attempt)
        except aiohttp.ClientError as exc:
            if not (attempt.reused and lost_before_answer(exc)):
                raise
            self.stale_retries += 1
            log.info("llm_stale_connection_retried", instance=self.config.name, error=repr(exc))
        return await self._fresh_session().post(url, data=body)

    async def _after_checks(self) -> None:
        if not self._checking.count:
            return
        self.held_for_checks += 1
        try:
            await self._checking.finished()
        finally:
            self.held_for_checks -= 1

    async def check(self, url: str) -> aiohttp.ClientResponse:
        with self._checking.one():
            return await self._check_session().get(url)

    def _work_session(self) -> aiohttp.ClientSession:
        if self._work is None or self._work.closed:
            self._work = self._session(self.config.pool_size, tracer=_reuse_tracer())
        return self._work

    def _check_session(self) -> aiohttp.ClientSession:
        if self._checks is None or self._checks.closed:
            self._checks = self._session(CHECK_CONNECTIONS)
        return self._checks

    def _fresh_session(self) -> aiohttp.ClientSession:
        """Never pools: every request gets a new connection, closed after its answer."""
        if self._fresh is None or self._fresh.closed:
            self._fresh = self._session(self.config.pool_size, force_close=True)
        return self._fresh

    def _session(
        self, limit: int, *, force_close: bool = False, tracer: aiohttp.TraceConfig | None = None
    ) -> aiohttp.ClientSession:
        headers = {"Content-Type": "application/json"}
        if self.config.api_key is not None:
            headers["Authorization"] = "Bearer " + self.config.api_key.get_secret_value()
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, force_close=force_close),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self.config.connect_timeout, sock_read=None
            ),
            headers=headers,
            auto_decompress=True,
            trace_configs=[tracer] if tracer is not None else None,
        )
