"""Writing a class's export: the runs' record files and pictures read from their folders and
written into one ZIP, all in a worker thread (`build_archive` blocks; callers run it with
`asyncio.to_thread`), so the event loop never waits on a disk.

The archive goes into an anonymous temporary file in the data directory (unlinked at once:
nothing is left behind by a crash), not into memory: its size is bounded by
`MAX_EXPORT_BYTES` of pictures, and a worker thread copies each picture in chunks. Pictures are
stored as they are (PNG is compressed already), the texts deflated.
"""

from __future__ import annotations

import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from server.engine.classroom.export import (
    MAX_EXPORT_BYTES,
    ExportRange,
    ExportRun,
    RowFacts,
    export_run,
    image_names,
    prompts_csv,
)
from server.engine.classroom.export_sheet import Lang, contact_sheet
from server.engine.records import RECORD_NAME, RecordStore

#: A record file larger than this is not a record (they are a few kilobytes): its row's facts
#: stand alone.
MAX_RECORD_BYTES = 1024**2


class ExportTooLarge(Exception):
    """More pictures than `MAX_EXPORT_BYTES`: the teacher narrows the range."""


@dataclass(frozen=True, slots=True)
class IndexedRun:
    """What the pictures index says of a run: enough to find its folder and files."""

    run: str
    created: float
    files: Sequence[str]
    facts: RowFacts = field(default_factory=RowFacts)


@dataclass(frozen=True, slots=True)
class ExportPlan:
    class_name: str
    export: ExportRange
    lang: Lang
    runs: Sequence[IndexedRun]
    #: Where the temporary archive is written (the data directory: the disk, not memory).
    spool_dir: Path


@dataclass(slots=True)
class Archive:
    """A finished ZIP in an unlinked temporary file, at its start; close it when sent."""

    file: IO[bytes]
    size: int
    runs: int
    pictures: int

    def close(self) -> None:
        self.file.close()


def build_archive(plan: ExportPlan, records: RecordStore) -> Archive:
    """Read every run and write the ZIP (blocking). `ExportTooLarge` before anything is
    written when the pictures are more than `MAX_EXPORT_BYTES`."""
    runs, sources = _read_runs(plan.runs, records)
    total = sum(size for _, size in sources.values())
    if total > MAX_EXPORT_BYTES:
        raise ExportTooLarge(f"{total} bytes of pictures, at most {MAX_EXPORT_BYTES}")
    names = image_names(runs, plan.export)
    # Not a `with`: on success the open file is the caller's (`Archive.close`).
    spool = tempfile.TemporaryFile(dir=plan.spool_dir, prefix="export-")  # noqa: SIM115
    try:
        _write_zip(spool, plan, runs, names, sources)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return Archive(spool, size, len(runs), len(names))


def _read_runs(
    indexed: Sequence[IndexedRun], records: RecordStore
) -> tuple[list[ExportRun], dict[tuple[str, str], tuple[Path, int]]]:
    """Each run with the pictures still on disk, and every picture's path and size."""
    runs: list[ExportRun] = []
    sources: dict[tuple[str, str], tuple[Path, int]] = {}
    for row in indexed:
        present = [] if row.facts.hidden else _present(records, row, sources)
        record = _record(records, row.run)
        runs.append(export_run(row.run, row.created, present, record, row.facts))
    return runs, sources


def _present(
    records: RecordStore, row: IndexedRun, sources: dict[tuple[str, str], tuple[Path, int]]
) -> list[str]:
    present = []
    for name in row.files:
        path = records.media_path(row.run, name)
        size = _size(path) if path is not None else None
        if path is not None and size is not None:
            sources[row.run, name] = (path, size)
            present.append(name)
    return present


def _size(path: Path) -> int | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size if path.is_file() else None


def _record(records: RecordStore, run_id: str) -> Any:
    try:
        path = records.run_dir(run_id) / RECORD_NAME
        if path.stat().st_size > MAX_RECORD_BYTES:
            return None
        return orjson.loads(path.read_bytes())
    except (OSError, ValueError):  # gone, unreadable, not JSON (orjson's error is one)
        return None


def _write_zip(
    spool: IO[bytes],
    plan: ExportPlan,
    runs: list[ExportRun],
    names: dict[tuple[str, str], str],
    sources: dict[tuple[str, str], tuple[Path, int]],
) -> None:
    moment = plan.export.local(time.time())
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def text(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)

        sheet = contact_sheet(runs, names, plan.class_name, plan.export, plan.lang)
        text("index.html", sheet.encode())
        text("prompts.csv", prompts_csv(runs, names, plan.export))
        for run in runs:
            text(f"runs/{run.run}.json", orjson.dumps(dict(run.record), option=_JSON))
        for key, name in names.items():
            archive.write(sources[key][0], name, compress_type=zipfile.ZIP_STORED)


_JSON = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
