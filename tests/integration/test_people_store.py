"""The people store on a real SQLite file: teachers, classes and their codes, members.

Every test opens a fresh database under `tmp_path` through `PeopleStore.open`, as the app does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from server.engine.people import classes as classes_module
from server.engine.people.codes import show_code
from server.engine.people.db import PeopleStore
from server.engine.people.errors import (
    CodeExpired,
    InvalidName,
    InvalidNickname,
    NicknameTaken,
    TeacherNameTaken,
    UnknownClass,
    UnknownCode,
    UnknownMember,
    UnknownTeacher,
    WeakPassword,
)
from server.engine.people.identity import ClassRules
from server.engine.people.wall_links import MAX_REVOKED_WALL_LINKS
from server.engine.safety_words import WordList
from tests.people_store_support import NOW

PASSWORD = "correct horse battery"


async def a_class(store: PeopleStore, expires: float | None = None) -> int:
    teacher = await store.add_teacher("Frau Weber", PASSWORD)
    created = await store.create_class(teacher.id, "7b Kunst", ClassRules(), expires)
    return created.id


# Teachers


async def test_a_teacher_logs_in_with_their_password_only(store: PeopleStore) -> None:
    added = await store.add_teacher("Frau Weber", PASSWORD)
    assert await store.check_login("frau weber", PASSWORD) == added
    assert await store.check_login(" ＦＲＡＵ   weber", PASSWORD) == added  # typed as stored
    assert await store.check_login("", PASSWORD) is None
    assert await store.check_login("x" * 10_000, PASSWORD) is None
    assert await store.check_login("Frau Weber", PASSWORD + "x") is None
    assert await store.check_login("Herr Nobody", PASSWORD) is None


async def test_a_teachers_name_is_taken_whatever_its_case(store: PeopleStore) -> None:
    await store.add_teacher("Frau Weber", PASSWORD)
    with pytest.raises(TeacherNameTaken):
        await store.add_teacher("FRAU  weber ", PASSWORD)


async def test_a_password_out_of_its_bounds_is_refused(store: PeopleStore) -> None:
    with pytest.raises(WeakPassword, match="at least 10"):
        await store.add_teacher("Frau Weber", "x" * 9)
    with pytest.raises(WeakPassword, match="at most 1024"):
        await store.add_teacher("Frau Weber", "x" * 1025)
    assert await store.teachers() == []
    await store.add_teacher("Frau Weber", "x" * 1024)
    assert await store.check_login("Frau Weber", "x" * 1024) is not None
    assert await store.check_login("Frau Weber", "x" * 1025) is None


async def test_the_password_hash_never_leaves_the_store(store: PeopleStore) -> None:
    added = await store.add_teacher("Frau Weber", PASSWORD)
    assert PASSWORD not in repr(added)
    assert "argon2" not in repr(await store.teacher(added.id))


async def test_bumping_and_a_new_password_raise_the_version(store: PeopleStore) -> None:
    added = await store.add_teacher("Frau Weber", PASSWORD)
    assert await store.bump_teacher_version(added.id) == 2
    await store.set_password(added.id, "another long secret")
    found = await store.teacher(added.id)
    assert found is not None
    assert found.version == 3
    assert await store.check_login("Frau Weber", PASSWORD) is None
    assert await store.check_login("Frau Weber", "another long secret") is not None


async def test_a_hash_made_with_weaker_parameters_is_renewed_at_login(
    store: PeopleStore,
) -> None:
    added = await store.add_teacher("Frau Weber", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with store._db.write() as tx:
        await tx.run("UPDATE teachers SET password_hash = ? WHERE id = ?", (weak, added.id))
    assert await store.check_login("Frau Weber", PASSWORD) == added  # no sign-out for it
    row = await store._db.one("SELECT password_hash FROM teachers WHERE id = ?", (added.id,))
    assert row is not None
    assert row[0] != weak
    assert not PasswordHasher().check_needs_rehash(row[0])


async def test_unknown_teachers_are_named_errors(store: PeopleStore) -> None:
    assert await store.teacher(99) is None
    with pytest.raises(UnknownTeacher):
        await store.set_password(99, PASSWORD)
    with pytest.raises(UnknownTeacher):
        await store.bump_teacher_version(99)
    with pytest.raises(UnknownTeacher):
        await store.create_class(99, "7b", ClassRules(), None)
    with pytest.raises(UnknownTeacher):
        await store.remove_teacher(99)


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "Frau\x00Weber", "Frau\u202eWeber"])
async def test_a_bad_teachers_name_is_refused(store: PeopleStore, name: str) -> None:
    with pytest.raises(InvalidName):
        await store.add_teacher(name, PASSWORD)


# Classes


async def test_a_class_is_found_by_its_code_as_typed(store: PeopleStore) -> None:
    class_id = await a_class(store)
    found = await store.get_class(class_id)
    assert found is not None
    assert found.name == "7b Kunst"
    typed = " " + show_code(found.code).lower() + " "
    assert await store.class_for_code(typed, NOW) == found
    with pytest.raises(UnknownCode):
        await store.class_for_code("ABCD-EFGH" if found.code != "ABCDEFGH" else "ABCD-EFGJ", NOW)


async def test_a_code_stops_at_its_expiry(store: PeopleStore) -> None:
    class_id = await a_class(store, expires=NOW + 60)
    found = await store.get_class(class_id)
    assert found is not None
    assert await store.class_for_code(found.code, NOW + 59.9) == found
    with pytest.raises(CodeExpired):
        await store.class_for_code(found.code, NOW + 60)


async def test_a_rotated_code_replaces_the_old_one(store: PeopleStore) -> None:
    class_id = await a_class(store, expires=NOW)
    old = await store.get_class(class_id)
    rotated = await store.rotate_code(class_id, None)
    assert old is not None
    assert rotated.code != old.code
    assert rotated.code_expires is None
    assert await store.class_for_code(rotated.code, NOW + 10**6) == rotated
    with pytest.raises(UnknownCode):
        await store.class_for_code(old.code, NOW)
    with pytest.raises(UnknownClass):
        await store.rotate_code(99, None)


async def test_a_taken_code_is_drawn_again_within_its_bound(
    store: PeopleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = await store.add_teacher("Frau Weber", PASSWORD)
    draws = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr(classes_module, "new_code", lambda: next(draws))
    first = await store.create_class(teacher.id, "7a", ClassRules(), None)
    second = await store.create_class(teacher.id, "7b", ClassRules(), None)
    assert (first.code, second.code) == ("AAAAAAAA", "BBBBBBBB")
    monkeypatch.setattr(classes_module, "new_code", lambda: "AAAAAAAA")
    with pytest.raises(RuntimeError, match="no free join code in 5 draws"):
        await store.rotate_code(second.id, None)
    assert await store.get_class(second.id) == second


async def test_rules_and_name_change_and_are_read_back(store: PeopleStore) -> None:
    class_id = await a_class(store)
    rules = ClassRules(perspectives=["bauhaus"], max_runs_in_flight=1, safety_level="kids")
    assert (await store.set_rules(class_id, rules)).rules == rules
    assert (await store.rename_class(class_id, " 8b  Kunst ")).name == "8b Kunst"
    with pytest.raises(InvalidName):
        await store.rename_class(class_id, "x" * 81)
    with pytest.raises(UnknownClass):
        await store.set_rules(99, rules)


async def test_a_teacher_sees_only_their_classes(store: PeopleStore) -> None:
    weber = await store.add_teacher("Frau Weber", PASSWORD)
    huber = await store.add_teacher("Herr Huber", PASSWORD)
    mine = await store.create_class(weber.id, "7b", ClassRules(), None)
    await store.create_class(huber.id, "9c", ClassRules(), None)
    assert await store.classes_of(weber.id) == [mine]


# Members


async def test_a_free_nickname_joins_and_a_taken_one_does_not(store: PeopleStore) -> None:
    class_id = await a_class(store)
    mia = await store.join(class_id, " Mia  K. ", None, NOW)
    assert (mia.nickname, mia.class_name, mia.version) == ("Mia K.", "7b Kunst", 1)
    with pytest.raises(NicknameTaken, match="ask your teacher for a PIN"):
        await store.join(class_id, "MIA k.", None, NOW)
    assert await store.members_of(class_id) == [mia]


async def test_the_same_nickname_joins_two_classes(store: PeopleStore) -> None:
    teacher = await store.add_teacher("Frau Weber", PASSWORD)
    first = await store.create_class(teacher.id, "7a", ClassRules(), None)
    second = await store.create_class(teacher.id, "7b", ClassRules(), None)
    one = await store.join(first.id, "Mia", None, NOW)
    two = await store.join(second.id, "Mia", None, NOW)
    assert one.id != two.id


async def test_two_joins_racing_for_a_nickname_make_one_member(store: PeopleStore) -> None:
    class_id = await a_class(store)
    results = await asyncio.gather(
        *(store.join(class_id, "Mia", None, NOW) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(result, Exception) for result in results) == 1
    assert sum(isinstance(result, NicknameTaken) for result in results) == 4


async def test_a_member_carries_their_class_rules(store: PeopleStore) -> None:
    class_id = await a_class(store)
    rules = ClassRules(safety_level="kids")
    await store.set_rules(class_id, rules)
    mia = await store.join(class_id, "Mia", None, NOW)
    found = await store.member(mia.id)
    assert found is not None
    assert found.rules == rules


async def test_a_blocked_nickname_is_refused(tmp_path: Path) -> None:
    blocked = WordList.from_entries(["stinker"])
    store = await PeopleStore.open(tmp_path / "atelier.db", blocked_words=blocked)
    try:
        class_id = await a_class(store)
        with pytest.raises(InvalidNickname, match="not allowed"):
            await store.join(class_id, "Der Stinker", None, NOW)
        assert await store.members_of(class_id) == []
    finally:
        await store.close()


async def test_joining_a_missing_class_and_removing_a_missing_member_fail(
    store: PeopleStore,
) -> None:
    with pytest.raises(UnknownClass):
        await store.join(99, "Mia", None, NOW)
    with pytest.raises(UnknownMember):
        await store.remove_member(99)
    with pytest.raises(UnknownMember):
        await store.bump_member_version(99)
    assert await store.member(99) is None


async def test_a_removed_members_id_is_never_given_again(store: PeopleStore) -> None:
    class_id = await a_class(store)
    mia = await store.join(class_id, "Mia", None, NOW)
    assert await store.bump_member_version(mia.id) == 2
    assert await store.remove_member(mia.id) == []
    assert await store.member(mia.id) is None
    again = await store.join(class_id, "Mia", None, NOW)
    assert again.id != mia.id


async def test_deleting_a_class_deletes_its_members(store: PeopleStore) -> None:
    class_id = await a_class(store)
    mia = await store.join(class_id, "Mia", None, NOW)
    assert await store.delete_class(class_id) == []
    assert await store.member(mia.id) is None
    assert await store.get_class(class_id) is None
    with pytest.raises(UnknownClass):
        await store.delete_class(class_id)


async def test_removing_a_teacher_removes_their_classes(store: PeopleStore) -> None:
    class_id = await a_class(store)
    mia = await store.join(class_id, "Mia", None, NOW)
    teacher = await store.teacher_named("frau weber")
    assert teacher is not None
    assert await store.remove_teacher(teacher.id) == []
    assert await store.get_class(class_id) is None
    assert await store.member(mia.id) is None


# The file


async def test_the_file_is_private_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data" / "atelier.db"
    store = await PeopleStore.open(path)
    class_id = await a_class(store)
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reopened = await PeopleStore.open(path)
    try:
        found = await reopened.get_class(class_id)
        assert found is not None
        assert found.name == "7b Kunst"
    finally:
        await reopened.close()


async def a_deleted_nickname(path: Path, *, secure_delete: bool) -> bytes:
    """The file's bytes after a class with the member `Zebrafant` was deleted."""
    store = await PeopleStore.open(path)
    if not secure_delete:  # what SQLite does by its own default, for the check below
        async with store._db.write() as tx:
            await tx.run("PRAGMA secure_delete = OFF")
    class_id = await a_class(store)
    await store.join(class_id, "Zebrafant", None, NOW)
    await store.delete_class(class_id)
    await store.close()  # the last connection checkpoints the WAL into the file
    return checkpointed_bytes(path)


