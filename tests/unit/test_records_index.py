"""Run records and the pictures index: which runs get a row, whose media a run's are while
it is in flight and once recorded, deletion and retention of both."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import orjson

from server.engine.people.identity import anonymous
from server.engine.people.rows import PictureRow
from server.engine.picture_access import RunMedia
from server.engine.records import RecordStore, media_from_record, picture_row
from server.engine.run_record import RecordedOwner, RunRecord
from server.protocol import RunStatus
from tests.unit.test_records import failed_run

MIKA = RecordedOwner("m-7", 3, "Mika")
NOW = 1_800_000_000.0


class FakeIndex:
    """The pictures index as a list; `refuse` makes `add_picture` refuse like the store does
    for a deleted member or class."""

    def __init__(self, refuse: bool = False) -> None:
        self.rows: list[PictureRow] = []
        self.refuse = refuse
        self.pruned_before: list[float] = []

    async def add_picture(self, row: PictureRow) -> bool:
        if self.refuse:
            return False
        self.rows.append(row)
        return True

    async def prune_pictures(self, before: float) -> list[str]:
        self.pruned_before.append(before)
        gone = [r.run_id for r in self.rows if r.created < before]
        self.rows = [r for r in self.rows if r.created >= before]
        return gone

    async def prune_class_pictures(self, now: float) -> list[str]:
        return []  # no class here sets a retention of its own


def completed(owner: RecordedOwner | None = MIKA, *, created: float = NOW) -> RunRecord:
    record = replace(
        failed_run().record(),
        status=RunStatus.COMPLETED,
        created=created,
        outputs=["/media/r-pinned01/a.png", "/media/r-pinned01/b.png"],
    )
    return record if owner is None else record.with_owner(owner)


def test_a_members_run_with_pictures_gets_a_row_naming_its_files() -> None:
    row = picture_row(completed())
    assert row == PictureRow(
        run_id="r-pinned01",
        owner_key="m-7",
        class_id=3,
        created=NOW,
        prompt="ein Fuchs",
        perspective="bauhaus",
        files=["a.png", "b.png"],
        status="completed",
    )


def test_a_run_without_pictures_or_a_blocked_one_gets_a_row_with_no_files() -> None:
    # Deleting the member must find every record that names them, pictures or not.
    for record in (
        replace(completed(), outputs=[]),
        replace(completed(), status=RunStatus.BLOCKED),
    ):
        row = picture_row(record)
        assert row is not None
        assert row.files == []


def test_a_cookie_less_run_gets_no_row() -> None:
    assert picture_row(completed(RecordedOwner(anonymous("x").key))) is None
    assert picture_row(completed(None)) is None


async def test_finish_writes_the_record_then_its_row(tmp_path: Path) -> None:
    index = FakeIndex()
    store = RecordStore(tmp_path, 72, index)
    await store.finish("r-pinned01", completed())
    assert (tmp_path / "r-pinned01" / "record.json").is_file()
    assert [r.run_id for r in index.rows] == ["r-pinned01"]


async def test_a_run_ending_after_its_owner_was_deleted_leaves_no_record(tmp_path: Path) -> None:
    store = RecordStore(tmp_path, 72, FakeIndex(refuse=True))
    await store.finish("r-pinned01", completed())
    assert not (tmp_path / "r-pinned01").exists()


async def test_a_run_in_flight_is_its_owners_then_its_record_says_so(tmp_path: Path) -> None:
    store = RecordStore(tmp_path, 72, FakeIndex())
    outputs: list[str] = []
    store.begin("r-pinned01", RunMedia(MIKA, "ein Fuchs", "bauhaus", NOW, outputs))
    live = await store.media_of("r-pinned01")
    assert live is not None
    outputs.append("/media/r-pinned01/a.png")  # an image arrives: the live answer sees it
    assert live.outputs == ["/media/r-pinned01/a.png"]
    await store.finish("r-pinned01", completed())
    recorded = await store.media_of("r-pinned01")
    assert recorded == RunMedia(
        MIKA, "ein Fuchs", "bauhaus", NOW, ["/media/r-pinned01/a.png", "/media/r-pinned01/b.png"]
    )


async def test_no_run_no_owner_no_media(tmp_path: Path) -> None:
    store = RecordStore(tmp_path, 72)
    assert await store.media_of("r-neverwas") is None
    assert await store.media_of("../etc") is None
    await store.write("r-ownerless", completed(None))  # a record from before owners
    assert await store.media_of("r-ownerless") is None
    (tmp_path / "r-garbled1").mkdir()
    (tmp_path / "r-garbled1" / "record.json").write_bytes(b"{not json")
    assert await store.media_of("r-garbled1") is None


def test_a_record_with_a_malformed_owner_has_no_media() -> None:
    record = orjson.loads(orjson.dumps(completed(), option=orjson.OPT_NON_STR_KEYS))
    assert media_from_record(record) is not None
    for owner in ({"key": 7}, {"key": "m-1", "class_id": "3"}, "m-1", None):
        assert media_from_record({**record, "owner": owner}) is None
    assert media_from_record([]) is None


async def test_delete_runs_removes_their_folders_and_skips_what_is_not_a_run_id(
    tmp_path: Path,
) -> None:
    store = RecordStore(tmp_path / "runs", 72)
    await store.write("r-first001", completed())
    await store.write("r-second01", completed())
    (tmp_path / "keep").mkdir()
    assert await store.delete_runs(["r-first001", "r-missing1", "../keep"]) == 1
    assert not (tmp_path / "runs" / "r-first001").exists()
    assert (tmp_path / "runs" / "r-second01").exists()
    assert (tmp_path / "keep").exists()


async def test_pruning_prunes_the_index_and_the_folders_its_rows_name(tmp_path: Path) -> None:
    index = FakeIndex()
    store = RecordStore(tmp_path, 72, index)
    old = NOW - 73 * 3600
    await store.finish("r-oldrun01", replace(completed(created=old), run="r-oldrun01"))
    await store.finish("r-newrun01", replace(completed(), run="r-newrun01"))
    # Both folders were touched lately (a late file, say): only the old run's row is old.
    for run in ("r-oldrun01", "r-newrun01"):
        os.utime(tmp_path / run, (NOW, NOW))
    assert await store.prune(NOW) == 1
    assert index.pruned_before == [NOW - 72 * 3600]
    assert [r.run_id for r in index.rows] == ["r-newrun01"]
    assert not (tmp_path / "r-oldrun01").exists()
    assert (tmp_path / "r-newrun01").exists()
