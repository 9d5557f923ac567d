"""Coarse previews: a 4 x 4 mosaic of averaged colours, or nothing; never the picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from server.engine import preview_coarse
from server.engine.preview_coarse import BLOCKS, SIDE, coarse_preview


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def detailed(side: int = 256) -> Image.Image:
    """A checkerboard of 1-pixel squares: all detail, nothing a mosaic may keep."""
    image = Image.new("RGB", (side, side))
    image.putdata(
        [(255, 255, 255) if (x + y) % 2 else (0, 0, 0) for y in range(side) for x in range(side)]
    )
    return image


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def test_a_preview_becomes_blocks_of_one_colour_each() -> None:
    source = Image.new("RGB", (128, 128), (200, 0, 0))
    source.paste((0, 0, 200), (0, 0, 64, 64))  # the top-left quarter is blue
    mosaic = decoded(coarse_preview(encoded(source, "JPEG")) or b"")
    assert mosaic.size == (SIDE, SIDE)
    block = SIDE // BLOCKS
    colours = [
        {
            mosaic.getpixel((bx * block + x, by * block + y))
            for x in range(block)
            for y in range(block)
        }
        for by in range(BLOCKS)
        for bx in range(BLOCKS)
    ]
    assert all(len(c) == 1 for c in colours)
    top_left = next(iter(colours[0]))
    assert isinstance(top_left, tuple)
    assert top_left[2] > 150  # blue, averaged
    assert top_left[0] < 60


def test_fine_detail_is_averaged_away() -> None:
    mosaic = decoded(coarse_preview(encoded(detailed(), "PNG")) or b"")
    assert len(mosaic.getcolors(SIDE * SIDE) or ()) == 1  # a checkerboard averages to grey
    assert mosaic.getpixel((0, 0)) in {(127, 127, 127), (128, 128, 128)}


def test_webp_is_read_too() -> None:
    assert coarse_preview(encoded(detailed(64), "WEBP")) is not None


def test_anything_that_does_not_decode_is_dropped() -> None:
    assert coarse_preview(b"") is None
    assert coarse_preview(b"not an image at all") is None
    assert coarse_preview(encoded(detailed(), "PNG")[:200]) is None  # cut short


def test_other_codecs_are_not_even_tried() -> None:
    assert coarse_preview(encoded(detailed(64), "GIF")) is None
    assert coarse_preview(encoded(detailed(64), "BMP")) is None


def test_a_preview_over_the_pixel_bound_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound, lowered so that a real, decodable picture crosses it."""
    monkeypatch.setattr(preview_coarse, "MAX_PIXELS", 100)
    assert coarse_preview(encoded(Image.new("RGB", (10, 10), (1, 2, 3)), "PNG")) is not None
    assert coarse_preview(encoded(Image.new("RGB", (11, 10), (1, 2, 3)), "PNG")) is None