def checkpointed_bytes(path: Path) -> bytes:
    assert not path.with_name(path.name + "-wal").exists()
    return path.read_bytes()


async def test_a_deleted_class_leaves_no_nickname_in_the_file(tmp_path: Path) -> None:
    assert b"Zebrafant" not in await a_deleted_nickname(tmp_path / "a.db", secure_delete=True)
    # The check can fail: without secure_delete the deleted row stays in a free block.
    assert b"Zebrafant" in await a_deleted_nickname(tmp_path / "b.db", secure_delete=False)


async def test_a_make_and_revoke_loop_keeps_a_bounded_number_of_wall_link_rows(
    tmp_path: Path,
) -> None:
    """A script making and revoking wall links for ever: the live bound never counts revoked
    links, so only deleting the oldest revoked rows keeps the table from growing."""
    store = await PeopleStore.open(tmp_path / "atelier.db")
    try:
        class_id = await a_class(store)
        for _ in range(MAX_REVOKED_WALL_LINKS + 5):
            made = await store.new_wall_link(class_id)
            assert made is not None
            assert await store.revoke_wall_link(class_id, made[0].id)
        live = await store.new_wall_link(class_id)
        assert live is not None
        assert await store.wall_links_of(class_id) == [live[0]]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "atelier.db") as conn:
        [(rows,)] = conn.execute("SELECT count(*) FROM wall_links").fetchall()
    conn.close()
    assert rows == MAX_REVOKED_WALL_LINKS + 1
