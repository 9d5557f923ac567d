"""Run records and media on disk: one folder per run under the data directory, and the
pictures index ("My pictures") that lists them per person.

`media_path` is the only way a client-supplied name becomes a path: run ids and file names are
checked against strict patterns and the result must stay inside the run's folder, so no request
can reach another file (the previous server opened client-supplied paths unchecked).

Whose media a run's are (`media_of`) comes from the run itself while it is in flight (its images
are fetched before it ends) and from its record file afterwards: one source each, and a folder
that is gone (deleted, pruned) answers nobody. The index row is written after the record, so a
listed picture always has its record.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import orjson
import structlog

from server.engine.media import write_file
from server.engine.people.outcomes import stopped_at, teacher_reason
from server.engine.people.rows import PictureRow
from server.engine.picture_access import RunMedia
from server.engine.run_record import RecordedOwner, RunRecord
from server.protocol import RunStatus

log = structlog.get_logger(__name__)

# `\Z`, not `$`: `$` also matches before a final newline, so "r-abcd\n" would pass as an id.
RUN_ID = re.compile(r"^r-[A-Za-z0-9_-]{4,40}\Z")
MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.(png|jpe?g|webp|gif)\Z")
RECORD_NAME = "record.json"

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


class PictureIndex(Protocol):
    """What the records need of the people store (`PeopleStore` is the real one)."""

    async def add_picture(self, row: PictureRow) -> bool: ...

    async def prune_pictures(self, before: float) -> list[str]: ...

    async def prune_class_pictures(self, now: float) -> list[str]: ...


class RecordStore:
    def __init__(
        self, root: Path, retention_hours: float, index: PictureIndex | None = None
    ) -> None:
        self.root = root
        self.retention_seconds = retention_hours * 3600
        self.index = index
        #: Runs in flight, by id: their media are served before their record exists.
        self._live: dict[str, RunMedia] = {}
        #: Called with each record once it is written and indexed: the wall's hook
        #: (`classroom.wall.publish_picture`, set by the wiring). It must not await or raise.
        self.on_indexed: Callable[[RunRecord], None] | None = None

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

    # -- a run's life: in flight, then recorded and indexed

    def begin(self, run_id: str, media: RunMedia) -> None:
        """A run was accepted: its media are its owner's from the first image on."""
        self._live[run_id] = media

    async def finish(self, run_id: str, record: RunRecord) -> None:
        """Write the record, then its index row (any run of someone with a cookie); errors
        are logged (the run still ends for its student). From here on `media_of` reads the
        record."""
        try:
            await self.write(run_id, record)
            if not await self._index(record):
                # The member or class was deleted while the run was ending: it goes with them.
                log.info("record_of_deleted_owner_removed", run=run_id)
                await self.delete_runs([run_id])
            elif self.on_indexed is not None:
                self.on_indexed(record)
        except (OSError, sqlite3.Error) as exc:
            log.error("record_write_failed", run=run_id, error=str(exc))
        finally:
            self._live.pop(run_id, None)

    async def _index(self, record: RunRecord) -> bool:
        """Index the run if it has a row; False when the store refused it (owner gone)."""
        row = picture_row(record)
        if row is None or self.index is None:
            return True
        return await self.index.add_picture(row)

    async def media_of(self, run_id: str) -> RunMedia | None:
        """Whose the run's media are and what names them; None: no such run (or no owner)."""
        if not RUN_ID.match(run_id):
            return None
        live = self._live.get(run_id)
        if live is not None:
            return live
        return await asyncio.to_thread(self._recorded_media, run_id)

    def _recorded_media(self, run_id: str) -> RunMedia | None:
        try:
            data = orjson.loads((self.root / run_id / RECORD_NAME).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return media_from_record(data)

    async def write(self, run_id: str, record: RunRecord) -> None:
        # Per-stage dicts are keyed by `StageName`, which orjson writes as its value only when
        # asked to take keys that are not plain `str`.
        data = orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        await asyncio.to_thread(self._write_sync, self.run_dir(run_id), data)

    @staticmethod
    def _write_sync(folder: Path, data: bytes) -> None:
        # Whole or not at all: a full disk leaves no empty or half-written record behind.
        write_file(folder / RECORD_NAME, data)

    # -- deleting

    async def delete_runs(self, run_ids: Iterable[str]) -> int:
        """Delete these runs' folders (a picture, a member's or a class's runs); ids that are
        not run ids are skipped. Returns how many folders were there."""
        folders = [self.root / r for r in run_ids if RUN_ID.match(r)]
        return await asyncio.to_thread(_remove_folders, folders)

    async def prune(self, now: float | None = None) -> int:
        """Delete runs older than the retention period: their folders, and their index rows
        with the folders those name, and the runs of a class older than its own retention.
        Returns how many folders went."""
        now = now if now is not None else time.time()
        removed = 0
        if self.retention_seconds > 0:
            removed = await asyncio.to_thread(self.prune_folders, now)
        if self.index is not None:
            if self.retention_seconds > 0:
                removed += await self._prune_index(
                    self.index.prune_pictures, now - self.retention_seconds
                )
            # A class's own retention (`ClassRules.retention_hours`) when it is shorter.
            removed += await self._prune_index(self.index.prune_class_pictures, now)
        return removed

    async def _prune_index(self, expire: Callable[[float], Awaitable[list[str]]], at: float) -> int:
        try:
            expired = await expire(at)
        except sqlite3.Error as exc:  # the next round tries again; the pruner must not die
            log.error("pictures_prune_failed", error=str(exc))
            return 0
        return await self.delete_runs(expired)

    def prune_folders(self, now: float | None = None) -> int:
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


def _remove_folders(folders: list[Path]) -> int:
    present = [folder for folder in folders if folder.is_dir()]
    for folder in present:
        shutil.rmtree(folder, ignore_errors=True)
    return len(present)


def picture_row(record: RunRecord) -> PictureRow | None:
    """The index row of a run of someone who can come back for it; None for a run with no
    cookie behind it. Runs without pictures get a row too (with no files, never listed), so
    that deleting a member or a class finds every record that names them."""
    owner = record.owner
    if owner is None or owner.is_anonymous:
        return None
    shown = record.status is not RunStatus.BLOCKED
    return PictureRow(
        run_id=record.run,
        owner_key=owner.key,
        class_id=owner.class_id,
        created=record.created,
        prompt=record.inputs.prompt,
        perspective=record.inputs.interception,
        files=[url.rsplit("/", 1)[-1] for url in record.outputs] if shown else [],
        status=record.status.value,
        stage=None if (stage := stopped_at(record)) is None else stage.value,
        teacher_reason=teacher_reason(record),
        group=record.group,
    )


def media_from_record(data: Any) -> RunMedia | None:
    """A record file's owner and naming facts; None when it is not a record with an owner."""
    if not isinstance(data, dict):
        return None
    owner = RecordedOwner.parse(data.get("owner"))
    inputs, outputs = data.get("inputs"), data.get("outputs")
    if owner is None or not isinstance(inputs, dict) or not isinstance(outputs, list):
        return None
    return RunMedia(
        owner=owner,
        prompt=str(inputs.get("prompt", "")),
        perspective=str(inputs.get("interception", "")),
        created=created if isinstance(created := data.get("created"), int | float) else 0.0,
        outputs=[str(url) for url in outputs],
    )


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lstrip(".").lower(), "application/octet-stream")
