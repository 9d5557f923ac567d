"""A pass-through HTTP proxy that keeps the raw bytes of every exchange.

Put between Atelier and the real LLM server, it shows what the server actually sent, so a test
can compare the tokens a browser received with the server's own SSE stream rather than with
Atelier's idea of it. Responses are relayed chunk by chunk as they arrive (the stream stays a
stream) and recorded whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web

#: Per-connection headers that are not the proxy's to pass on (RFC 9110, section 7.6.1).
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
)


@dataclass
class Exchange:
    """One request and the response bytes the upstream sent for it."""

    method: str
    path: str
    request_body: bytes
    status: int = 0
    response_body: bytearray = field(default_factory=bytearray)

    def request_json(self) -> Any:
        return orjson.loads(self.request_body)


def sse_data(body: bytes) -> list[str]:
    """The `data:` payloads of an SSE body, in order (written here, not Atelier's decoder)."""
    lines = body.decode().replace("\r\n", "\n").split("\n")
    return [line[len("data:") :].strip() for line in lines if line.startswith("data:")]


def streamed_chunks(exchange: Exchange) -> list[dict[str, Any]]:
    """The chat.completion.chunk objects of a streamed answer (without `[DONE]`)."""
    return [
        orjson.loads(data) for data in sse_data(bytes(exchange.response_body)) if data != "[DONE]"
    ]


def streamed_text(exchange: Exchange) -> str:
    """What the server streamed as the answer: every chunk's `delta.content`, joined."""
    parts = []
    for chunk in streamed_chunks(exchange):
        for choice in chunk.get("choices") or ():
            parts.append((choice.get("delta") or {}).get("content") or "")
    return "".join(parts)


class RecordingProxy:
    """Listens on a free 127.0.0.1 port and forwards everything to `upstream`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.exchanges: list[Exchange] = []
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self._http = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    def to(self, path: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.path == path]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        exchange = Exchange(request.method, request.path, await request.read())
        self.exchanges.append(exchange)
        async with self._http.request(
            request.method,
            self.upstream + request.path_qs,
            headers=_end_to_end(request.headers),
            data=exchange.request_body or None,
        ) as upstream:
            exchange.status = upstream.status
            response = web.StreamResponse(
                status=upstream.status, headers=_end_to_end(upstream.headers)
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                exchange.response_body += chunk
                await response.write(chunk)
            await response.write_eof()
            return response


def _end_to_end(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
