"""Cleaning an upload trusts nothing in it: only real PNG/JPEG/WebP by content, the claimed size
checked before decoding (a bomb is refused from its header), truncated files refused, and what
comes out is a new PNG with the camera's orientation applied and no metadata at all."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from server.engine.uploads.clean import MAX_JPEG_SCANS, ImageBounds, UploadRefused, clean

BOUNDS = ImageBounds(max_pixels=40_000_000, max_side=10_000, max_output_side=2048)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(
    size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 40)
) -> Image.Image:
    return Image.new("RGB", size, colour)


def chunks(png: bytes) -> Iterator[bytes]:
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        yield png[at + 4 : at + 8]
        at += 12 + length


def refusal(data: bytes, bounds: ImageBounds = BOUNDS) -> str:
    with pytest.raises(UploadRefused) as caught:
        clean(data, bounds)
    return caught.value.reason


def with_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its header claiming another size (its CRC fixed): small on disk."""
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return png[:16] + ihdr + crc + png[33:]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_real_picture_becomes_a_png_of_its_size(fmt: str) -> None:
    cleaned = clean(encoded(photo(), fmt), BOUNDS)
    assert cleaned.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (cleaned.width, cleaned.height) == (64, 48)
    with Image.open(io.BytesIO(cleaned.data)) as back:
        assert back.mode == "RGB"
        assert back.size == (64, 48)


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html><script>alert(1)</script></html>",  # HTML renamed .png
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        encoded(photo(), "GIF"),
        encoded(photo(), "BMP"),
        b"",
    ],
    ids=["html", "svg", "gif", "bmp", "empty"],
)
def test_what_is_no_png_jpeg_or_webp_by_content_is_refused(data: bytes) -> None:
    assert refusal(data) == "not_image"


def test_a_wrong_magic_is_refused_whatever_follows() -> None:
    png = encoded(photo(), "PNG")
    assert refusal(b"\x88" + png[1:]) == "not_image"
    # A PNG signature in front of a JPEG: the PNG decoder alone is asked, and says no.
    assert refusal(png[:8] + encoded(photo(), "JPEG")) == "not_image"
    assert refusal(b"RIFF\x00\x00\x00\x00WEBX" + png) == "not_image"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_truncated_file_is_refused(fmt: str) -> None:
    noisy = Image.effect_noise((256, 256), 64).convert("RGB")
    data = encoded(noisy, fmt)
    assert refusal(data[: len(data) * 2 // 3]) in ("bad_image", "not_image")
    assert refusal(data[:40]) in ("bad_image", "not_image")


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = with_size(encoded(Image.new("L", (8, 8)), "PNG"), 20_000, 20_000)
    assert len(bomb) < 200  # small on disk, 400 million pixels claimed

    def never(_: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    assert refusal(bomb) == "bad_image"


def test_a_picture_beyond_our_bounds_but_pillows_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = encoded(Image.new("L", (8, 8)), "PNG")
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda _: pytest.fail("decoded"))
    assert refusal(with_size(small, 8000, 6000)) == "bad_image"  # 48 million pixels
    assert refusal(with_size(small, 12_000, 100)) == "bad_image"  # a side too long
    assert refusal(with_size(small, 0, 100)) in ("bad_image", "not_image")


def test_a_jpeg_of_too_many_scans_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    progressive = encoded(Image.effect_noise((64, 64), 40).convert("RGB"), "JPEG", progressive=True)
    assert clean(progressive, BOUNDS).width == 64  # a progressive JPEG's ten-odd scans are fine
    start = progressive.index(b"\xff\xda")
    scan = progressive[start : progressive.index(b"\xff", start + 2)]  # its first SOS header
    bomb = progressive[:start] + scan * (MAX_JPEG_SCANS + 1) + progressive[start:]
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda _: pytest.fail("decoded"))
    assert refusal(bomb) == "bad_image"


def test_exif_with_gps_is_stripped_and_the_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    data = encoded(photo((80, 40)), "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(0x8825)  # the GPS position is in the upload
    cleaned = clean(data, BOUNDS)
    assert (cleaned.width, cleaned.height) == (40, 80)  # turned as the camera meant
    with Image.open(io.BytesIO(cleaned.data)) as back:
        assert dict(back.getexif()) == {}
        assert back.info == {}
    assert set(chunks(cleaned.data)) == {b"IHDR", b"IDAT", b"IEND"}


def test_every_png_metadata_chunk_is_gone() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "my address is 1 Main Street")
    info.add_text("Author", "Mika", zip=True)
    info.add_itxt("Description", "geheim", lang="de")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    data = encoded(photo(), "PNG", pnginfo=info, exif=exif.tobytes(), icc_profile=b"\0" * 128)
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"} <= set(chunks(data))
    cleaned = clean(data, BOUNDS)
    assert set(chunks(cleaned.data)) == {b"IHDR", b"IDAT", b"IEND"}


def test_colour_hidden_under_transparent_pixels_never_shows() -> None:
    hidden = Image.new("RGBA", (16, 16), (255, 0, 0, 0))  # red, fully transparent
    cleaned = clean(encoded(hidden, "PNG"), BOUNDS)
    with Image.open(io.BytesIO(cleaned.data)) as back:
        assert back.getcolors() == [(256, (255, 255, 255))]


def test_a_large_picture_is_shrunk_to_the_output_side() -> None:
    narrow = ImageBounds(BOUNDS.max_pixels, BOUNDS.max_side, max_output_side=100)
    cleaned = clean(encoded(photo((400, 100)), "JPEG"), narrow)
    assert (cleaned.width, cleaned.height) == (100, 25)
    assert clean(encoded(photo((300, 600)), "PNG"), narrow).height == 100
    assert clean(encoded(photo((60, 30)), "PNG"), narrow).width == 60  # never enlarged


def test_an_animated_webp_gives_its_first_frame() -> None:
    frames = [photo((32, 32), (255, 0, 0)), photo((32, 32), (0, 0, 255))]
    data = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    cleaned = clean(data, BOUNDS)
    with Image.open(io.BytesIO(cleaned.data)) as back:
        assert back.getpixel((5, 5)) == (255, 0, 0)
