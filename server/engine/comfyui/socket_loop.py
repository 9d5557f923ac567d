"""The instance's one shared WebSocket: connect, feed its frames to the dispatcher, reconnect.

Each connection gets a fresh client id (ComfyUI's same-id reconnect bug makes a reused id go
deaf); while the socket is down `connected` is clear and `client_id` is None. Every frame is a
sign of life for the instance's `Liveness`.
"""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import structlog

from server.engine.comfyui.config import ComfyUIConfig
from server.engine.comfyui.dispatch import Dispatcher
from server.engine.comfyui.frames import FrameError, parse_binary, parse_text
from server.engine.comfyui.liveness import Liveness

log = structlog.get_logger(__name__)
FEATURE_FLAGS = '{"type":"feature_flags","data":{"supports_preview_metadata":true}}'


class SocketLoop:
    """Keeps one WebSocket to the instance open and routes what it reads through `dispatch`."""

    def __init__(self, config: ComfyUIConfig, dispatch: Dispatcher, liveness: Liveness) -> None:
        self.config = config
        self._dispatch = dispatch
        self._liveness = liveness
        self.client_id: str | None = None
        self.connected = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.connections = 0

    async def run(self, session: aiohttp.ClientSession, base: str) -> None:
        """Connect to `base`/ws and read until cancelled, backing off between attempts."""
        delay = self.config.ws_reconnect_min
        while True:
            client_id = uuid.uuid4().hex
            try:
                await self._connect_and_read(session, base, client_id)
                delay = self.config.ws_reconnect_min
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.info("comfyui.ws_unavailable", instance=self.config.name, error=str(exc))
            finally:
                self.connected.clear()
                self.client_id = None
                self.ws = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.ws_reconnect_max)

    async def _connect_and_read(
        self, session: aiohttp.ClientSession, base: str, client_id: str
    ) -> None:
        async with session.ws_connect(
            base + "/ws",
            params={"clientId": client_id},
            max_msg_size=self.config.ws_max_message_bytes,
            heartbeat=self.config.ws_heartbeat,
            timeout=aiohttp.ClientWSTimeout(ws_close=self.config.connect_timeout),
        ) as ws:
            await ws.send_str(FEATURE_FLAGS)
            self.ws = ws
            self.client_id = client_id
            self.connections += 1
            self._liveness.heard()
            self.connected.set()
            log.info("comfyui.ws_connected", instance=self.config.name, client_id=client_id)
            async for message in ws:
                self._on_frame(message)

    def _on_frame(self, message: aiohttp.WSMessage) -> None:
        try:
            if message.type == aiohttp.WSMsgType.TEXT:
                self._liveness.heard()
                self._dispatch.on_text(parse_text(message.data))
            elif message.type == aiohttp.WSMsgType.BINARY:
                self._liveness.heard()
                frame = parse_binary(message.data)
                if frame is not None:
                    self._dispatch.on_preview(frame)
        except FrameError as exc:
            log.warning("comfyui.bad_frame", instance=self.config.name, error=str(exc))
