"""The simulator's WebSocket side: registration (with ComfyUI's same-clientId bug, on
purpose), feature-flag negotiation, and one publish loop that sends sequentially."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from server.engine.comfyui.frames import encode_legacy_preview, encode_metadata_preview
from server.harness.comfyui_sim.state import SimState


@dataclass(eq=False)
class SimSocket:
    ws: web.WebSocketResponse
    request: web.Request
    flags: dict[str, Any] = field(default_factory=dict)

    @property
    def wants_metadata(self) -> bool:
        return bool(self.flags.get("supports_preview_metadata"))


class SocketHub:
    """Sockets keyed by clientId, and the message queue drained by `publish_loop`."""

    def __init__(self, state: SimState, max_upload_size: int) -> None:
        self.state = state
        self.max_upload_size = max_upload_size
        self.sockets: dict[str, SimSocket] = {}
        self.all_sockets: set[SimSocket] = set()
        self.queue: asyncio.Queue[tuple[list[SimSocket] | None, str | bytes]] = asyncio.Queue()
        self.opened = 0
        #: Set on every queue change and socket close (for `ComfyUISimulator.wait_until`).
        self.changed = asyncio.Event()

    # -- Publisher -----------------------------------------------------------------------

    def _targets(self, sid: str | None, broadcast: bool) -> list[SimSocket] | None:
        if sid is None:
            return list(self.sockets.values()) if broadcast else []
        socket = self.sockets.get(sid)
        return [socket] if socket else []

    def send(
        self, kind: str, data: dict[str, Any], sid: str | None, *, broadcast: bool = False
    ) -> None:
        text = orjson.dumps({"type": kind, "data": data}).decode()
        self.queue.put_nowait((self._targets(sid, broadcast), text))

    def status(self) -> None:
        self.changed.set()
        info = {"status": {"exec_info": {"queue_remaining": self.state.queue_remaining}}}
        self.queue.put_nowait((None, orjson.dumps({"type": "status", "data": info}).decode()))

    def progress(
        self, data: dict[str, Any], preview: bytes | None, meta: dict[str, Any], sid: str | None
    ) -> None:
        text = orjson.dumps({"type": "progress", "data": data}).decode()
        for socket in self._targets(sid, True) or []:
            if preview is None:
                self.queue.put_nowait(([socket], text))
            elif socket.wants_metadata:
                # Event-4 frames arrive before their progress message (captured order).
                self.queue.put_nowait(([socket], encode_metadata_preview(preview, meta)))
                self.queue.put_nowait(([socket], text))
            else:
                self.queue.put_nowait(([socket], text))
                self.queue.put_nowait(([socket], encode_legacy_preview(preview, "image/png")))

    async def publish_loop(self) -> None:
        while True:
            targets, payload = await self.queue.get()
            await self.state.wait_awake("ws_out")
            for socket in list(self.sockets.values()) if targets is None else targets:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    if isinstance(payload, bytes):
                        await socket.ws.send_bytes(payload)
                    else:
                        await socket.ws.send_str(payload)

    # -- the /ws route -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        # Pongs by hand: a stopped process answers no ping (ComfyUI itself autopings).
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        socket = SimSocket(ws, request)
        self.sockets[sid] = socket  # replaces an older socket with the same id, unclosed
        self.all_sockets.add(socket)
        self.opened += 1
        try:
            await self._greet(socket, sid)
            first = True
            async for message in ws:
                await self.state.wait_awake("ws_in")
                if message.type == web.WSMsgType.PING:
                    await ws.pong(message.data)
                    continue
                if first and message.type == web.WSMsgType.TEXT:
                    await self._negotiate(socket, message.data)
                first = False
        finally:
            self.all_sockets.discard(socket)
            # ComfyUI's bug, reproduced: this may unregister a newer socket with the same id.
            self.sockets.pop(sid, None)
            self.changed.set()
        return ws

    async def _greet(self, socket: SimSocket, sid: str) -> None:
        info = {
            "status": {"exec_info": {"queue_remaining": self.state.queue_remaining}},
            "sid": sid,
        }
        await socket.ws.send_str(orjson.dumps({"type": "status", "data": info}).decode())
        running = self.state.running
        if running is not None and running.client_id == sid and self.state.last_node:
            await socket.ws.send_str(
                orjson.dumps({"type": "executing", "data": {"node": self.state.last_node}}).decode()
            )

    async def _negotiate(self, socket: SimSocket, raw: str) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return  # ComfyUI only logs a warning
        if isinstance(message, dict) and message.get("type") == "feature_flags":
            socket.flags = dict(message.get("data") or {})
            reply = {"supports_preview_metadata": True, "max_upload_size": self.max_upload_size}
            await socket.ws.send_str(
                orjson.dumps({"type": "feature_flags", "data": reply}).decode()
            )

    async def drop_all(self) -> None:
        """Fault injection: cut every WebSocket at the TCP level."""
        for socket in list(self.all_sockets):
            transport = socket.request.transport
            if transport is not None:
                transport.abort()
