"""Half-finished requests are cut: a slow head (slowloris) at `header_timeout`, a slow body at
`body_timeout`; upgrades held pending are capped per address and in all.

Over real sockets, through the real listener and app; a trusted proxy on loopback plays the
client addresses (`X-Forwarded-For`).
"""

from __future__ import annotations

import asyncio

import aiohttp

from server.handlers.connlimit import CONNECTION_LIMITS
from server.listener import Listening
from tests.hostile.connections_support import (
    ATTACKER,
    LOOPBACK,
    VICTIM,
    RawConnection,
    running,
    upgrade_status,
)
from tests.pipeline_support import until

#: A request head that would take 10 s to trickle in, a byte each 50 ms.
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
TRICKLE = 0.05


async def trickle(connection: RawConnection, data: bytes) -> int:
    """Send `data` a byte at a time, as a slowloris client does; how many bytes got out."""
    sent = 0
    try:
        for byte in data:
            await connection.send(bytes([byte]))
            sent += 1
            await asyncio.sleep(TRICKLE)  # the attack itself: bytes slow enough to hold it
    except ConnectionError:
        pass
    return sent


async def test_a_slowloris_head_is_cut_at_the_header_timeout() -> None:
    async with running(header_timeout=0.5) as server:
        slow = await RawConnection.open(server)
        sender = asyncio.create_task(trickle(slow, HEAD))
        assert await slow.closed_by_server()
        sent = await sender
        assert 0 < sent < len(HEAD)  # cut while bytes were still coming, before the head ended
        silent = await RawConnection.open(server)
        assert await silent.closed_by_server()  # one that sends nothing at all, too
        whole = await RawConnection.open(server)
        assert await whole.get("/healthz") == b"HTTP/1.1 200 OK"
        for connection in (slow, silent, whole):
            await connection.close()


async def test_a_slow_body_is_answered_408_at_the_body_timeout() -> None:
    async with running(body_timeout=0.5) as server:
        slow = await RawConnection.open(server)
        head = f"POST /healthz HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Length: 100\r\n\r\n"
        await slow.send(head.encode() + b"only ten b")
        assert (await slow.reader.readline()).strip() == b"HTTP/1.1 408 Request Timeout"
        await slow.close()


def pending_upgrade(address: str) -> bytes:
    """An upgrade whose body (allowed before an upgrade) never comes: it stays pending."""
    return (
        f"GET /ws HTTP/1.1\r\nHost: {LOOPBACK}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"X-Forwarded-For: {address}\r\nContent-Length: 10\r\n\r\n"
    ).encode()


async def hold_pending(server: Listening, addresses: list[str]) -> list[RawConnection]:
    upgrades = server.app[CONNECTION_LIMITS].upgrades
    held = []
    for address in addresses:
        connection = await RawConnection.open(server)
        await connection.send(pending_upgrade(address))
        held.append(connection)
    await until(lambda: upgrades.held() == len(addresses))
    return held


async def test_pending_upgrades_are_capped_per_address() -> None:
    async with (
        running(
            trusted_proxies=[LOOPBACK], max_pending_upgrades_per_address=2, body_timeout=60
        ) as server,
        aiohttp.ClientSession() as http,
    ):
        held = await hold_pending(server, [ATTACKER, ATTACKER])
        assert await upgrade_status(http, server, ATTACKER) == 429
        assert await upgrade_status(http, server, VICTIM) == 101
        for connection in held:
            await connection.close()
        await until(lambda: server.app[CONNECTION_LIMITS].upgrades.held() == 0)
        assert await upgrade_status(http, server, ATTACKER) == 101


async def test_pending_upgrades_are_capped_in_all() -> None:
    others = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    async with (
        running(trusted_proxies=[LOOPBACK], max_pending_upgrades=3, body_timeout=60) as server,
        aiohttp.ClientSession() as http,
    ):
        held = await hold_pending(server, others)
        assert await upgrade_status(http, server, VICTIM) == 503
        await held.pop().close()
        await until(lambda: server.app[CONNECTION_LIMITS].upgrades.held() == 2)
        assert await upgrade_status(http, server, VICTIM) == 101
        for connection in held:
            await connection.close()
