"""Moderation in tests: one message over a new socket of a person, and a teacher's GET.

welcome, seen = await socket_answers(student, server, {"type": "run.start", ...})
log = await get_json(teacher, server, f"/api/classes/{class_id}/moderation")
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse
from aiohttp.test_utils import TestServer

from tests.people_support import open_socket


async def socket_answers(
    http: ClientSession, server: TestServer, message: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send `message` over a new socket of `http`; its welcome and every message up to the
    run's `run.done` or an `error`."""
    ws, welcome = await open_socket(http, server)
    assert welcome["type"] == "welcome", welcome
    await ws.send_json(message)
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not seen or seen[-1]["type"] not in ("run.done", "error"):
            seen.append(await ws.receive_json())
    await ws.close()
    return welcome, seen


async def get_json(http: ClientSession, server: TestServer, path: str) -> dict[str, Any]:
    async with http.get(server.make_url(path)) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def next_of(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of type `kind` on the socket (others are skipped), within 10 s."""
    async with asyncio.timeout(10):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message["type"] == kind:
                return message
