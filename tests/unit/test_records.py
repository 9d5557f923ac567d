"""Run records on disk: retention pruning and the only way a URL becomes a path."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from server.engine.records import RecordStore, content_type


def aged_run(root: Path, name: str, age_hours: float, now: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "image-0.png").write_bytes(b"\x89PNG")
    stamp = now - age_hours * 3600
    os.utime(folder, (stamp, stamp))
    return folder


def test_prune_deletes_only_run_folders_older_than_the_retention(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    store = RecordStore(tmp_path, retention_hours=72)
    old = aged_run(tmp_path, "r-oldrun01", 73, now)
    fresh = aged_run(tmp_path, "r-freshrun", 71, now)
    stranger = aged_run(tmp_path, "notes", 1000, now)  # not a run folder: never touched
    assert store.prune(now) == 1
    assert not old.exists()
    assert fresh.exists()
    assert stranger.exists()


def test_zero_retention_keeps_everything(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    aged_run(tmp_path, "r-ancient01", 10_000, now)
    assert RecordStore(tmp_path, retention_hours=0).prune(now) == 0


@pytest.mark.parametrize(
    ("run", "name"),
    [
        ("r-abcdefgh", "../record.json"),
        ("r-abcdefgh", "record.json"),
        ("r-abcdefgh", ".hidden.png"),
        ("r-abcdefgh", "a/b.png"),
        ("../etc", "passwd.png"),
        ("r-abc", "x.png"),
        ("r-abcdefgh", "x.png.exe"),
    ],
)
def test_media_names_outside_the_patterns_are_refused(run: str, name: str) -> None:
    assert RecordStore(Path("/data"), 1).media_path(run, name) is None


def test_media_path_stays_inside_the_run_folder(tmp_path: Path) -> None:
    path = RecordStore(tmp_path, 1).media_path("r-abcdefgh", "7_sdxl_00001_.png")
    assert path == (tmp_path / "r-abcdefgh" / "7_sdxl_00001_.png").resolve()
    assert content_type(path) == "image/png"


async def test_records_are_written_whole(tmp_path: Path) -> None:
    store = RecordStore(tmp_path, 1)
    await store.write("r-abcdefgh", {"status": "completed"})
    folder = tmp_path / "r-abcdefgh"
    assert orjson.loads((folder / "record.json").read_bytes()) == {"status": "completed"}
    assert [p.name for p in folder.iterdir()] == ["record.json"]  # no temp file left behind
