"""A scripted Atelier client on the `websockets` library (independent of the server's aiohttp).

It speaks the protocol like the page does: `hello` with resume credentials, sequence checks
(every numbered message must be exactly one more than the last; replay before `welcome` on
resume), reconnect with resume. Tests and the load generator count on its `gaps` and
`duplicates` counters: both must stay zero.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from server.protocol import PROTOCOL_VERSION

Message = dict[str, Any]


class ClientClosed(Exception):
    """The server closed the socket; `code` and `reason` say why."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed: {code} {reason}")
        self.code = code
        self.reason = reason


class AtelierClient:
    def __init__(
        self,
        url: str,
        *,
        origin: str | None = None,
        max_size: int = 4 * 2**20,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.origin = origin
        #: Sent with every upgrade (a proxy's `X-Forwarded-For` naming this client's address).
        self.headers = dict(headers or {})
        self.max_size = max_size
        self.ws: ClientConnection | None = None
        self.session: str | None = None
        self.secret: str | None = None
        self.last_seq = 0
        self.welcome: Message | None = None
        self.messages: list[Message] = []  # every numbered message, in order, no duplicates
        self.gaps = 0
        self.duplicates = 0
        self.reconnects = 0
        self.replayed = 0
        self._expect_replay = False

    # -- connecting

    async def connect(self, *, resume: bool = True, timeout: float = 10.0) -> Message:
        """Open the socket, say hello (resuming if we can), return the `welcome`."""
        headers = {**self.headers, **({"Origin": self.origin} if self.origin else {})}
        # close_timeout: a socket the server already aborted must not hold a reconnect for
        # the library's default 10 s.
        self.ws = await connect(
            self.url,
            additional_headers=headers,
            max_size=self.max_size,
            compression=None,
            close_timeout=1.0,
        )
        hello: Message = {"type": "hello", "protocol": PROTOCOL_VERSION}
        if resume and self.session and self.secret:
            hello.update(session=self.session, secret=self.secret, last_seq=self.last_seq)
            self._expect_replay = True
        await self.send(hello)
        welcome = await self.wait_for(lambda m: m["type"] == "welcome", timeout=timeout)
        self._expect_replay = False
        return welcome

    async def reconnect(self, *, timeout: float = 10.0) -> Message:
        await self.close()
        self.reconnects += 1
        return await self.connect(resume=True, timeout=timeout)

    def drop(self) -> None:
        """Cut the TCP connection without a closing handshake (a tunnel restart, Wi-Fi loss)."""
        if self.ws is not None:
            self.ws.transport.abort()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    # -- sending and receiving

    async def send(self, message: Message) -> None:
        await self._socket().send(orjson.dumps(message).decode())

    async def send_raw(self, data: str | bytes) -> None:
        await self._socket().send(data)

    async def recv(self, timeout: float = 10.0) -> Message:
        """The next message from the server, after sequence bookkeeping."""
        ws = self._socket()
        try:
            async with asyncio.timeout(timeout):
                raw = await ws.recv()
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            raise
        except Exception as exc:
            close = getattr(ws, "close_code", None)
            raise ClientClosed(close, getattr(ws, "close_reason", "") or str(exc)) from exc
        message: Message = orjson.loads(raw)
        self._account(message)
        return message

    async def wait_for(
        self, predicate: Callable[[Message], bool], timeout: float = 10.0
    ) -> Message:
        """Receive until a message matches; every message on the way is still accounted."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout=timeout)
                if predicate(message):
                    return message

    async def expect(self, predicate: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """Like wait_for, but a matching message already received counts (replay comes before
        `welcome`, so `connect` may have consumed it)."""
        for message in self.messages:
            if predicate(message):
                return message
        return await self.wait_for(predicate, timeout)

    async def read_until_closed(self, timeout: float = 10.0) -> tuple[list[Message], ClientClosed]:
        """Read everything the server still sends, then return it with the close."""
        received: list[Message] = []
        async with asyncio.timeout(timeout):
            while True:
                try:
                    received.append(await self.recv(timeout=timeout))
                except ClientClosed as closed:
                    return received, closed

    def _socket(self) -> ClientConnection:
        if self.ws is None:
            raise ClientClosed(None, "not connected")
        return self.ws

    # -- sequence bookkeeping

    def _account(self, message: Message) -> None:
        seq = message.get("seq", 0)
        if message["type"] == "welcome":
            self.welcome = message
            if not message["resumed"]:
                self.last_seq = 0
                self.messages.clear()
            self.session, self.secret = message["session"], message["secret"]
        if seq == 0:  # errors before hello are not part of any session
            return
        if seq <= self.last_seq:
            self.duplicates += 1
            return
        if seq != self.last_seq + 1 and message["type"] != "resync":
            self.gaps += 1
        if self._expect_replay and message["type"] != "welcome":
            self.replayed += 1
        self.last_seq = seq
        self.messages.append(message)

    def of_type(self, kind: str) -> list[Message]:
        return [m for m in self.messages if m["type"] == kind]
