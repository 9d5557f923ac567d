"""One-time PINs: a taken nickname comes back only with its member's valid PIN, once."""

from __future__ import annotations

import pytest

from server.engine.people.db import PeopleStore
from server.engine.people.errors import NicknameTaken, UnknownMember, WrongPin
from server.engine.people.pins import MAX_PIN_TRIES, MAX_PIN_TTL
from tests.people_store_support import NOW, mia


async def pins_stored(store: PeopleStore) -> int:
    row = await store._db.one("SELECT count(*) FROM pins")
    assert row is not None
    return int(row[0])


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


async def test_a_pin_lets_the_member_back_in_and_revokes_old_cookies(store: PeopleStore) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    back = await store.join(member.class_id, "mia", f" {pin} ", NOW + 1)
    assert back.id == member.id
    assert back.version == member.version + 1


async def test_a_pin_works_once(store: PeopleStore) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    await store.join(member.class_id, "Mia", pin, NOW)
    with pytest.raises(WrongPin):
        await store.join(member.class_id, "Mia", pin, NOW)


async def test_a_pin_expires(store: PeopleStore) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    with pytest.raises(WrongPin):
        await store.join(member.class_id, "Mia", pin, NOW + 600)
    assert await pins_stored(store) == 0  # an expired PIN is deleted when it is tried


async def test_a_wrong_pin_counts_and_the_last_allowed_try_still_works(
    store: PeopleStore,
) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    for _ in range(MAX_PIN_TRIES - 1):
        with pytest.raises(WrongPin):
            await store.join(member.class_id, "Mia", wrong(pin), NOW)
    assert (await store.join(member.class_id, "Mia", pin, NOW)).version == 2


async def test_a_pin_dies_after_its_tries(store: PeopleStore) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    for _ in range(MAX_PIN_TRIES):
        with pytest.raises(WrongPin):
            await store.join(member.class_id, "Mia", wrong(pin), NOW)
    assert await pins_stored(store) == 0  # the last wrong try deleted it
    with pytest.raises(WrongPin):
        await store.join(member.class_id, "Mia", pin, NOW)


async def test_a_new_pin_replaces_the_old_one(store: PeopleStore) -> None:
    member = await mia(store)
    first = await store.issue_pin(member.id, NOW, 600)
    second = await store.issue_pin(member.id, NOW, 600)
    if first != second:  # one draw in a million repeats the PIN
        with pytest.raises(WrongPin):
            await store.join(member.class_id, "Mia", first, NOW)
    assert (await store.join(member.class_id, "Mia", second, NOW)).id == member.id


async def test_without_a_pin_a_taken_nickname_stays_taken(store: PeopleStore) -> None:
    member = await mia(store)
    await store.issue_pin(member.id, NOW, 600)
    with pytest.raises(NicknameTaken):
        await store.join(member.class_id, "Mia", None, NOW)
    with pytest.raises(WrongPin):  # a member with no PIN issued
        await store.join(member.class_id, "Mia", "123456", NOW)


async def test_a_pin_is_only_issued_for_a_member_within_its_ttl_bound(
    store: PeopleStore,
) -> None:
    member = await mia(store)
    with pytest.raises(UnknownMember):
        await store.issue_pin(member.id + 1, NOW, 600)
    for ttl in (0, MAX_PIN_TTL + 1):
        with pytest.raises(ValueError, match="a PIN lives"):
            await store.issue_pin(member.id, NOW, ttl)
    assert len(await store.issue_pin(member.id, NOW, MAX_PIN_TTL)) == 6


async def test_a_pin_of_one_member_does_not_open_another(store: PeopleStore) -> None:
    member = await mia(store)
    other = await store.join(member.class_id, "Ben", None, NOW)
    pin = await store.issue_pin(member.id, NOW, 600)
    with pytest.raises(WrongPin):
        await store.join(other.class_id, "Ben", pin, NOW)
