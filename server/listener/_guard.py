"""Every accepted TCP connection passes this guard before aiohttp sees it.

It caps the open connections of all clients together (`max_connections`) and those of one
peer that is not a trusted proxy (`max_connections_per_address`): such a peer is the client
itself, and its connections count from their first byte, idle ones too. A trusted proxy's
connections carry many clients; their requests are counted per client address by
`server.handlers.connlimit`. A connection beyond a cap is aborted at once, before aiohttp
builds anything for it, and logged once per episode (`server.engine.tally`).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from typing import cast

from server.engine.tally import Scope, Tally
from server.handlers.client_address import IPNetwork
from server.handlers.connlimit import log_ends, log_refusal

ProtocolFactory = Callable[[], asyncio.Protocol]
_EVENT = "connections_refused"


class ConnectionGuard:
    """The connection caps of every listener of one server."""

    def __init__(self, tally: Tally, trusted: tuple[IPNetwork, ...]) -> None:
        self.tally = tally
        self._trusted = trusted

    def wrap(self, factory: ProtocolFactory) -> ProtocolFactory:
        """A protocol factory for `loop.create_server` that passes this guard first."""
        return lambda: GuardedProtocol(self, factory)

    def key(self, peer: object) -> str | None:
        """The tally key of a peer (`peername` of a transport): its address, or None for a
        trusted proxy or a peer without an IP address (only the total counts those)."""
        host = peer[0] if isinstance(peer, tuple) and peer else None
        try:
            address = ipaddress.ip_address(host) if isinstance(host, str) else None
        except ValueError:
            return None
        if address is None or any(address in network for network in self._trusted):
            return None
        return str(address)

    def admit(self, key: str | None) -> bool:
        refusal = self.tally.take(key)
        if refusal is None:
            return True
        limit = self.tally.per_key if refusal.scope is Scope.KEY else self.tally.total
        log_refusal(_EVENT, refusal, key, limit)
        return False

    def release(self, key: str | None) -> None:
        log_ends(_EVENT, self.tally.release(key))


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol behind the guard: built only for an admitted connection, and
    handed every transport event from then on."""

    __slots__ = ("_factory", "_guard", "_inner", "_key")

    def __init__(self, guard: ConnectionGuard, factory: ProtocolFactory) -> None:
        self._guard = guard
        self._factory = factory
        self._inner: asyncio.Protocol | None = None
        self._key: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._key = self._guard.key(transport.get_extra_info("peername"))
        if not self._guard.admit(self._key):
            cast(
                asyncio.Transport, transport
            ).abort()  # no FIN handshake, no request read: the descriptor goes now
            return
        self._inner = self._factory()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is None:
            return  # refused: it was never counted
        self._guard.release(self._key)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()
