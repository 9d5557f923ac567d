"""`/ws`: the one WebSocket of a browser session.

This task is the socket's only reader. Everything it sends goes through the connection's
outbox and writer task (`server.engine.connection`). It checks the Origin before the upgrade,
waits for `hello`, then validates each message, rate-limits, and dispatches it through the
command table (`server.handlers.commands`); the frame itself is written by
`server.handlers.ws_transport`.

The socket belongs to the identity its upgrade proved (the identity middleware's cookie check;
none: a cookie-less guest). In the `codes` access mode a socket without a joined identity is
refused in answer to its `hello`, before any session exists.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from typing import Any

import structlog
from aiohttp import WSMessage, WSMsgType, web

from server.engine.connection import Connection
from server.engine.errors import AtelierError
from server.engine.people.identity import Identity, anonymous
from server.engine.people.per_address import fair_group
from server.engine.ratelimit import MessageRate, TokenBucket
from server.engine.session import Session
from server.engine.session_table import TooManySessions
from server.engine.sessions import ResumeLimited, ServerFull
from server.engine.state.adoption import open_session
from server.handlers.client_address import client_address
from server.handlers.commands import COMMANDS, NO_SCOPE, Caller
from server.handlers.errors import error_fields
from server.handlers.identity import LOOKED_UP_AT
from server.handlers.keys import (
    CLASSES,
    IDENTITY,
    MESSAGE_BUDGETS,
    READY,
    REGISTRY,
    RUNS,
    SETTINGS,
    SOCKETS,
    STATS,
)
from server.handlers.origin import origin_allowed
from server.handlers.ws_transport import WebSocketTransport
from server.protocol import (
    PROTOCOL_VERSION,
    AccessMode,
    ClientMessage,
    CloseCode,
    Error,
    ErrorCode,
    Hello,
    ProtocolError,
    encode,
    parse_client,
)
from server.settings import Settings

log = structlog.get_logger(__name__)

#: Frames above this are refused by aiohttp itself (close 1009); below it but above the
#: message limit the client gets a `too_large` error and the socket stays open.
HARD_FRAME_CAP = 1024 * 1024


#: A new session refused: the `error` goes out, then this close.
_REFUSALS: dict[type[AtelierError], tuple[CloseCode, str]] = {
    ServerFull: (CloseCode.TRY_AGAIN_LATER, "server full"),
    ResumeLimited: (CloseCode.RESUME_LIMITED, "resumed too often"),
    TooManySessions: (CloseCode.TOO_MANY_SESSIONS, "too many sessions"),
}

JOIN_FIRST = "Join your class first: ask your teacher for the class code."


def frame_cap(settings: Settings) -> int:
    return max(HARD_FRAME_CAP, 4 * settings.max_message_bytes)


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if not origin_allowed(request.headers.get("Origin"), request.host, settings.allowed_origins):
        # Cut to a bound and rate-limited per client by the log's flood guards (server/logs.py).
        log.warning(
            "origin_refused", origin=request.headers.get("Origin"), client=client_address(request)
        )
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(
        compress=False,
        heartbeat=settings.ping_interval,
        max_msg_size=frame_cap(settings),
        decode_text=False,
    )
    await ws.prepare(request)
    await SocketHandler(request, ws).serve()
    return ws


def _must_join(access: AccessMode, proven: Identity | None) -> bool:
    """Whether this socket must join a class before it gets a session: in the `codes` mode
    only members and teachers get one (a guest's cookie, should one be sent, is not enough)."""
    return access is AccessMode.CODES and (proven is None or proven.is_guest)


class SocketHandler:
    """The life of one socket: handshake, read loop, detach."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        app = request.app
        self.ws = ws
        self.settings = app[SETTINGS]
        self.registry = app[REGISTRY]
        self.runs = app[RUNS]
        self.classes = app.get(CLASSES)  # with the pipeline (teachers' `class.watch`)
        self.stats = app[STATS]
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = app[SOCKETS]
        self.ready = app[READY]
        self.session: Session | None = None
        # The socket's identity comes from the upgrade (its cookie); without one, anonymous.
        proven = request.get(IDENTITY)
        self.identity = proven or anonymous(secrets.token_urlsafe(12))
        self.role = self.identity.role
        self.join_required = _must_join(self.registry.info.access, proven)
        self.address = client_address(request)
        loop = asyncio.get_running_loop()
        self.clock = loop.time
        # When the cookie's person was read (revocations after it are checked at `hello`).
        self.looked_up_at = request.get(LOOKED_UP_AT, self.clock())
        own = TokenBucket(
            self.settings.messages_per_second, self.settings.message_burst, self.clock()
        )
        # Its person's budget too, over all their sockets (a guest's: its whole address's).
        person = fair_group(self.identity, self.address)
        self.rate = MessageRate(own, app[MESSAGE_BUDGETS], person)
        self.connection = Connection(
            WebSocketTransport(ws, request),
            outbox_limit=self.settings.outbox_limit,
            send_timeout=self.settings.send_timeout,
            heartbeat_idle=self.settings.heartbeat_idle,
            on_idle=self._idle,
            stats=self.stats,
        )

    def _idle(self) -> None:
        if self.session is not None:
            self.session.heartbeat()

    async def serve(self) -> None:
        self.sockets.add(self.ws)
        self.stats.sockets_open += 1
        writer = asyncio.create_task(self.connection.run_writer())
        if not self.ready.is_set():  # upgraded while the server began shutting down
            self.connection.close(CloseCode.GOING_AWAY, "server shutting down")
        try:
            if not self.connection.closing and await self._handshake():
                await self._read_loop()
        finally:
            self.stats.sockets_open -= 1
            if self.session is not None:
                self.registry.detach(self.session, self.connection)
            self.connection.close(CloseCode.NORMAL, "bye")
            await self._stop_writer(writer)

    async def _stop_writer(self, writer: asyncio.Task[None]) -> None:
        try:
            async with asyncio.timeout(self.settings.send_timeout + 1):
                await writer
        except TimeoutError:
            writer.cancel()

    # -- handshake

    async def _handshake(self) -> bool:
        deadline = self.clock() + self.settings.hello_timeout
        while self.session is None:
            remaining = deadline - self.clock()
            try:
                msg = await self.ws.receive(timeout=max(remaining, 0.001))
            except TimeoutError:
                self.connection.close(CloseCode.HELLO_TIMEOUT, "no hello received")
                return False
            data = self._frame_data(msg)
            if data is None:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                return False
            await self._greet(data)
            if self.connection.closing:
                return False
        return True

    async def _greet(self, data: bytes) -> None:
        """Answer one frame before `hello`. No content ends the socket: only a protocol
        version we do not speak or a full server close it."""
        try:
            await self._open_session(parse_client(data))
        except Exception as exc:
            fields = error_fields(exc)
            self._send_unnumbered(fields["code"], fields["message"])

    async def _open_session(self, message: ClientMessage) -> None:
        if not isinstance(message, Hello):
            raise ProtocolError(ErrorCode.HELLO_REQUIRED, "send `hello` first")
        if message.protocol != PROTOCOL_VERSION:
            self._send_unnumbered(
                ErrorCode.PROTOCOL_VERSION,
                f"this server speaks protocol {PROTOCOL_VERSION}, not {message.protocol}",
            )
            self.connection.close(
                CloseCode.PROTOCOL_VERSION, "unsupported protocol version", drain=True
            )
            return
        if self.join_required:
            self._send_unnumbered(ErrorCode.JOIN_REQUIRED, JOIN_FIRST)
            self.connection.close(CloseCode.JOIN_REQUIRED, "join a class first", drain=True)
            return
        if self.registry.revoked_since(self.identity.key, self.looked_up_at):
            self._send_unnumbered(ErrorCode.JOIN_REQUIRED, JOIN_FIRST)
            self.connection.close(CloseCode.IDENTITY_REVOKED, "identity revoked", drain=True)
            return
        try:
            # `registry.open`, first taking over a session another instance held.
            self.session = await open_session(
                self.registry, self.connection, message, self.identity, self.address
            )
        except (ServerFull, ResumeLimited, TooManySessions) as exc:
            close, reason = _REFUSALS[type(exc)]
            self._send_unnumbered(**error_fields(exc))
            self.connection.close(close, reason, drain=True)

    def _send_unnumbered(self, code: ErrorCode, message: str, **fields: Any) -> None:
        """An `error` answering a message of this socket: sent live with seq 0, never logged.

        It answers what this socket just sent and is not part of the session's run history,
        so a flood of bad messages cannot fill the replay log or be replayed on resume, and
        the numbered stream stays gap-free (docs/protocol.md, "Sequence numbers").
        """
        self.connection.push(encode(Error(seq=0, code=code, message=message, **fields)))

    # -- after the handshake

    async def _read_loop(self) -> None:
        while not self.connection.closing:
            msg = await self.ws.receive()
            data = self._frame_data(msg)
            if data is None:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                return
            self._handle(data)

    def _frame_data(self, msg: WSMessage) -> bytes | None:
        """The payload of a text frame within limits; otherwise None (after any error reply)."""
        if msg.type is not WSMsgType.TEXT and msg.type is not WSMsgType.BINARY:
            return None
        self.stats.messages_in += 1
        if not self._within_rate():
            return None
        payload: bytes = msg.data if isinstance(msg.data, bytes) else str(msg.data).encode()
        if msg.type is WSMsgType.BINARY:
            self._send_unnumbered(ErrorCode.UNSUPPORTED_FRAME, "binary frames are not accepted")
            return None
        if len(payload) > self.settings.max_message_bytes:
            self._send_unnumbered(
                ErrorCode.TOO_LARGE,
                f"message of {len(payload)} bytes exceeds the limit of "
                f"{self.settings.max_message_bytes} bytes",
            )
            return None
        return payload

    def _within_rate(self) -> bool:
        if self.rate.take(self.clock()):
            return True
        self.stats.rate_limited += 1
        if self.rate.refused_in_a_row > self.settings.flood_tolerance:
            log.warning("socket_flooding", session=self.session.id if self.session else None)
            self.connection.close(CloseCode.RATE_LIMITED, "too many messages", drain=True)
        else:
            self._send_unnumbered(ErrorCode.RATE_LIMITED, "too many messages; slow down")
        return False

    def _handle(self, data: bytes) -> None:
        """Dispatch one message through the command table; any failure is an `error` reply."""
        assert self.session is not None
        scope = NO_SCOPE
        try:
            message = parse_client(data)
            scope = COMMANDS.scope(message)
            COMMANDS.dispatch(Caller(self.session, self.role, self.runs, self.classes), message)
        except Exception as exc:
            self._send_unnumbered(ref=scope.ref, **error_fields(exc, run=scope.run))
