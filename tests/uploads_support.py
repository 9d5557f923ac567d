"""Uploads in tests: pictures made with Pillow, sent as the page sends them (multipart, one
`image` part, the CSRF header), and what the store holds on disk.

    async with await send_upload(http, server, png_bytes()) as response: ...
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, ClientSession, FormData
from aiohttp.test_utils import TestServer
from PIL import Image

from server.handlers.keys import PIPELINE
from tests.people_support import CSRF_HEADER, csrf_token


def png_bytes(
    size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (30, 90, 200)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


async def send_upload(
    http: ClientSession,
    server: TestServer,
    data: bytes,
    *,
    filename: str = "drawing.png",
    content_type: str = "image/png",
    field: str = "image",
) -> ClientResponse:
    """`POST /api/uploads` as the page sends it; the caller reads and releases the answer."""
    form = FormData()
    form.add_field(field, data, filename=filename, content_type=content_type)
    headers = {CSRF_HEADER: await csrf_token(http, server)}
    return await http.post(server.make_url("/api/uploads"), data=form, headers=headers)


async def uploaded(
    http: ClientSession, server: TestServer, data: bytes | None = None
) -> dict[str, Any]:
    """A stored upload's answer (asserting the 201)."""
    async with await send_upload(http, server, data or png_bytes()) as response:
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def upload_files(server: TestServer) -> list[Path]:
    """Every file in the uploads folder."""
    root = server.app[PIPELINE].services.uploads.root
    assert root is not None
    return sorted(root.iterdir())
