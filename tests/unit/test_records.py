"""Run records on disk: their fixed shape, retention pruning and the only way a URL becomes a
path."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from server.engine.people.identity import guest
from server.engine.records import MEDIA_NAME, RUN_ID, RecordStore, content_type
from server.engine.run import Run, RunInputs
from server.engine.run_record import RecordedOwner
from server.engine.session import Session
from server.engine.stats import SocketStats
from server.protocol import RunEndCode, RunStatus, StageName

MIKA = RecordedOwner("m-7", 3, "Mika")


def aged_run(root: Path, name: str, age_hours: float, now: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "image-0.png").write_bytes(b"\x89PNG")
    stamp = now - age_hours * 3600
    os.utime(folder, (stamp, stamp))
    return folder


async def test_prune_deletes_only_run_folders_older_than_the_retention(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    store = RecordStore(tmp_path, retention_hours=72)
    old = aged_run(tmp_path, "r-oldrun01", 73, now)
    fresh = aged_run(tmp_path, "r-freshrun", 71, now)
    stranger = aged_run(tmp_path, "notes", 1000, now)  # not a run folder: never touched
    assert await store.prune(now) == 1
    assert not old.exists()
    assert fresh.exists()
    assert stranger.exists()


async def test_zero_retention_keeps_everything(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    aged_run(tmp_path, "r-ancient01", 10_000, now)
    assert await RecordStore(tmp_path, retention_hours=0).prune(now) == 0


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
    await store.write("r-abcdefgh", failed_run().record())
    folder = tmp_path / "r-abcdefgh"
    assert orjson.loads((folder / "record.json").read_bytes())["status"] == "failed"
    assert [p.name for p in folder.iterdir()] == ["record.json"]  # no temp file left behind


def failed_run() -> Run:
    """A run that streamed, finished a stage and failed in the next: every record field set."""
    inputs = RunInputs(
        prompt="ein Fuchs",
        interception="bauhaus",
        output="sdxl",
        meta_prompt="Be brief.",
        meta_prompt_edited=True,
        seed=7,
        width=None,
        height=768,
        lang="de",
    )
    session = Session("s-1", "x", log_limit=10, stats=SocketStats(), identity=guest("test"))
    run = Run("r-pinned01", session, inputs, created_wall=1_800_000_000.25)
    run.move(RunStatus.RUNNING)
    run.verdicts[StageName.SAFETY] = {"safe": True, "answer": "safe"}
    run.models[StageName.SAFETY] = "guard@gpu1"
    run.timings[StageName.SAFETY] = 0.4123
    run.token(StageName.INTERCEPTION, "Ein ")
    run.token(StageName.INTERCEPTION, "Fuchs")
    run.texts[StageName.INTERCEPTION] = "Ein Fuchs."
    run.timings[StageName.INTERCEPTION] = 6.1
    run.token(StageName.TRANSLATION, "A fo")  # cut off: what streamed is kept
    run.outputs.append("/media/r-pinned01/a.png")
    run.error = "llm gpu1: boom"
    run.finish(RunStatus.FAILED, reason="Kaputt.", code=RunEndCode.BACKEND_TIMEOUT)
    run.total = 31.5
    return run


PINNED_RECORD = b"""{
  "run": "r-pinned01",
  "session": "s-1",
  "owner": {
    "key": "m-7",
    "class_id": 3,
    "nickname": "Mika"
  },
  "group": null,
  "created": 1800000000.25,
  "inputs": {
    "prompt": "ein Fuchs",
    "interception": "bauhaus",
    "output": "sdxl",
    "meta_prompt": "Be brief.",
    "seed": 7,
    "width": null,
    "height": 768,
    "lang": "de"
  },
  "status": "failed",
  "reason": "Kaputt.",
  "code": "backend_timeout",
  "error": "llm gpu1: boom",
  "texts": {
    "interception": "Ein Fuchs.",
    "translation": "A fo"
  },
  "verdicts": {
    "safety": {
      "safe": true,
      "answer": "safe"
    }
  },
  "models": {
    "safety": "guard@gpu1"
  },
  "timings": {
    "safety": 0.4123,
    "interception": 6.1
  },
  "total": 31.5,
  "outputs": [
    "/media/r-pinned01/a.png"
  ]
}"""


async def test_a_run_record_keeps_its_shape_on_disk_byte_for_byte(tmp_path: Path) -> None:
    run = failed_run()
    await RecordStore(tmp_path, 1).write(run.id, run.record().with_owner(MIKA))
    assert (tmp_path / run.id / "record.json").read_bytes() == PINNED_RECORD


def test_a_run_id_or_a_media_name_with_a_final_newline_is_no_name() -> None:
    assert RUN_ID.match("r-abcd")
    assert not RUN_ID.match("r-abcd\n")
    assert MEDIA_NAME.match("out-1.png")
    assert not MEDIA_NAME.match("out-1.png\n")
