"""Teachers' accounts in the people store: add, log in, look up, revoke, change, remove."""

from __future__ import annotations

import sqlite3
import time

from server.engine.people.errors import InvalidName, TeacherNameTaken, UnknownTeacher
from server.engine.people.identity import TEACHER_PREFIX
from server.engine.people.names import MAX_TEACHER_NAME, clean_name, name_key
from server.engine.people.passwords import hash_password, needs_rehash, verify_password
from server.engine.people.rows import TeacherRow
from server.engine.people.sqlite import Database

_COLUMNS = "id, name, version, created"


def _row(row: sqlite3.Row) -> TeacherRow:
    return TeacherRow(row["id"], row["name"], row["version"], row["created"])


def _lookup_key(typed: str) -> str:
    """The key a typed login name is looked up by: stored names are cleaned the same way; a
    name no teacher can have looks up nothing (and a login still costs a hash)."""
    try:
        return name_key(clean_name(typed, MAX_TEACHER_NAME, "A teacher's name"))
    except InvalidName:
        return ""


class Teachers:
    """The teachers' part of `PeopleStore`."""

    _db: Database

    async def add_teacher(self, name: str, password: str) -> TeacherRow:
        """A new teacher; `TeacherNameTaken` when the name (ignoring case) is in use."""
        name = clean_name(name, MAX_TEACHER_NAME, "A teacher's name")
        hashed = await hash_password(password)
        created = time.time()
        try:
            async with self._db.write() as tx:
                teacher_id = await tx.insert(
                    "INSERT INTO teachers (name, name_key, password_hash, created)"
                    " VALUES (?, ?, ?, ?)",
                    (name, name_key(name), hashed, created),
                )
        except sqlite3.IntegrityError:
            raise TeacherNameTaken(f"There is a teacher named {name!r} already.") from None
        return TeacherRow(teacher_id, name, 1, created)

    async def check_login(self, name: str, password: str) -> TeacherRow | None:
        """The teacher when name and password match, else None, in the same time either way."""
        row = await self._db.one(
            f"SELECT {_COLUMNS}, password_hash FROM teachers WHERE name_key = ?",
            (_lookup_key(name),),
        )
        stored = None if row is None else str(row["password_hash"])
        if not await verify_password(stored, password) or row is None:
            return None
        if stored is not None and needs_rehash(stored):
            await self._store_hash(row["id"], await hash_password(password), bump=False)
        return _row(row)

    async def teacher(self, teacher_id: int) -> TeacherRow | None:
        row = await self._db.one(f"SELECT {_COLUMNS} FROM teachers WHERE id = ?", (teacher_id,))
        return None if row is None else _row(row)

    async def teacher_named(self, name: str) -> TeacherRow | None:
        row = await self._db.one(
            f"SELECT {_COLUMNS} FROM teachers WHERE name_key = ?", (_lookup_key(name),)
        )
        return None if row is None else _row(row)

    async def teachers(self) -> list[TeacherRow]:
        rows = await self._db.all(f"SELECT {_COLUMNS} FROM teachers ORDER BY name_key")
        return [_row(row) for row in rows]

    async def bump_teacher_version(self, teacher_id: int) -> int:
        """Revoke every cookie of the teacher issued so far; the new version."""
        async with self._db.write() as tx:
            row = await tx.one(
                "UPDATE teachers SET version = version + 1 WHERE id = ? RETURNING version",
                (teacher_id,),
            )
        if row is None:
            raise UnknownTeacher(f"No teacher has the id {teacher_id}.")
        return int(row["version"])

    async def set_password(self, teacher_id: int, password: str) -> None:
        """A new password; the teacher's cookies are revoked with it."""
        await self._store_hash(teacher_id, await hash_password(password), bump=True)

    async def remove_teacher(self, teacher_id: int) -> list[str]:
        """Delete the teacher with their classes, members and index rows; their run ids."""
        async with self._db.write() as tx:
            rows = await tx.all(
                "SELECT run_id FROM pictures WHERE owner_key = ? OR class_id IN"
                " (SELECT id FROM classes WHERE teacher_id = ?)",
                (f"{TEACHER_PREFIX}{teacher_id}", teacher_id),
            )
            await tx.run(
                "DELETE FROM pictures WHERE owner_key = ?", (f"{TEACHER_PREFIX}{teacher_id}",)
            )
            deleted = await tx.run("DELETE FROM teachers WHERE id = ?", (teacher_id,))
        if not deleted:
            raise UnknownTeacher(f"No teacher has the id {teacher_id}.")
        return [row["run_id"] for row in rows]

    async def _store_hash(self, teacher_id: int, hashed: str, *, bump: bool) -> None:
        async with self._db.write() as tx:
            changed = await tx.run(
                "UPDATE teachers SET password_hash = ?, version = version + ? WHERE id = ?",
                (hashed, int(bump), teacher_id),
            )
        if not changed:
            raise UnknownTeacher(f"No teacher has the id {teacher_id}.")
