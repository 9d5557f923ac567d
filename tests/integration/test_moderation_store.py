"""The moderation part of the people store: a class's blocked runs and pictures newest first
within their bounds, flags and hidden marks on a class's own runs only, nickname locks."""

from __future__ import annotations

import pytest

from server.engine.people import moderation as moderation_module
from server.engine.people.db import PeopleStore
from server.engine.people.errors import NicknameLocked, UnknownMember, WrongPin
from server.engine.people.identity import ClassRules
from server.engine.people.rows import MemberRow, PictureRow
from tests.people_store_support import NOW, mia


def run_row(
    run: str, member: MemberRow, status: str, created: float = NOW, files: bool = True
) -> PictureRow:
    return PictureRow(
        run,
        f"m-{member.id}",
        member.class_id,
        created,
        "a cat",
        "bauhaus",
        ["image-0.png"] if files else [],
        status=status,
        stage="safety" if status == "blocked" else None,
        teacher_reason="word list: knife" if status == "blocked" else None,
    )


async def test_the_log_lists_the_classs_blocked_runs_newest_first(store: PeopleStore) -> None:
    member = await mia(store)
    await store.add_picture(run_row("r-0001", member, "blocked", NOW, files=False))
    await store.add_picture(run_row("r-0002", member, "completed", NOW + 1))
    await store.add_picture(run_row("r-0003", member, "blocked", NOW + 2, files=False))
    blocked = await store.blocked_of_class(member.class_id, since=NOW)
    assert [(b.row.run_id, b.nickname, b.member) for b in blocked] == [
        ("r-0003", "Mia", member.id),
        ("r-0001", "Mia", member.id),
    ]
    assert blocked[0].row.teacher_reason == "word list: knife"
    assert blocked[0].row.stage == "safety"
    assert [b.row.run_id for b in await store.blocked_of_class(member.class_id, NOW + 1)] == [
        "r-0003"
    ]


async def test_the_log_stops_at_its_bound(
    store: PeopleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(moderation_module, "MAX_BLOCKED_LISTED", 2)
    member = await mia(store)
    for number in range(4):
        await store.add_picture(run_row(f"r-000{number}", member, "blocked", NOW + number))
    listed = await store.blocked_of_class(member.class_id, since=0, limit=100)
    assert [b.row.run_id for b in listed] == ["r-0003", "r-0002"]


async def test_class_pictures_are_completed_runs_with_files_and_hidden_ones_on_request(
    store: PeopleStore,
) -> None:
    member = await mia(store)
    await store.add_picture(run_row("r-0001", member, "completed", NOW))
    await store.add_picture(run_row("r-0002", member, "completed", NOW + 1))
    await store.add_picture(run_row("r-0003", member, "blocked", NOW + 2, files=False))
    await store.add_picture(run_row("r-0004", member, "failed", NOW + 3, files=False))
    changed = await store.mark_picture(member.class_id, "r-0002", flagged=None, hidden=True)
    assert changed is not None
    assert changed.row.hidden
    assert not changed.row.flagged
    every = await store.pictures_of_class(member.class_id, 0, include_hidden=True)
    assert [p.row.run_id for p in every] == ["r-0002", "r-0001"]
    wall = await store.pictures_of_class(member.class_id, 0, include_hidden=False)
    assert [p.row.run_id for p in wall] == ["r-0001"]


async def test_marks_change_only_the_given_field_and_only_the_classs_runs(
    store: PeopleStore,
) -> None:
    member = await mia(store)
    await store.add_picture(run_row("r-0001", member, "completed"))
    flagged = await store.mark_picture(member.class_id, "r-0001", flagged=True, hidden=None)
    assert flagged is not None
    assert (flagged.row.flagged, flagged.row.hidden) == (True, False)
    both = await store.mark_picture(member.class_id, "r-0001", flagged=False, hidden=True)
    assert both is not None
    assert (both.row.flagged, both.row.hidden) == (False, True)
    klass = await store.get_class(member.class_id)
    assert klass is not None
    other = await store.create_class(klass.teacher_id, "8a", ClassRules(), None)
    assert await store.mark_picture(other.id, "r-0001", flagged=True, hidden=True) is None
    assert await store.class_picture(other.id, "r-0001") is None
    kept = await store.picture("r-0001")
    assert kept is not None
    assert (kept.flagged, kept.hidden) == (False, True)


async def test_a_locked_nickname_lets_nobody_in_until_unlocked(store: PeopleStore) -> None:
    member = await mia(store)
    pin = await store.issue_pin(member.id, NOW, 600)
    await store.lock_member(member.id, True)
    locked = await store.member(member.id)
    assert locked is not None
    assert locked.locked
    assert locked.version == member.version + 1  # every cookie of theirs is revoked
    with pytest.raises(NicknameLocked):
        await store.join(member.class_id, "Mia", None, NOW)
    with pytest.raises(NicknameLocked):
        await store.join(member.class_id, "mia", pin, NOW)
    await store.lock_member(member.id, False)
    back = await store.join(member.class_id, "Mia", pin, NOW)
    assert (back.id, back.locked) == (member.id, False)
    with pytest.raises(WrongPin):  # the refused tries left the PIN whole; the join used it
        await store.join(member.class_id, "Mia", pin, NOW)


async def test_locking_an_unknown_member_is_refused(store: PeopleStore) -> None:
    with pytest.raises(UnknownMember):
        await store.lock_member(999, True)
