"""`POST /upload/image`: size-limited, content-type checked image uploads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
import structlog

from server.engine.comfyui.http import ComfyUIHttp
from server.engine.errors import BackendError, BackendProtocolError, BackendRejected

log = structlog.get_logger(__name__)

#: Seconds blanking a picture out may take (an instance that went down keeps it).
FORGET_TIMEOUT = 10.0

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


#: A 1x1 black PNG: what a student's picture is overwritten with once its run is over, since
#: ComfyUI has no way to delete an input file.
BLANK_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00"
    b"\x00:~\x9bU\x00\x00\x00\nIDATx\xdac`\x00\x00\x00\x02\x00\x01\xe5'\xde\xfc\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


@dataclass(frozen=True)
class UploadedImage:
    name: str
    subfolder: str
    type: str

    @property
    def reference(self) -> str:
        """How LoadImage names it: `subfolder/name`."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name


def sniff_image(data: bytes) -> str | None:
    """The image MIME type from magic bytes; None when it is not an image we accept."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _MAGIC if data.startswith(magic)), None)


async def upload_image(
    http: ComfyUIHttp, data: bytes, filename: str, *, subfolder: str, overwrite: bool
) -> UploadedImage:
    """POST the picture as ComfyUI's own page does; the name it answers is the one to use
    (with `overwrite` false a different file under the same name makes it `name (1).png`)."""
    if len(data) > http.config.max_upload_bytes:
        raise http.error(
            BackendRejected, f"upload of {len(data)} bytes exceeds {http.config.max_upload_bytes}"
        )
    mime = sniff_image(data)
    if mime is None:
        raise http.error(BackendRejected, "upload is not a PNG, JPEG, GIF or WebP image")
    # Unquoted: ComfyUI stores the file name as sent, so a quoted `a (1).png` would be a
    # different file (`a%20%281%29.png`) from the one it named.
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("image", data, filename=filename.rsplit("/", 1)[-1], content_type=mime)
    form.add_field("type", "input")
    form.add_field("subfolder", subfolder)
    form.add_field("overwrite", "true" if overwrite else "false")
    async with http.request("POST", "/upload/image", data=form) as response:
        body = await response.read()
        if response.status in (400, 413):  # 400 comes with an empty body (upload.jsonl)
            raise http.error(BackendRejected, f"ComfyUI refused the upload ({response.status})")
        if response.status != 200:
            raise http.error(BackendProtocolError, f"upload answered {response.status}")
        info = http.decode("/upload/image", body)
    return _answer(http, info)


def _answer(http: ComfyUIHttp, info: object) -> UploadedImage:
    """`{"name", "subfolder", "type"}`, as ComfyUI 0.3.64 answers; anything else, or a name
    that would reach outside the input folder, is a protocol error."""
    if not isinstance(info, dict):
        raise http.error(BackendProtocolError, "upload answer is not an object")
    name, subfolder, kind = info.get("name"), info.get("subfolder", ""), info.get("type", "input")
    if not isinstance(name, str) or not isinstance(subfolder, str) or kind != "input":
        raise http.error(BackendProtocolError, f"upload answer is not a name: {str(info)[:200]}")
    parts = [*subfolder.split("/"), name] if subfolder else [name]
    if not name or "/" in name or any(part in ("", ".", "..") for part in parts):
        raise http.error(BackendProtocolError, f"upload answer names {name!r} in {subfolder!r}")
    return UploadedImage(name, subfolder, kind)


async def forget(http: ComfyUIHttp, uploaded: UploadedImage) -> None:
    """Overwrite an uploaded picture with `BLANK_PNG` under its exact name; a failure is
    logged, not raised (nothing waits for this)."""
    try:
        async with asyncio.timeout(FORGET_TIMEOUT):
            await upload_image(
                http, BLANK_PNG, uploaded.name, subfolder=uploaded.subfolder, overwrite=True
            )
    except (BackendError, TimeoutError) as exc:
        log.warning("upload_not_blanked", name=uploaded.reference, error=str(exc))
