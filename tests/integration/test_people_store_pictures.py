"""The pictures index: listed per owner newest first within retention, deleted by their owner
only, pruned by age, gone with their member and their class."""

from __future__ import annotations

import pytest

from server.engine.people import pictures as pictures_module
from server.engine.people.db import PeopleStore
from server.engine.people.rows import PictureRow
from tests.people_store_support import NOW, mia


def picture(run: str, owner: str, class_id: int | None, created: float = NOW) -> PictureRow:
    return PictureRow(run, owner, class_id, created, "a cat", "bauhaus", ["image-0.png"])


async def test_an_owner_lists_their_pictures_newest_first(store: PeopleStore) -> None:
    member = await mia(store)
    owner = f"m-{member.id}"
    for number, created in ((1, NOW), (2, NOW + 2), (3, NOW + 1)):
        assert await store.add_picture(picture(f"r-000{number}", owner, member.class_id, created))
    await store.add_picture(picture("r-0004", "g-someone", None))
    listed = await store.pictures_of(owner, since=NOW)
    assert [p.run_id for p in listed] == ["r-0002", "r-0003", "r-0001"]
    assert listed[0] == picture("r-0002", owner, member.class_id, NOW + 2)
    assert [p.run_id for p in await store.pictures_of(owner, since=NOW + 1)] == [
        "r-0002",
        "r-0003",
    ]


async def test_a_listing_stops_at_its_bound(
    store: PeopleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pictures_module, "MAX_PICTURES_LISTED", 3)
    for number in range(5):
        await store.add_picture(picture(f"r-000{number}", "g-a", None, NOW + number))
    listed = await store.pictures_of("g-a", since=0, limit=100)
    assert [p.run_id for p in listed] == ["r-0004", "r-0003", "r-0002"]
    assert len(await store.pictures_of("g-a", since=0, limit=2)) == 2


async def test_only_the_owner_deletes_a_picture(store: PeopleStore) -> None:
    await store.add_picture(picture("r-0001", "g-a", None))
    assert not await store.delete_picture("r-0001", "g-b")
    assert await store.picture("r-0001") is not None
    assert await store.delete_picture("r-0001", "g-a")
    assert await store.picture("r-0001") is None
    assert not await store.delete_picture("r-0001", "g-a")


async def test_pruning_forgets_pictures_older_than_retention(store: PeopleStore) -> None:
    await store.add_picture(picture("r-0001", "g-a", None, NOW - 10))
    await store.add_picture(picture("r-0002", "g-a", None, NOW))
    assert await store.prune_pictures(before=NOW) == ["r-0001"]
    assert [p.run_id for p in await store.pictures_of("g-a", 0)] == ["r-0002"]


async def test_a_members_pictures_go_with_them(store: PeopleStore) -> None:
    member = await mia(store)
    await store.add_picture(picture("r-0001", f"m-{member.id}", member.class_id))
    assert await store.remove_member(member.id) == ["r-0001"]
    assert await store.picture("r-0001") is None


async def test_a_class_takes_every_picture_of_its_members(store: PeopleStore) -> None:
    member = await mia(store)
    ben = await store.join(member.class_id, "Ben", None, NOW)
    await store.add_picture(picture("r-0001", f"m-{member.id}", member.class_id))
    await store.add_picture(picture("r-0002", f"m-{ben.id}", member.class_id))
    await store.add_picture(picture("r-0003", "g-a", None))
    assert sorted(await store.delete_class(member.class_id)) == ["r-0001", "r-0002"]
    assert await store.pictures_of(f"m-{ben.id}", 0) == []
    assert await store.picture("r-0003") is not None


async def test_a_picture_of_a_member_who_is_gone_is_not_indexed(store: PeopleStore) -> None:
    member = await mia(store)
    await store.remove_member(member.id)
    assert not await store.add_picture(picture("r-0001", f"m-{member.id}", member.class_id))
    assert await store.picture("r-0001") is None


async def test_a_run_is_indexed_once(store: PeopleStore) -> None:
    assert await store.add_picture(picture("r-0001", "g-a", None))
    assert not await store.add_picture(picture("r-0001", "g-b", None))
    found = await store.picture("r-0001")
    assert found is not None
    assert found.owner_key == "g-a"
