"""The whole server behind its real listener (guard, header timeout) on a real 127.0.0.1 port,
and raw TCP clients that can hold a connection open, idle or half-way through a request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from server.app import create_app
from server.harness.client import AtelierClient
from server.listener import Listening, listening
from server.wiring import DemoOptions
from tests.conftest import make_settings
from tests.pipeline_support import FAST

#: Addresses from the documentation ranges (RFC 5737), named by the trusted proxy on loopback.
ATTACKER = "203.0.113.7"
VICTIM = "198.51.100.2"
LOOPBACK = "127.0.0.1"


@contextlib.asynccontextmanager
async def running(**overrides: Any) -> AsyncIterator[Listening]:
    """The real app with the demo simulators, served by `server.listener` on a free port."""
    settings = make_settings(demo="on", host=LOOPBACK, port=0, **overrides)
    app = create_app(settings, demo_options=DemoOptions(FAST))
    async with listening(app, settings) as server:
        yield server


def ws_url(server: Listening) -> str:
    return f"ws://{LOOPBACK}:{server.port}/ws"


def http_url(server: Listening, path: str) -> str:
    return f"http://{LOOPBACK}:{server.port}{path}"


def from_address(address: str) -> dict[str, str]:
    """What the trusted proxy on loopback says about the client's address."""
    return {"X-Forwarded-For": address}


def client(server: Listening, address: str) -> AtelierClient:
    return AtelierClient(ws_url(server), headers=from_address(address))


async def upgrade_status(http: aiohttp.ClientSession, server: Listening, address: str) -> int:
    """Try a WebSocket upgrade from `address`: 101 (then closed again) or the refusal's status."""
    try:
        async with http.ws_connect(ws_url(server), headers=from_address(address)):
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


class RawConnection:
    """A TCP connection that writes exactly what the test says, when it says."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, server: Listening) -> RawConnection:
        reader, writer = await asyncio.open_connection(LOOPBACK, server.port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def closed_by_server(self) -> bool:
        """Wait until the server ends the connection (EOF or reset): True; False when it
        answered something instead."""
        try:
            return await self.reader.read(1) == b""
        except ConnectionResetError:
            return True

    async def get(self, path: str, *headers: str) -> bytes:
        """A whole request on this (kept-alive) connection; the status line of its answer."""
        head = "".join(f"{header}\r\n" for header in headers)
        await self.send(f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}\r\n{head}\r\n".encode())
        status = await self.reader.readline()
        await self._skip_rest()
        return status.strip()

    async def _skip_rest(self) -> None:
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
