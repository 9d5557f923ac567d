"""One socket's outbound side: a bounded outbox drained by a single writer task.

Nothing but the writer ever awaits a send, so a browser that stops reading stalls only its own
writer. When its outbox overflows the connection is closed with SLOW_CONSUMER (the events are
still in the session's log, so the client can resume). A send that does not complete within
`send_timeout` aborts the transport: a peer that is alive but not reading would otherwise keep
the send blocked forever (reference/aiohttp-performance.md, finding 2).

Both time bounds (the send timeout and the idle heartbeat) are one timer each that re-arms from
the time of the last send, not a timer per message: with uvloop, creating and cancelling a
timer around every send cost about a third of the writer's CPU per token (docs/performance.md).

When the outbox is empty and no send is in progress, `push` writes the message at once through
a transport that can say it would not block (`DirectTransport.send_now`) instead of waking the
writer task for it: that wake-up per token was the largest cost left between a token and the
socket. Only one send is ever in progress (the writer sends only what sits in the outbox, and
`push` writes only when the outbox is empty and the writer is not sending), and a write that
might block is queued for the writer as before, so the bounds above still hold.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import structlog

from server.engine.stats import SocketStats
from server.protocol import CloseCode

log = structlog.get_logger(__name__)


class Transport(Protocol):
    """What the writer needs of a socket; the WebSocket handler provides it."""

    async def send(self, data: bytes) -> None: ...

    async def close(self, code: int, message: str) -> None: ...

    def abort(self) -> None: ...


@runtime_checkable
class DirectTransport(Transport, Protocol):
    """A transport that can also write without awaiting when that cannot block."""

    def send_now(self, data: bytes) -> bool:
        """Write `data` now and return True, or return False (nothing written) when the
        write might have to wait: the caller then queues it for the writer."""
        ...


class Connection:
    """The outbox and writer of one attached socket."""

    def __init__(
        self,
        transport: Transport,
        *,
        outbox_limit: int,
        send_timeout: float,
        heartbeat_idle: float,
        on_idle: Callable[[], None],
        stats: SocketStats,
    ) -> None:
        self._transport = transport
        self._outbox: deque[bytes] = deque()
        self._replay: deque[bytes] = deque()  # sent first; bounded by the event log instead
        self._limit = outbox_limit
        self._send_timeout = send_timeout
        self._heartbeat_idle = heartbeat_idle
        self._on_idle = on_idle
        self._stats = stats
        self._wake = asyncio.Event()
        self._send_started: float | None = None  # while a send is in progress
        self._last_sent = 0.0
        self._timed_out = False
        self._send_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._close_code: CloseCode | None = None
        self._close_reason = ""
        self.closed = asyncio.Event()
        self._direct = transport if isinstance(transport, DirectTransport) else None
        self._clock: Callable[[], float] | None = None  # set while the writer runs

    # -- producer side (synchronous, never blocks)

    def push(self, data: bytes) -> bool:
        """Queue one message. False when the outbox is full: the connection is then closing."""
        if self._close_code is not None:
            return False
        if len(self._outbox) >= self._limit:
            self._stats.outbox_overflows += 1
            self.close(CloseCode.SLOW_CONSUMER, "outbox full: the client is not reading")
            return False
        if self._send_direct(data):
            return True
        self._outbox.append(data)
        self._wake.set()
        return True

    def _send_direct(self, data: bytes) -> bool:
        """Write now, without the writer, when nothing is queued or being sent."""
        clock, direct = self._clock, self._direct
        if (
            clock is None
            or direct is None
            or self._outbox
            or self._replay
            or self._send_started is not None
            or not direct.send_now(data)
        ):
            return False
        self._stats.messages_out += 1
        self._last_sent = clock()
        return True

    def push_replay(self, items: Iterable[bytes]) -> None:
        """Queue replayed messages ahead of live ones; the event log bounds them, so they
        do not count against the outbox limit."""
        self._replay.extend(items)
        self._wake.set()

    def close(self, code: CloseCode, reason: str, *, drain: bool = False) -> None:
        """Ask the writer to close the socket with `code`. With `drain`, what is already
        queued (say, the error that explains the close) is sent first; otherwise dropped."""
        if self._close_code is None:
            self._close_code = code
            self._close_reason = reason
            if not drain:
                self._outbox.clear()
                self._replay.clear()
            self._wake.set()

    def pending(self) -> list[bytes]:
        """What waits to be sent, in sending order."""
        return [*self._replay, *self._outbox]

    @property
    def closing(self) -> bool:
        return self._close_code is not None

    # -- the writer task

    async def run_writer(self) -> None:
        """Drain the outbox until closed. Runs as the socket's only sending task."""
        loop = asyncio.get_running_loop()
        self._last_sent = loop.time()
        self._clock = loop.time
        try:
            while self._close_code is None:
                if not self._has_work() and not await self._wait_for_work():
                    self._on_idle()
                    continue
                if not await self._send_batch():
                    return
            if self._has_work() and not await self._send_batch():
                return
            await self._send_close()
        finally:
            self._clock = None  # no direct writes once the writer is gone
            self._cancel_timers()
            self.closed.set()

    def _has_work(self) -> bool:
        return bool(self._replay or self._outbox)

    async def _wait_for_work(self) -> bool:
        """Sleep until there is work (True) or `heartbeat_idle` passed since the last send."""
        self._wake.clear()
        if self._idle_timer is None:
            self._arm_idle(asyncio.get_running_loop())
        await self._wake.wait()
        return self._has_work() or self._close_code is not None

    def _arm_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        self._idle_timer = loop.call_at(
            self._last_sent + self._heartbeat_idle, self._idle_due, loop
        )

    def _idle_due(self, loop: asyncio.AbstractEventLoop) -> None:
        self._idle_timer = None
        if loop.time() - self._last_sent >= self._heartbeat_idle:
            self._wake.set()  # the writer finds no work and calls on_idle
        else:
            self._arm_idle(loop)

    async def _send_batch(self) -> bool:
        loop = asyncio.get_running_loop()
        if self._send_timer is None:
            self._send_timer = loop.call_later(self._send_timeout, self._check_send, loop)
        try:
            while self._has_work():
                queue = self._replay or self._outbox
                self._send_started = loop.time()
                await self._transport.send(queue.popleft())
                self._send_started = None
                self._stats.messages_out += 1
        except ConnectionError:
            self._transport.abort()
            return False
        finally:
            self._send_started = None
            self._last_sent = loop.time()
        return not self._timed_out

    def _check_send(self, loop: asyncio.AbstractEventLoop) -> None:
        """The send timer: abort a send that has taken `send_timeout`, else re-arm for the
        one in progress (or stop: the next batch arms it again)."""
        self._send_timer = None
        started = self._send_started
        if started is None:
            return
        if loop.time() - started < self._send_timeout:
            self._send_timer = loop.call_at(started + self._send_timeout, self._check_send, loop)
            return
        self._timed_out = True
        self._stats.send_timeouts += 1
        log.warning("send_timeout", seconds=self._send_timeout)
        self._transport.abort()  # the blocked send then fails with a connection error

    def _cancel_timers(self) -> None:
        for timer in (self._send_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._send_timer = self._idle_timer = None

    async def _send_close(self) -> None:
        assert self._close_code is not None
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._transport.close(int(self._close_code), self._close_reason)
        except (TimeoutError, ConnectionError):
            self._transport.abort()
