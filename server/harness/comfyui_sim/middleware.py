"""The simulator's middlewares: ComfyUI's own origin check, and the stopped-process gate."""

from __future__ import annotations

import contextlib
import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from server.harness.comfyui_sim.state import SimState


def stopped_gate(state: SimState) -> Middleware:
    """While the process is stopped a request is accepted (the kernel does that) but not
    handled, and an answer already being made is not sent."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        await state.wait_awake("http")
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            await state.wait_awake("http")
        return response

    return gate


@web.middleware
async def origin_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """ComfyUI's CSRF guard: a loopback Host with a different Origin gets 403."""
    origin, host = request.headers.get("Origin"), request.headers.get("Host")
    if origin and host:
        hostname = host.rsplit(":", 1)[0].strip("[]")
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(hostname).is_loopback and origin.split("://", 1)[-1] != host:
                return web.Response(status=403)
    return await handler(request)
