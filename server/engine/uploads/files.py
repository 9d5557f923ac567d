"""The upload store's disk work, each run in a worker thread by the store: never raising, so a
file that could not go is a log line's worth, never a run's or a request's failure."""

from __future__ import annotations

import shutil
from contextlib import suppress
from pathlib import Path


def unlink(path: Path) -> None:
    with suppress(OSError):
        path.unlink(missing_ok=True)


def unlink_all(paths: list[Path]) -> None:
    for path in paths:
        unlink(path)


def move_into(source: Path, target: Path) -> bool:
    """Into a run's folder, if it is still there (a deleted owner's run: no, and the source
    goes); False when it did not move."""
    if not target.parent.is_dir():
        unlink(source)
        return False
    try:
        source.replace(target)
    except OSError:
        unlink(source)
        return False
    return True


def emptied(root: Path) -> None:
    """The uploads folder, empty: files of a previous process belong to nobody now."""
    if root.is_dir():
        shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
