"""The simulators' vision mode: a marker in the picture decides the simulated vision verdict.

Deterministic on purpose: the ComfyUI simulator writes a PNG text chunk (`CHUNK_KEY`) into a
picture whose prompt contains `MARKER_WORD`, and the LLM simulators, asked about a picture,
answer `UNSAFE: ...` when it carries the chunk and `SAFE` otherwise. So a test (or the demo)
gets a blocked picture by asking for "an unsightly ..." picture: a word no text check minds.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: A prompt with this word makes a picture the simulated vision model calls unsafe.
MARKER_WORD = "unsightly"
#: The PNG `tEXt` keyword of the marker, and its value.
CHUNK_KEY = "atelier-vision"
CHUNK_VALUE = "unsafe"
#: What the simulated vision model says about a marked picture.
UNSAFE_ANSWER = "UNSAFE: the picture shows something unsightly."
#: Chunks read from one picture before giving up (a hostile PNG may hold millions).
_MAX_CHUNKS = 64
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_URL = "data:image/png;base64,"


def marks(graph: Mapping[str, Any]) -> dict[str, str]:
    """The text chunks a picture of `graph` gets: the marker when a prompt text asks for it."""
    texts = (n.get("inputs", {}).get("text") for n in graph.values() if isinstance(n, dict))
    marked = any(isinstance(t, str) and MARKER_WORD in t.lower() for t in texts)
    return {CHUNK_KEY: CHUNK_VALUE} if marked else {}


def png_text(data: bytes) -> dict[str, str]:
    """The `tEXt` chunks of a PNG (empty for anything that is not one)."""
    if not data.startswith(_SIGNATURE):
        return {}
    found: dict[str, str] = {}
    for kind, body in _chunks(data):
        if kind == b"tEXt" and b"\x00" in body:
            key, value = body.split(b"\x00", 1)
            found[key.decode("latin-1")] = value.decode("latin-1")
    return found


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = len(_SIGNATURE)
    for _ in range(_MAX_CHUNKS):
        if at + 8 > len(data):
            return
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        yield kind, data[at + 8 : at + 8 + length]
        if kind == b"IEND":
            return
        at += 12 + length


def images_in(messages: Sequence[Mapping[str, Any]]) -> list[bytes]:
    """Every picture in a chat: Ollama's `images` (base64) and OpenAI's `image_url` parts."""
    found: list[str] = []
    for message in messages:
        found += [i for i in message.get("images") or () if isinstance(i, str)]
        content = message.get("content")
        if isinstance(content, list):
            found += [url.removeprefix(_DATA_URL) for url in _image_urls(content)]
    return [_decoded(item) for item in found]


def _image_urls(parts: list[Any]) -> Iterator[str]:
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = (part.get("image_url") or {}).get("url")
            if isinstance(url, str):
                yield url


def _decoded(item: str) -> bytes:
    try:
        return base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError):
        return b""


def vision_verdict(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The simulated vision model's answer; None when the chat shows no picture."""
    pictures = images_in(messages)
    if not pictures:
        return None
    if any(png_text(p).get(CHUNK_KEY) == CHUNK_VALUE for p in pictures):
        return UNSAFE_ANSWER
    return "SAFE"
