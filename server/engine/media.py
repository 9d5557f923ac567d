"""Writing a run's files, and holding a picture in memory when the disk refuses it.

A full or read-only `data_dir` (ENOSPC, EDQUOT, EROFS, EACCES: any `OSError` while writing)
must not cost a student the picture that was just rendered. `write_file` writes through a
`.part` file replaced into place and removes it when the write fails, so a refused write
leaves no 0-byte or half-written file. The generation stage then puts the picture into
`HeldMedia`, from where `/media/{run}/{file}` serves it, and tells the student that the
server's disk is full.

`HeldMedia` is bounded: at most `max_bytes` in all (the oldest picture goes first to make
room) and each picture for `seconds` after it was held, long enough to deliver it to the page
and for the student to download it.
"""

from __future__ import annotations

import contextlib
import errno
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from server.engine.errors import BackendError
from server.protocol import RunEndCode

#: How a run's file reaches the disk; tests inject one that fails like a full disk.
MediaWriter = Callable[[Path, bytes], None]

#: Defaults of the settings `held_media_bytes` and `held_media_minutes`.
DEFAULT_HELD_BYTES = 256 * 1024 * 1024
DEFAULT_HELD_SECONDS = 30 * 60.0

#: What the log calls the usual reasons, instead of a bare number.
DISK_ERRORS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
}


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (its folder is made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        with contextlib.suppress(OSError):  # a read-only folder refuses the unlink too
            partial.unlink(missing_ok=True)


def disk_error(exc: OSError) -> str:
    """A short account of a refused write for the log (no path: it names the data_dir)."""
    return DISK_ERRORS.get(exc.errno or 0, exc.strerror or type(exc).__name__)


#: What a held picture carries about whose it is (the pipeline's `RunMedia`).
F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class HeldFile(Generic[F]):
    """One picture the disk refused, whose it is, and until when (monotonic clock) it is kept.
    `facts` decide who may read it once its run has ended: its record, which would say so,
    did not reach the disk either."""

    data: bytes
    mime: str
    facts: F | None
    until: float


class HeldMedia(Generic[F]):
    """Pictures kept in memory by (run id, file name), bounded in bytes and in time."""

    def __init__(
        self, max_bytes: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.seconds = seconds
        self._clock = clock
        self._files: OrderedDict[tuple[str, str], HeldFile[F]] = OrderedDict()
        self.held_bytes = 0

    def __len__(self) -> int:
        return len(self._files)

    def hold(self, run_id: str, name: str, data: bytes, mime: str, facts: F | None) -> bool:
        """Keep a picture; False when it alone is larger than the whole bound."""
        if len(data) > self.max_bytes:
            return False
        self._drop((run_id, name))
        self._expire()
        while self.held_bytes + len(data) > self.max_bytes:
            self._drop(next(iter(self._files)))
        until = self._clock() + self.seconds
        self._files[(run_id, name)] = HeldFile(data, mime, facts, until)
        self.held_bytes += len(data)
        return True

    def get(self, run_id: str, name: str) -> HeldFile[F] | None:
        self._expire()
        return self._files.get((run_id, name))

    def _expire(self) -> None:
        now = self._clock()
        while self._files:
            key, held = next(iter(self._files.items()))
            if held.until > now:
                return
            self._drop(key)

    def _drop(self, key: tuple[str, str]) -> None:
        held = self._files.pop(key, None)
        if held is not None:
            self.held_bytes -= len(held.data)


class MediaNotKept(BackendError):
    """A rendered picture neither the disk nor memory could keep: the run fails, and the
    student reads that the server's disk is full (`stages/texts.py`)."""

    code = RunEndCode.DISK_FULL
