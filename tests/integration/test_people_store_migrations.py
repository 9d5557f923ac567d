"""Schema migrations of the people database: from an empty file, from the first schema with
rows in it, never from a newer one, and all or nothing per step."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest

from server.engine.people import migrations
from server.engine.people.db import PeopleStore
from server.engine.people.errors import SchemaTooNew
from server.engine.people.migrations import SCHEMA_VERSION, migrate, schema_version
from server.engine.people.sqlite import Database

NOW = 1_800_000_000.0


def schema_of(path: Path) -> list[tuple[str, str]]:
    """Every table and index the file defines, as SQLite stores their SQL."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
    conn.close()
    return [(str(name), str(sql)) for name, sql in rows]


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def a_version_1_file(path: Path) -> None:
    """A database at schema version 1 holding a teacher, a class, a member and a picture."""
    db = await Database.open(path)
    await migrate(db, target=1)
    async with db.write() as tx:
        await tx.run(
            "INSERT INTO teachers (id, name, name_key, password_hash, created)"
            " VALUES (1, 'Frau Weber', 'frau weber', 'not a real hash', ?)",
            (NOW,),
        )
        await tx.run(
            "INSERT INTO classes (id, teacher_id, name, code, rules, created)"
            " VALUES (1, 1, '7b', 'ABCDEFGH', '{}', ?)",
            (NOW,),
        )
        await tx.run(
            "INSERT INTO members (id, class_id, nickname, nickname_key, created)"
            " VALUES (1, 1, 'Mia', 'mia', ?)",
            (NOW,),
        )
        await tx.run(
            "INSERT INTO pictures (run_id, owner_key, class_id, member_id, created, prompt,"
            " perspective, files) VALUES ('r-0001', 'm-1', 1, 1, ?, 'a cat', 'bauhaus', '[]')",
            (NOW,),
        )
    await db.close()


async def test_an_empty_file_is_migrated_to_the_newest_schema(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    store = await PeopleStore.open(path)
    await store.close()
    assert version_of(path) == SCHEMA_VERSION == len(migrations.MIGRATIONS)
    names = {name for name, _ in schema_of(path)}
    assert {"teachers", "classes", "members", "pictures", "pins"} <= names


async def test_a_version_1_file_keeps_its_rows_and_gains_the_new_tables(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    await a_version_1_file(path)
    assert version_of(path) == 1
    assert "pins" not in dict(schema_of(path))
    store = await PeopleStore.open(path)
    try:
        mia = await store.member(1)
        assert mia is not None
        assert (mia.nickname, mia.class_name) == ("Mia", "7b")
        assert [p.run_id for p in await store.pictures_of("m-1", 0)] == ["r-0001"]
        pin = await store.issue_pin(1, NOW, 600)  # the table version 2 added
        assert (await store.join(1, "Mia", pin, NOW)).version == 2
    finally:
        await store.close()
    fresh = tmp_path / "fresh.db"
    await (await PeopleStore.open(fresh)).close()
    assert schema_of(path) == schema_of(fresh)  # upgraded and new files are the same schema


async def test_a_migrated_file_is_not_migrated_again(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    await (await PeopleStore.open(path)).close()
    db = await Database.open(path)
    try:
        assert await migrate(db) == SCHEMA_VERSION  # started there: nothing ran
        assert await schema_version(db) == SCHEMA_VERSION
    finally:
        await db.close()


async def test_two_processes_opening_a_new_file_at_once_migrate_it_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "atelier.db"
    first, second = await asyncio.gather(PeopleStore.open(path), PeopleStore.open(path))
    try:
        teacher = await first.add_teacher("Frau Weber", "correct horse battery")
        assert await second.teacher(teacher.id) == teacher
    finally:
        await first.close()
        await second.close()
    assert version_of(path) == SCHEMA_VERSION


async def test_a_file_from_a_newer_server_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNew, match="schema version"):
        await PeopleStore.open(path)
    assert version_of(path) == SCHEMA_VERSION + 1


async def test_a_failing_step_leaves_the_version_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "atelier.db"
    await a_version_1_file(path)
    broken = ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL")
    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.MIGRATIONS[0], broken))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 2)
    with pytest.raises(sqlite3.OperationalError):
        await PeopleStore.open(path)
    assert version_of(path) == 1
    assert "half_done" not in dict(schema_of(path))


