"""Run records and media on disk: one folder per run under the data directory.

`media_path` is the only way a client-supplied name becomes a path: run ids and file names are
checked against strict patterns and the result must stay inside the run's folder, so no request
can reach another file (the previous server opened client-supplied paths unchecked).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path

import orjson
import structlog

from server.engine.media import write_file
from server.engine.run_record import RunRecord

log = structlog.get_logger(__name__)

RUN_ID = re.compile(r"^r-[A-Za-z0-9_-]{4,40}$")
MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.(png|jpe?g|webp|gif)$")
RECORD_NAME = "record.json"

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


class RecordStore:
    def __init__(self, root: Path, retention_hours: float) -> None:
        self.root = root
        self.retention_seconds = retention_hours * 3600

    def run_dir(self, run_id: str) -> Path:
        if not RUN_ID.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        return self.root / run_id

    def media_path(self, run_id: str, name: str) -> Path | None:
        """The stored file for a media URL, or None if the names are not acceptable."""
        if not RUN_ID.match(run_id) or not MEDIA_NAME.match(name):
            return None
        path = (self.root / run_id / name).resolve()
        if path.parent != (self.root / run_id).resolve():
            return None
        return path

    async def write(self, run_id: str, record: RunRecord) -> None:
        # Per-stage dicts are keyed by `StageName`, which orjson writes as its value only when
        # asked to take keys that are not plain `str`.
        data = orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        await asyncio.to_thread(self._write_sync, self.run_dir(run_id), data)

    @staticmethod
    def _write_sync(folder: Path, data: bytes) -> None:
        # Whole or not at all: a full disk leaves no empty or half-written record behind.
        write_file(folder / RECORD_NAME, data)

    def prune(self, now: float | None = None) -> int:
        """Delete run folders older than the retention period; returns how many."""
        if self.retention_seconds <= 0 or not self.root.is_dir():
            return 0
        cutoff = (now if now is not None else time.time()) - self.retention_seconds
        removed = 0
        for folder in self.root.iterdir():
            if folder.is_dir() and RUN_ID.match(folder.name) and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("runs_pruned", count=removed)
        return removed


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
