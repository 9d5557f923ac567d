"""The upload store: bounds counted before a body is read, one run per upload, and no file left
behind: not after a refusal, a cancel, a failure, abandonment, a restart or shutdown."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from PIL import Image

from server.engine.people.identity import Identity, guest
from server.engine.run import Run
from server.engine.uploads.bounds import UploadBounds
from server.engine.uploads.clean import UploadRefused
from server.engine.uploads.limits import UploadLimit
from server.engine.uploads.store import INPUT_NAME, UploadStore
from server.protocol import Role, RunStatus

MIKA, NOAH = guest("mika"), guest("noah")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def png(size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def make_store(tmp_path: Path, **bounds: Any) -> tuple[UploadStore, Clock, Path]:
    clock, runs = Clock(), tmp_path / "runs"
    store = UploadStore(
        tmp_path / "uploads", UploadBounds(**bounds), run_dir=lambda r: runs / r, clock=clock
    )
    return store, clock, runs


def files(store: UploadStore) -> list[str]:
    assert store.root is not None
    return sorted(p.name for p in store.root.iterdir())


def fake_run(run_id: str, image: object, status: RunStatus) -> Run:
    return cast(Run, SimpleNamespace(id=run_id, input_image=image, status=status))


async def stored(store: UploadStore, who: Any = MIKA) -> str:
    upload = store.reserve(who)
    return (await store.add(upload, png())).id


async def finished_task() -> asyncio.Task[None]:
    """A run's task that has ended (a callback added now runs on the loop's next turn)."""

    async def nothing() -> None:
        return None

    task = asyncio.create_task(nothing())
    await task
    return task


async def test_a_stored_upload_is_its_owners_only_and_one_runs_only(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    async with store.running():
        upload_id = await stored(store)
        assert files(store) == [f"{upload_id}.png"]
        assert store.peek(NOAH.key, upload_id) is None  # another person's: unknown
        image = store.peek(MIKA.key, upload_id)
        assert image is not None
        assert (image.width, image.height) == (32, 24)
        assert image.data.startswith(b"\x89PNG")
        run = fake_run("r-aaaaaaaa", image, RunStatus.RUNNING)
        task: asyncio.Task[None] = asyncio.create_task(asyncio.sleep(3600))
        store.claim(run, task)
        assert store.peek(MIKA.key, upload_id) is None  # claimed: no second run
        task.cancel()


async def test_bounds_are_counted_before_the_body_and_freed_by_unreserve(tmp_path: Path) -> None:
    store, clock, _ = make_store(tmp_path, per_person=2, per_minute=3, held=3)
    async with store.running():
        first, second = store.reserve(MIKA), store.reserve(MIKA)
        with pytest.raises(UploadLimit) as caught:
            store.reserve(MIKA)
        assert caught.value.scope == "person"
        store.unreserve(first)
        third = store.reserve(MIKA)  # the place is free again, the minute's count is not
        store.unreserve(second)
        with pytest.raises(UploadLimit) as caught:
            store.reserve(MIKA)
        assert caught.value.scope == "rate"
        assert caught.value.retry_after == pytest.approx(60.0)
        clock.now += 61
        store.reserve(MIKA)
        store.reserve(NOAH)
        with pytest.raises(UploadLimit) as caught:
            store.reserve(guest("ada"))
        assert caught.value.scope == "server"
        store.unreserve(third)


async def test_the_guests_of_one_address_share_a_bound_members_do_not(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path, per_person=2, per_address=3)
    async with store.running():
        store.reserve(MIKA, "n-school")
        store.reserve(MIKA, "n-school")
        store.reserve(NOAH, "n-school")
        with pytest.raises(UploadLimit) as caught:
            store.reserve(NOAH, "n-school")
        assert caught.value.scope == "address"
        store.reserve(guest("ada"), "n-home")  # another address
        member = Identity(Role.STUDENT, "m-7", "Lou", 1)
        store.reserve(member)  # a member counts as themself, wherever they are
        store.reserve(member)


async def test_bodies_read_at_once_are_bounded_for_everyone(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path, receiving=2)
    async with store.running():
        reading = [store.reserve(MIKA), store.reserve(NOAH)]
        with pytest.raises(UploadLimit) as caught:
            store.reserve(guest("ada"))
        assert caught.value.scope == "server"
        await store.add(reading[0], png())  # stored: no longer being read
        store.reserve(guest("ada"))


async def test_a_refused_file_leaves_nothing(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    async with store.running():
        upload = store.reserve(MIKA)
        with pytest.raises(UploadRefused):
            await store.add(upload, b"<svg></svg>")
        store.unreserve(upload)
        assert files(store) == []
        store.reserve(MIKA)  # counted no more


async def test_a_completed_run_keeps_its_input_in_its_folder(tmp_path: Path) -> None:
    store, _, runs = make_store(tmp_path)
    async with store.running():
        upload_id = await stored(store)
        (runs / "r-done1234").mkdir(parents=True)
        run = fake_run("r-done1234", store.peek(MIKA.key, upload_id), RunStatus.COMPLETED)
        store.claim(run, await finished_task())
        await asyncio.sleep(0)  # the ended task's callbacks run
        await store.settled()
        assert files(store) == []
        assert (runs / "r-done1234" / INPUT_NAME).is_file()
        kept = store.get(upload_id)
        assert kept is not None
        assert kept.path == runs / "r-done1234" / INPUT_NAME
        assert await store.delete(MIKA.key, upload_id)
        assert not (runs / "r-done1234" / INPUT_NAME).exists()


@pytest.mark.parametrize("status", [RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.BLOCKED])
async def test_a_run_that_did_not_complete_deletes_its_input(
    tmp_path: Path, status: RunStatus
) -> None:
    store, _, runs = make_store(tmp_path)
    async with store.running():
        upload_id = await stored(store)
        (runs / "r-gone1234").mkdir(parents=True)
        run = fake_run("r-gone1234", store.peek(MIKA.key, upload_id), status)
        store.claim(run, await finished_task())
        await asyncio.sleep(0)
        await store.settled()
        assert files(store) == []
        assert list((runs / "r-gone1234").iterdir()) == []
        assert store.get(upload_id) is None


async def test_an_upload_no_run_claims_is_deleted_after_the_abandon_time(tmp_path: Path) -> None:
    store, clock, _ = make_store(tmp_path, abandon_seconds=1800)
    async with store.running():
        old = await stored(store)
        clock.now += 1000
        young = await stored(store)
        clock.now += 900  # the first is 1900 s old, the second 900 s
        assert await store.sweep() == 1
        assert files(store) == [f"{young}.png"]
        assert store.get(old) is None


async def test_the_sweeper_deletes_abandoned_uploads_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UploadStore(tmp_path / "uploads", UploadBounds(abandon_seconds=0.05))
    swept, sweep = asyncio.Event(), store.sweep

    async def watched() -> int:
        count = await sweep()
        if count:
            swept.set()
        return count

    monkeypatch.setattr(store, "sweep", watched)
    async with store.running():
        upload_id = await stored(store)
        await asyncio.wait_for(swept.wait(), timeout=10)  # every half of the abandon time
        assert files(store) == []
        assert store.get(upload_id) is None


async def test_leftovers_go_at_start_up_and_pending_uploads_at_shutdown(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    assert store.root is not None
    store.root.mkdir(parents=True)
    (store.root / "u-fromlastprocess0.png").write_bytes(b"x")
    (store.root / "u-halfwritten00000.png.part").write_bytes(b"")
    async with store.running():
        assert files(store) == []
        await stored(store)
        assert len(files(store)) == 1
    assert files(store) == []


async def test_deleting_is_the_owners_only(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    async with store.running():
        upload_id = await stored(store)
        assert not await store.delete(NOAH.key, upload_id)
        assert not await store.delete(MIKA.key, "u-doesnotexist0000")
        assert await store.delete(MIKA.key, upload_id)
        assert files(store) == []
        assert not await store.delete(MIKA.key, upload_id)


async def test_without_a_folder_the_store_takes_nothing() -> None:
    store = UploadStore(None)
    with pytest.raises(UploadLimit):
        store.reserve(MIKA)
    assert store.peek(MIKA.key, "u-anything00000000") is None
