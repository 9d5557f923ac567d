"""Thin HTTP layer for one ComfyUI instance: every aiohttp error becomes a BackendError here.

Responses are always closed (`async with`), and on cancellation closed at once so no half-read
body returns to the pool; `open_responses` counts the ones in flight. Every answer is a sign
of life for the instance's `Liveness`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from server.engine.comfyui.config import ComfyUIConfig
from server.engine.comfyui.liveness import Liveness
from server.engine.errors import (
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
)
from server.protocol import BackendKind

BACKEND = BackendKind.COMFYUI


class ComfyUIHttp:
    """Requests against one instance over one shared ClientSession."""

    def __init__(
        self, config: ComfyUIConfig, session: aiohttp.ClientSession, liveness: Liveness
    ) -> None:
        self.config = config
        self.session = session
        self.liveness = liveness
        self.base = config.url.rstrip("/")
        self.open_responses = 0

    def error(
        self, cls: type[BackendError], message: str, cause: BaseException | None = None
    ) -> BackendError:
        return cls(message, backend=BACKEND, instance=self.config.name, cause=cause)

    @asynccontextmanager
    async def request(
        self, method: str, path: str, **kwargs: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One exchange; translates transport errors and closes the response on every path."""
        self.liveness.asked()
        try:
            async with self.session.request(method, self.base + path, **kwargs) as response:
                self.liveness.heard()  # whatever it answered, it is not hung
                self.open_responses += 1
                try:
                    yield response
                except asyncio.CancelledError:
                    response.close()
                    raise
                finally:
                    self.open_responses -= 1
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise self.error(BackendTimeout, f"{method} {path} timed out", exc) from exc
        except aiohttp.ClientConnectionError as exc:
            raise self.error(BackendUnavailable, f"{method} {path}: {exc}", exc) from exc
        except aiohttp.ClientError as exc:
            raise self.error(BackendProtocolError, f"{method} {path}: {exc}", exc) from exc

    async def get_json(self, path: str, **params: str) -> Any:
        async with self.request("GET", path, params=params or None) as response:
            body = await response.read()
            if response.status != 200:
                raise self.error(BackendProtocolError, f"GET {path} answered {response.status}")
            return self.decode(path, body)

    async def post_json(self, path: str, payload: object) -> tuple[int, Any]:
        """POST a JSON body; returns the status and the decoded body (None when empty)."""
        data = orjson.dumps(payload)
        headers = {"Content-Type": "application/json"}
        async with self.request("POST", path, data=data, headers=headers) as response:
            body = await response.read()
            if not body.strip():
                return response.status, None
            if "json" not in response.headers.get("Content-Type", ""):
                return response.status, body.decode("utf-8", "replace")
            return response.status, self.decode(path, body)

    async def download(self, params: dict[str, str]) -> tuple[bytes, str]:
        """Read one output from `/view` under the size bound: its bytes and Content-Type.

        Into memory, not onto disk: a picture the disk refuses (full, read-only) is still
        delivered from memory (`server.engine.media`), so the bytes must exist apart from
        the file."""
        limit = self.config.max_output_bytes
        async with self.request("GET", "/view", params=params) as response:
            if response.status != 200:
                raise self.error(
                    BackendProtocolError,
                    f"/view {params.get('filename')} answered {response.status}",
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise self.error(BackendProtocolError, f"output is larger than {limit} bytes")
                chunks.append(chunk)
            mime = response.headers.get("Content-Type", "application/octet-stream")
            return b"".join(chunks), mime

    def decode(self, path: str, body: bytes) -> Any:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise self.error(BackendProtocolError, f"{path}: invalid JSON", exc) from exc
