"""Real PNG images without Pillow: a vertical gradient whose colours come from a seed."""

from __future__ import annotations

import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def colours(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(key.encode()).digest()
    return (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])


def gradient_rgb(width: int, height: int, key: str) -> bytes:
    """Raw RGB rows fading between two colours derived from `key` (e.g. seed + prompt)."""
    top, bottom = colours(key)
    rows = []
    for y in range(height):
        t = y / max(height - 1, 1)
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows.append(pixel * width)
    return b"".join(rows)


def encode_png(width: int, height: int, rgb: bytes, text: dict[str, str] | None = None) -> bytes:
    """An RGB PNG of raw rows, with `text` as tEXt chunks."""
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [_chunk(b"IHDR", header)]
    for name, value in (text or {}).items():
        chunks.append(_chunk(b"tEXt", name.encode("latin-1") + b"\x00" + value.encode()))
    chunks.append(_chunk(b"IDAT", zlib.compress(raw, 1)))
    chunks.append(_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def gradient_png(width: int, height: int, key: str, text: dict[str, str] | None = None) -> bytes:
    """An RGB PNG fading between two colours derived from `key` (e.g. seed + prompt)."""
    return encode_png(width, height, gradient_rgb(width, height, key), text)
