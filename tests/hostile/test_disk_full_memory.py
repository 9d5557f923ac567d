"""The parts of the full-disk path: a refused write leaves nothing behind (on the kernel's
`/dev/full`, which answers every write with ENOSPC, root or not), and the memory that holds
pictures the disk refused is bounded in bytes and in time."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from server.engine.media import HeldMedia, write_file

PNG = b"\x89PNG\r\n\x1a\n"
DEV_FULL = Path("/dev/full")


def full_disk_writer(path: Path, data: bytes) -> None:
    """The real `write_file`, on a disk that is full: its `.part` file is `/dev/full`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name(path.name + ".part").symlink_to(DEV_FULL)
    write_file(path, data)


def test_a_refused_write_leaves_neither_file_nor_part(tmp_path: Path) -> None:
    assert DEV_FULL.exists()  # Linux: the kernel's always-full device
    target = tmp_path / "out.png"
    with pytest.raises(OSError, match="No space left") as refused:
        full_disk_writer(target, PNG * 1000)
    assert refused.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_succeeds_leaves_only_the_file(tmp_path: Path) -> None:
    write_file(tmp_path / "run" / "out.png", PNG)
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["out.png"]
    assert (tmp_path / "run" / "out.png").read_bytes() == PNG


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_oldest_pictures_go_first_to_make_room() -> None:
    held: HeldMedia[str] = HeldMedia(max_bytes=10, seconds=60, clock=Clock())
    assert held.hold("r-aaaa", "a.png", b"x" * 4, "image/png", None)
    assert held.hold("r-bbbb", "b.png", b"x" * 4, "image/png", None)
    assert held.hold("r-cccc", "c.png", b"x" * 4, "image/png", None)
    assert held.get("r-aaaa", "a.png") is None
    assert held.get("r-bbbb", "b.png") is not None
    assert held.held_bytes == 8
    assert len(held) == 2


def test_a_picture_larger_than_the_bound_is_refused_and_nothing_else_goes() -> None:
    held: HeldMedia[str] = HeldMedia(max_bytes=10, seconds=60, clock=Clock())
    held.hold("r-aaaa", "a.png", b"x" * 4, "image/png", None)
    assert not held.hold("r-bbbb", "b.png", b"x" * 11, "image/png", None)
    assert held.get("r-aaaa", "a.png") is not None
    assert held.hold("r-bbbb", "b.png", b"x" * 6, "image/png", None)  # exactly the bound
    assert held.held_bytes == 10


def test_pictures_expire_after_their_time() -> None:
    clock = Clock()
    held: HeldMedia[str] = HeldMedia(max_bytes=100, seconds=60, clock=clock)
    held.hold("r-aaaa", "a.png", b"abc", "image/png", "whose")
    clock.now = 59.9
    found = held.get("r-aaaa", "a.png")
    assert found is not None
    assert (found.data, found.mime, found.facts) == (b"abc", "image/png", "whose")
    clock.now = 60.0
    assert held.get("r-aaaa", "a.png") is None
    assert held.held_bytes == 0


def test_holding_the_same_picture_again_counts_it_once() -> None:
    held: HeldMedia[str] = HeldMedia(max_bytes=100, seconds=60, clock=Clock())
    held.hold("r-aaaa", "a.png", b"x" * 30, "image/png", None)
    held.hold("r-aaaa", "a.png", b"x" * 40, "image/png", None)
    assert (held.held_bytes, len(held)) == (40, 1)
