"""The static files' memory (`server/handlers/static_files.py`): a change on disk is read again,
nothing outside the root or hidden is found, and what `Accept-Encoding` says is respected."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from server.handlers.static_files import StaticFiles, accepts_gzip


def test_a_file_changed_on_disk_is_read_again(tmp_path: Path) -> None:
    script = tmp_path / "a.js"
    script.write_text("export const a = 1;\n" * 20)
    files = StaticFiles(tmp_path)
    before = files.get("a.js")
    assert before is not None
    assert before.gzipped is not None
    assert files.get("a.js") is before  # unchanged: the same bytes, not read again
    script.write_text("export const a = 2;\n" * 20)
    os.utime(script, ns=(before.stamp[1] + 1_000_000, before.stamp[1] + 1_000_000))
    after = files.get("a.js")
    assert after is not None
    assert after.etag != before.etag
    assert after.gzipped is not None
    assert gzip.decompress(after.gzipped) == script.read_bytes()


def test_a_small_file_is_not_compressed_and_a_picture_never(tmp_path: Path) -> None:
    (tmp_path / "tiny.css").write_text("a{}")
    (tmp_path / "big.png").write_bytes(b"\x89PNG" + bytes(4096))
    files = StaticFiles(tmp_path)
    assert [files.get(name).gzipped for name in ("tiny.css", "big.png")] == [None, None]  # type: ignore[union-attr]


def test_nothing_outside_the_root_nor_hidden_is_found(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    (root / ".env").write_text("no")
    (root / "out").symlink_to(tmp_path / "secret.txt")
    files = StaticFiles(root)
    for name in ("../secret.txt", ".env", "out", "", "missing.js"):
        assert files.get(name) is None, name


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("x-gzip", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes
