"""Pure parsing (and encoding, for the simulator) of ComfyUI WebSocket frames.

Text frames are `{"type": T, "data": {...}}`. Binary frames start with a 4-byte big-endian
event type: 1 = PREVIEW_IMAGE (4-byte format, 1 JPEG / 2 PNG, then the image) and
4 = PREVIEW_IMAGE_WITH_METADATA (4-byte JSON length, JSON metadata, then the image).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import orjson

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
FORMAT_MIME = {1: "image/jpeg", 2: "image/png"}
MIME_FORMAT = {mime: code for code, mime in FORMAT_MIME.items()}


class FrameError(ValueError):
    """A frame that does not follow ComfyUI's framing."""


@dataclass(frozen=True)
class TextMessage:
    """A decoded text frame; `prompt_id` is lifted out of `data` when present."""

    type: str
    data: dict[str, Any]

    @property
    def prompt_id(self) -> str | None:
        value = self.data.get("prompt_id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PreviewFrame:
    """A decoded preview image; `prompt_id`/`node_id` only come with the metadata format."""

    event_type: int
    mime: str
    image: bytes
    prompt_id: str | None = None
    node_id: str | None = None


def parse_text(raw: str | bytes) -> TextMessage:
    """Decode one text frame; raises FrameError on anything that is not a typed message."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"invalid JSON: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise FrameError("message without a string 'type'")
    data = obj.get("data")
    return TextMessage(obj["type"], data if isinstance(data, dict) else {})


def parse_binary(frame: bytes) -> PreviewFrame | None:
    """Decode a preview frame; None for event types that carry no image (e.g. 3 = TEXT)."""
    if len(frame) < 8:
        raise FrameError(f"binary frame of {len(frame)} bytes is too short")
    (event,) = struct.unpack_from(">I", frame, 0)
    if event == PREVIEW_IMAGE:
        (fmt,) = struct.unpack_from(">I", frame, 4)
        mime = FORMAT_MIME.get(fmt)
        if mime is None:
            raise FrameError(f"unknown preview image format {fmt}")
        return PreviewFrame(event, mime, frame[8:])
    if event == PREVIEW_IMAGE_WITH_METADATA:
        return _parse_with_metadata(frame)
    return None


def _parse_with_metadata(frame: bytes) -> PreviewFrame:
    (length,) = struct.unpack_from(">I", frame, 4)
    end = 8 + length
    if end > len(frame):
        raise FrameError(f"metadata length {length} exceeds the frame")
    try:
        meta = orjson.loads(frame[8:end])
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"invalid preview metadata: {exc}") from exc
    if not isinstance(meta, dict):
        raise FrameError("preview metadata is not an object")
    mime = meta.get("image_type")
    prompt_id = meta.get("prompt_id")
    node_id = meta.get("node_id")
    return PreviewFrame(
        PREVIEW_IMAGE_WITH_METADATA,
        mime if isinstance(mime, str) else "application/octet-stream",
        frame[end:],
        prompt_id if isinstance(prompt_id, str) else None,
        node_id if isinstance(node_id, str) else None,
    )


def encode_legacy_preview(image: bytes, mime: str) -> bytes:
    """Event 1 framing, as sent to sockets that did not negotiate metadata."""
    return struct.pack(">II", PREVIEW_IMAGE, MIME_FORMAT[mime]) + image


def encode_metadata_preview(image: bytes, metadata: dict[str, Any]) -> bytes:
    """Event 4 framing, for sockets that sent supports_preview_metadata."""
    meta = orjson.dumps(metadata)
    return struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(meta)) + meta + image
