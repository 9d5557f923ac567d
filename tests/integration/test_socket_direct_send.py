"""`WebSocketTransport.send_now` over a real aiohttp socket: frames written without a task
arrive whole and in order, and nothing is written once the socket is closed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.handlers.ws_transport import DIRECT_SEND_MAX, WebSocketTransport

Serve = Callable[[web.Application], Awaitable[TestServer]]


async def test_direct_sends_arrive_in_order_and_stop_at_close(aiohttp_server: Serve) -> None:
    results: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        transport = WebSocketTransport(ws, request)
        sent = [transport.send_now(f'{{"n":{i}}}'.encode()) for i in range(200)]
        sent.append(transport.send_now(b"x" * (DIRECT_SEND_MAX + 1)))  # too big: the writer's
        await ws.close()
        sent.append(transport.send_now(b'{"n":-1}'))  # closed: refused
        results.set_result(sent)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = await aiohttp_server(app)
    received: list[str] = []
    async with (
        asyncio.timeout(10),
        aiohttp.ClientSession() as http,
        http.ws_connect(server.make_url("/ws")) as ws,
    ):
        async for msg in ws:
            received.append(msg.data)
    sent = await results
    assert sent == [True] * 200 + [False, False]
    assert received == [f'{{"n":{i}}}' for i in range(200)]
