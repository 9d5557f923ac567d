"""`Connection.push` writes at once through a DirectTransport only when nothing else is, or
could be, sending; everything else still goes through the one writer, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.engine.connection import Connection, DirectTransport
from server.engine.stats import SocketStats
from server.protocol import CloseCode


class GatedTransport:
    """Records what was written and how; `send` waits at a gate while `hold` is set."""

    def __init__(self) -> None:
        self.written: list[tuple[str, bytes]] = []
        self.accept_now = True
        self.hold = False
        self.gate: asyncio.Future[None] | None = None
        self.sending = asyncio.Event()
        self.wrote = asyncio.Event()
        self.closed_with: int | None = None

    def send_now(self, data: bytes) -> bool:
        if not self.accept_now:
            return False
        self.written.append(("now", data))
        return True

    async def send(self, data: bytes) -> None:
        if self.hold:
            self.gate = asyncio.get_running_loop().create_future()
            self.sending.set()
            await self.gate
        self.written.append(("writer", data))
        self.wrote.set()

    async def close(self, code: int, message: str) -> None:
        self.closed_with = code

    def abort(self) -> None:
        pass


@pytest.fixture
async def wired() -> AsyncIterator[tuple[Connection, GatedTransport, SocketStats]]:
    transport = GatedTransport()
    stats = SocketStats()
    conn = Connection(
        transport,
        outbox_limit=4,
        send_timeout=30,
        heartbeat_idle=30,
        on_idle=lambda: None,
        stats=stats,
    )
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0)  # the writer starts and waits for work
    yield conn, transport, stats
    conn.close(CloseCode.NORMAL, "bye")
    async with asyncio.timeout(5):
        await writer


async def written(transport: GatedTransport, count: int) -> None:
    """Until `count` messages were written in all."""
    async with asyncio.timeout(5):
        while len(transport.written) < count:
            transport.wrote.clear()
            await transport.wrote.wait()


def test_the_websocket_transport_is_a_direct_transport() -> None:
    from server.handlers.ws_transport import WebSocketTransport

    assert issubclass(WebSocketTransport, DirectTransport)


async def test_an_idle_connection_writes_without_waking_the_writer(
    wired: tuple[Connection, GatedTransport, SocketStats],
) -> None:
    conn, transport, stats = wired
    assert conn.push(b"1")
    assert conn.push(b"2")
    assert transport.written == [("now", b"1"), ("now", b"2")]
    assert conn.pending() == []
    assert stats.messages_out == 2


async def test_a_send_in_progress_makes_later_pushes_queue_behind_it(
    wired: tuple[Connection, GatedTransport, SocketStats],
) -> None:
    conn, transport, _ = wired
    transport.accept_now, transport.hold = False, True
    conn.push(b"1")  # refused by send_now: the writer takes it and blocks in send
    async with asyncio.timeout(5):
        await transport.sending.wait()
    transport.accept_now, transport.hold = True, False
    conn.push(b"2")
    conn.push(b"3")
    assert conn.pending() == [b"2", b"3"]  # queued, not written past the blocked send
    assert transport.gate is not None
    transport.gate.set_result(None)
    await written(transport, 3)
    assert [data for _, data in transport.written] == [b"1", b"2", b"3"]
    assert [how for how, _ in transport.written] == ["writer"] * 3
    conn.push(b"4")  # idle again: direct
    assert transport.written[-1] == ("now", b"4")


async def test_a_refused_direct_write_is_sent_by_the_writer(
    wired: tuple[Connection, GatedTransport, SocketStats],
) -> None:
    conn, transport, stats = wired
    transport.accept_now = False
    conn.push(b"1")
    await written(transport, 1)
    assert transport.written == [("writer", b"1")]
    assert stats.messages_out == 1


async def test_replayed_messages_go_before_live_ones(
    wired: tuple[Connection, GatedTransport, SocketStats],
) -> None:
    conn, transport, _ = wired
    conn.push_replay([b"old1", b"old2"])
    conn.push(b"live")
    await written(transport, 3)
    assert [data for _, data in transport.written] == [b"old1", b"old2", b"live"]


async def test_a_full_outbox_still_closes_as_slow_consumer(
    wired: tuple[Connection, GatedTransport, SocketStats],
) -> None:
    conn, transport, stats = wired
    transport.accept_now = False
    transport.hold = True  # the client stopped reading: the writer's send never returns
    conn.push(b"first")
    async with asyncio.timeout(5):
        await transport.sending.wait()
    transport.accept_now = True  # must not be used while the writer's send is blocked
    results = [conn.push(b"x") for _ in range(5)]
    assert results == [True] * 4 + [False]
    assert stats.outbox_overflows == 1
    assert conn.closing
    assert [how for how, _ in transport.written] == []
    assert transport.gate is not None
    transport.gate.set_result(None)


async def test_nothing_is_written_directly_before_the_writer_runs() -> None:
    transport = GatedTransport()
    conn = Connection(
        transport,
        outbox_limit=4,
        send_timeout=30,
        heartbeat_idle=30,
        on_idle=lambda: None,
        stats=SocketStats(),
    )
    conn.push(b"early")
    assert transport.written == []
    assert conn.pending() == [b"early"]
