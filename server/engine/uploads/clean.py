"""Cleaning an uploaded file into a picture a run may start from, trusting nothing in it.

What a browser says about a file (its name, its Content-Type) is ignored: the bytes decide.
Only PNG, JPEG and WebP are accepted, first by their signature, then by what Pillow detects
when it opens them with that one decoder (an HTML page renamed `.png`, an SVG, a GIF are
refused before any decoder runs). The size a header claims is checked before a pixel is
decoded, against a pixel count and a longest side: a small file that claims 20,000 x 20,000
pixels (a decompression bomb) costs a few header bytes, never 1.2 GB of memory; a JPEG of
more than `MAX_JPEG_SCANS` scans (a CPU bomb) is refused before it is decoded too. A JPEG is
decoded at the smallest scale that still covers the output (`Image.draft`), so a 48-megapixel
phone photo costs a fraction of its full size.

What comes out is new: the orientation the camera wrote applied (`exif_transpose`), then only
the pixels, as RGB (transparency composited onto white: hidden colour under transparent pixels
never shows), shrunk to `max_output_side`, re-encoded as a PNG with no metadata at all (no
EXIF with GPS, no ICC profile, no text chunks). Runs in a worker thread (`store.py`): this is
CPU work and must not hold the event loop.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageFile, ImageOps

#: Formats accepted, by their leading bytes (WebP: `RIFF`, 4 size bytes, `WEBP`).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"WEBP", 8, "WEBP"),
)
#: Scans a JPEG may have: a progressive one has about 10; each scan is another pass over
#: every coefficient, so thousands of them are a CPU bomb no pixel count catches (libjpeg has
#: no limit of its own). Counted by their SOS marker, which entropy-coded data never holds
#: (its 0xFF bytes are stuffed).
MAX_JPEG_SCANS = 100
_SOS = b"\xff\xda"
#: What a transparent picture is laid on: the page's paper.
_BACKGROUND = (255, 255, 255)

Refusal = Literal["not_image", "bad_image"]


class UploadRefused(Exception):
    """The file is not a picture we take (`not_image`) or a broken or oversized one
    (`bad_image`); the message is for the log, never the student."""

    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(detail)
        self.reason: Refusal = reason


@dataclass(frozen=True, slots=True)
class ImageBounds:
    """How large a picture may claim to be, and how large the cleaned one is at most."""

    max_pixels: int
    max_side: int
    max_output_side: int


@dataclass(frozen=True, slots=True)
class Cleaned:
    data: bytes  # a PNG
    width: int
    height: int


def sniff(data: bytes) -> str:
    """The format the file's own first bytes name; `not_image` for any other."""
    for signature, offset, name in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if name == "WEBP" and not data.startswith(b"RIFF"):
                break
            return name
    raise UploadRefused("not_image", "no PNG, JPEG or WebP signature")


def clean(data: bytes, bounds: ImageBounds) -> Cleaned:
    """The upload as a new, bounded, metadata-free PNG; raises UploadRefused."""
    expected = sniff(data)
    with _opened(data, expected) as image:
        _check_size(image.size, bounds)
        if expected == "JPEG":
            _check_scans(data)
            side = bounds.max_output_side
            image.draft("RGB", (side, side))  # decode at a reduced scale when that covers it
        _decode(image)
        picture = _normalised(image, bounds.max_output_side)
    return _encoded(picture)


class _opened:
    """`Image.open` with only the expected decoder, the bomb check as a refusal, and the
    file's own claim compared with what the decoder found."""

    def __init__(self, data: bytes, expected: str) -> None:
        self._data, self._expected = data, expected
        self._image: Image.Image | None = None

    def __enter__(self) -> ImageFile.ImageFile:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(io.BytesIO(self._data), formats=[self._expected])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadRefused("bad_image", f"decompression bomb: {exc}") from None
        except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises for junk
            raise UploadRefused("not_image", f"not a {self._expected}: {exc}") from None
        self._image = image
        if image.format != self._expected:
            raise UploadRefused("not_image", f"{self._expected} signature, {image.format} data")
        return image

    def __exit__(self, *_: object) -> None:
        if self._image is not None:
            self._image.close()


def _check_size(size: tuple[int, int], bounds: ImageBounds) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise UploadRefused("bad_image", f"an empty picture ({width}x{height})")
    if max(width, height) > bounds.max_side or width * height > bounds.max_pixels:
        raise UploadRefused("bad_image", f"{width}x{height} pixels is more than allowed")


def _check_scans(data: bytes) -> None:
    scans = data.count(_SOS)
    if scans > MAX_JPEG_SCANS:
        raise UploadRefused("bad_image", f"a JPEG of {scans} scans")


def _decode(image: ImageFile.ImageFile) -> None:
    """The first frame's pixels, turned as the camera meant, in place (no full-size copy);
    `bad_image` for a truncated or corrupt file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.seek(0)  # an animated WebP or PNG: its first frame only
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused("bad_image", f"cannot decode: {exc}") from None


#: Modes Pillow shrinks with LANCZOS as they are; any other is converted first.
_SHRINKABLE = frozenset({"RGB", "RGBA", "L", "LA"})


def _normalised(image: Image.Image, max_side: int) -> Image.Image:
    """RGB on white, at most `max_side` on its longest side, and a fresh image: no `info`
    (EXIF, ICC profile, text) of the upload is carried over. Shrunk first, in place, so the
    colour work touches the small picture, not a 40-megapixel copy."""
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode not in _SHRINKABLE:  # a palette, 1-bit, 16-bit or CMYK picture
        image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    picture = image.convert("RGBA" if transparent else "RGB")
    flat = Image.new("RGB", picture.size, _BACKGROUND)
    if transparent:
        flat.paste(picture, mask=picture.getchannel("A"))
    else:
        flat.paste(picture)
    return flat


def _encoded(image: Image.Image) -> Cleaned:
    buffer = io.BytesIO()
    # Level 1: a quarter larger than level 6 and 3-5 times faster; the file only travels to
    # the image server and back to its owner, and the encode is most of a clean's time.
    image.save(buffer, "PNG", compress_level=1)
    return Cleaned(buffer.getvalue(), image.width, image.height)
