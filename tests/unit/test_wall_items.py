"""What goes on a class's wall: only a class member's completed run with pictures, once its
record and index row are written; a cancelled or failed run's images, a guest's run, a run
whose owner was deleted meanwhile and a hidden picture never do."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from server.engine.classroom.wall import WallEvent, on_wall, publish_picture, wall_item
from server.engine.records import RecordStore, picture_row
from server.engine.run_record import RecordedOwner, RunRecord
from server.protocol import RunStatus
from tests.unit.test_records_index import MIKA, FakeIndex, completed


class Hub:
    def __init__(self) -> None:
        self.events: list[tuple[int, WallEvent]] = []

    def publish(self, class_id: int, event: WallEvent) -> None:
        self.events.append((class_id, event))


def published(record: RunRecord) -> list[tuple[int, WallEvent]]:
    hub = Hub()
    publish_picture(hub, None, record)
    return hub.events


def test_a_members_completed_run_goes_on_its_classs_wall_without_any_teacher_field() -> None:
    [(class_id, event)] = published(completed())
    assert (class_id, event.kind, event.run) == (MIKA.class_id, "picture", "r-pinned01")
    assert event.picture is not None
    assert event.picture["nickname"] == "Mika"
    assert event.picture["files"] == ["/media/r-pinned01/a.png", "/media/r-pinned01/b.png"]
    assert set(event.picture) == {
        "run",
        "nickname",
        "perspective",
        "perspective_name",
        "icon",
        "color",
        "prompt",
        "created",
        "files",
        "group",
    }


def test_only_a_completed_class_members_run_with_files_goes_on_the_wall() -> None:
    for status in (RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.BLOCKED):
        assert published(replace(completed(), status=status)) == [], status
    assert published(replace(completed(), outputs=[])) == []
    assert published(completed(RecordedOwner("g-guest1"))) == []  # a guest has no class


def test_a_hidden_picture_is_not_on_the_wall() -> None:
    row = picture_row(completed())
    assert row is not None
    assert on_wall(row)
    assert not on_wall(replace(row, hidden=True))
    item = wall_item(row, "Mika", None)
    assert item.perspective_name == {"en": row.perspective, "de": row.perspective}


async def test_the_record_store_hands_the_hook_only_an_indexed_record(tmp_path: Path) -> None:
    seen: list[str] = []
    store = RecordStore(tmp_path, 72, FakeIndex())
    store.on_indexed = lambda record: seen.append(record.run)
    await store.finish("r-pinned01", completed())
    gone = RecordStore(tmp_path / "gone", 72, FakeIndex(refuse=True))  # its owner was deleted
    gone.on_indexed = lambda record: seen.append(f"gone {record.run}")
    await gone.finish("r-pinned01", completed())
    assert seen == ["r-pinned01"]