#: Every column of the newest schema. A new one joins this list and docs/privacy.md together;
#: none may hold an address, a user agent, an e-mail or a real name.
COLUMNS = {
    "teachers": ["id", "name", "name_key", "password_hash", "version", "created"],
    "classes": [
        "id",
        "teacher_id",
        "name",
        "code",
        "code_expires",
        "rules",
        "created",
        "lesson_open",
    ],
    "members": ["id", "class_id", "nickname", "nickname_key", "version", "created", "locked"],
    "pins": ["member_id", "salt", "digest", "expires", "tries"],
    "pictures": [
        "run_id",
        "owner_key",
        "class_id",
        "member_id",
        "created",
        "prompt",
        "perspective",
        "files",
        "status",
        "stage",
        "teacher_reason",
        "flagged",
        "hidden",
        "compare_group",
    ],
    "wall_links": ["id", "class_id", "token_hash", "created", "revoked"],
}


async def test_the_schema_holds_the_documented_columns_only(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    await (await PeopleStore.open(path)).close()
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        found = {
            table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            for table in tables
            if table != "sqlite_sequence"  # AUTOINCREMENT's own bookkeeping
        }
    finally:
        conn.close()
    assert found == COLUMNS


def write_junk(path: Path) -> None:
    path.write_bytes(b"this is not a database, it only has its name" * 100)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    write_junk(path)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        await PeopleStore.open(path)


async def test_version_3_gives_old_rows_no_status_and_no_lock(tmp_path: Path) -> None:
    """H-MOD: an old row stays out of the moderation log; its picture is listed by its files."""
    path = tmp_path / "atelier.db"
    await a_version_1_file(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE pictures SET files = '[\"image-0.png\"]'")
    conn.close()
    store = await PeopleStore.open(path)
    try:
        [old] = await store.pictures_of_class(1, 0, include_hidden=False)
        assert (old.row.status, old.row.stage, old.row.teacher_reason) == ("", None, None)
        assert (old.row.flagged, old.row.hidden, old.nickname) == (False, False, "Mia")
        assert await store.blocked_of_class(1, 0) == []
        mia = await store.member(1)
        assert mia is not None
        assert not mia.locked
    finally:
        await store.close()


async def test_version_3_gives_an_old_class_wall_links_that_go_with_it(tmp_path: Path) -> None:
    """H-WALL: a link of a class from before version 3 opens its wall until it is revoked;
    only the token's hash is stored, and the rows go with their class."""
    path = tmp_path / "atelier.db"
    await a_version_1_file(path)
    store = await PeopleStore.open(path)
    try:
        made = await store.new_wall_link(1)
        assert made is not None
        link, token = made
        assert await store.wall_link_for(token) == link
        with sqlite3.connect(path) as conn:
            [(stored,)] = conn.execute("SELECT token_hash FROM wall_links").fetchall()
        conn.close()
        assert stored == hashlib.sha256(token.encode()).hexdigest()
        assert await store.revoke_wall_link(1, link.id)
        assert await store.wall_link_for(token) is None
        assert await store.wall_links_of(1) == []
        await store.delete_class(1)
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM wall_links").fetchone() == (0,)
    conn.close()


async def test_version_3_opens_every_old_class_lesson_and_an_ended_one_stays_ended(
    tmp_path: Path,
) -> None:
    """H-CTRL: a class from before version 3 is in session; an ended lesson survives a reopen."""
    path = tmp_path / "atelier.db"
    await a_version_1_file(path)
    store = await PeopleStore.open(path)
    try:
        assert await store.closed_lessons() == set()
        assert await store.set_lesson_open(1, False)
        assert not await store.set_lesson_open(99, False)  # no such class
    finally:
        await store.close()
    store = await PeopleStore.open(path)
    try:
        assert await store.closed_lessons() == {1}
        assert await store.set_lesson_open(1, True)
        assert await store.closed_lessons() == set()
    finally:
        await store.close()
