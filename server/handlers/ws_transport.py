"""The engine's Transport over an aiohttp WebSocket, with the direct send that skips the
writer task for a small frame into an idle socket.

The direct send depends on how aiohttp's `send_frame` behaves in the version setup.cfg pins
(`aiohttp<3.15`); `tests/integration/test_socket_direct_send.py` checks it on a real socket.
"""

from __future__ import annotations

import structlog
from aiohttp import WSMsgType, web

log = structlog.get_logger(__name__)

#: `send_now` writes frames up to this size; far below the transport's high-water mark (64 KiB
#: in uvloop and asyncio), so one such write into an empty buffer never pauses the transport.
DIRECT_SEND_MAX = 16 * 1024


class WebSocketTransport:
    """The engine's Transport over an aiohttp WebSocketResponse."""

    __slots__ = ("_request", "_ws")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self._ws = ws
        self._request = request

    async def send(self, data: bytes) -> None:
        if self._ws.closed:
            raise ConnectionResetError("socket closed")
        await self._ws.send_frame(data, WSMsgType.TEXT)

    def send_now(self, data: bytes) -> bool:
        """Write one text frame without awaiting, if that cannot block (DirectTransport).

        With compression off, aiohttp's `send_frame` writes the frame to the transport
        synchronously and then awaits only to drain a paused transport. A small frame written
        into an empty transport buffer cannot pause it, so the coroutine finishes on its first
        step and is driven here without a task. Anything else is left to the writer task.
        """
        transport = self._request.transport
        if (
            transport is None
            or self._ws.closed
            or self._ws.compress  # compressed frames may go through a task and a lock
            or len(data) > DIRECT_SEND_MAX
            or transport.get_write_buffer_size()
        ):
            return False
        step = self._ws.send_frame(data, WSMsgType.TEXT)
        try:
            step.send(None)
        except StopIteration:
            return True
        except ConnectionError:
            return False  # the writer meets the same error and aborts the transport
        # Not reached with aiohttp 3.14 (see above). Should a later version suspend here, the
        # frame's fate is unknown: drop the socket; the client resumes from its last `seq`.
        step.close()
        log.error("websocket_direct_send_suspended")
        self.abort()
        return False

    async def close(self, code: int, message: str) -> None:
        await self._ws.close(code=code, message=message.encode()[:120])

    def abort(self) -> None:
        if self._request.transport is not None:
            self._request.transport.abort()
