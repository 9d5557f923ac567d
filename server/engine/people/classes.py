"""Classes in the people store: created by a teacher, found by their join code, rotated,
given rules, renamed, deleted (with their members and index rows, by cascade)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable

from server.engine.people.codes import new_code, normalise_code
from server.engine.people.errors import CodeExpired, UnknownClass, UnknownCode, UnknownTeacher
from server.engine.people.identity import ClassRules
from server.engine.people.names import MAX_CLASS_NAME, clean_name
from server.engine.people.rows import ClassRow
from server.engine.people.sqlite import Database

_COLUMNS = "id, teacher_id, name, code, code_expires, rules, created"
#: Fresh codes drawn before giving up: a clash is one in 8.5e11 per existing class.
CODE_ATTEMPTS = 5


def _row(row: sqlite3.Row) -> ClassRow:
    return ClassRow(
        id=row["id"],
        teacher_id=row["teacher_id"],
        name=row["name"],
        code=row["code"],
        code_expires=row["code_expires"],
        rules=ClassRules.model_validate_json(row["rules"]),
        created=row["created"],
    )


def _rules_json(rules: ClassRules) -> str:
    return rules.model_dump_json(exclude_none=True)


class Classes:
    """The classes' part of `PeopleStore`."""

    _db: Database

    async def create_class(
        self, teacher_id: int, name: str, rules: ClassRules, code_expires: float | None
    ) -> ClassRow:
        """A new class of `teacher_id` with a fresh join code."""
        name = clean_name(name, MAX_CLASS_NAME, "A class's name")
        async with self._db.write() as tx:
            if await tx.one("SELECT 1 FROM teachers WHERE id = ?", (teacher_id,)) is None:
                raise UnknownTeacher(f"No teacher has the id {teacher_id}.")
            values = (teacher_id, name, code_expires, _rules_json(rules), time.time())
            class_id = await _with_fresh_code(
                lambda code: tx.insert(
                    "INSERT INTO classes (code, teacher_id, name, code_expires, rules, created)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (code, *values),
                )
            )
        return await self._class_or_raise(class_id)

    async def classes_of(self, teacher_id: int) -> list[ClassRow]:
        rows = await self._db.all(
            f"SELECT {_COLUMNS} FROM classes WHERE teacher_id = ? ORDER BY id", (teacher_id,)
        )
        return [_row(row) for row in rows]

    async def get_class(self, class_id: int) -> ClassRow | None:
        row = await self._db.one(f"SELECT {_COLUMNS} FROM classes WHERE id = ?", (class_id,))
        return None if row is None else _row(row)

    async def class_for_code(self, code: str, now: float) -> ClassRow:
        """The class a typed code lets a student join; `UnknownCode`, `CodeExpired`."""
        row = await self._db.one(
            f"SELECT {_COLUMNS} FROM classes WHERE code = ?", (normalise_code(code),)
        )
        if row is None:
            raise UnknownCode("There is no class with this code. Check the code and try again.")
        found = _row(row)
        if found.code_expires is not None and now >= found.code_expires:
            raise CodeExpired("This code has expired. Ask your teacher for the new one.")
        return found

    async def rotate_code(self, class_id: int, expires: float | None) -> ClassRow:
        """A fresh code for the class (the old one stops working at once) and its expiry."""
        async with self._db.write() as tx:
            changed = await _with_fresh_code(
                lambda code: tx.run(
                    "UPDATE classes SET code = ?, code_expires = ? WHERE id = ?",
                    (code, expires, class_id),
                )
            )
        if not changed:
            raise UnknownClass(f"No class has the id {class_id}.")
        return await self._class_or_raise(class_id)

    async def set_rules(self, class_id: int, rules: ClassRules) -> ClassRow:
        await self._update(class_id, "rules = ?", _rules_json(rules))
        return await self._class_or_raise(class_id)

    async def rename_class(self, class_id: int, name: str) -> ClassRow:
        await self._update(class_id, "name = ?", clean_name(name, MAX_CLASS_NAME, "A class's name"))
        return await self._class_or_raise(class_id)

    async def delete_class(self, class_id: int) -> list[str]:
        """Delete the class, its members and their index rows; the run ids of its pictures
        (their folders are the caller's to delete)."""
        async with self._db.write() as tx:
            rows = await tx.all("SELECT run_id FROM pictures WHERE class_id = ?", (class_id,))
            deleted = await tx.run("DELETE FROM classes WHERE id = ?", (class_id,))
        if not deleted:
            raise UnknownClass(f"No class has the id {class_id}.")
        return [row["run_id"] for row in rows]

    async def _update(self, class_id: int, assignment: str, value: object) -> None:
        async with self._db.write() as tx:
            changed = await tx.run(
                f"UPDATE classes SET {assignment} WHERE id = ?", (value, class_id)
            )
        if not changed:
            raise UnknownClass(f"No class has the id {class_id}.")

    async def _class_or_raise(self, class_id: int) -> ClassRow:
        found = await self.get_class(class_id)
        if found is None:  # deleted between the write and this read
            raise UnknownClass(f"No class has the id {class_id}.")
        return found


async def _with_fresh_code(statement: Callable[[str], Awaitable[int]]) -> int:
    """Run `statement` with a fresh code, drawing again while the code is taken."""
    for _ in range(CODE_ATTEMPTS):
        try:
            return await statement(new_code())
        except sqlite3.IntegrityError:  # UNIQUE (code): only that statement is undone
            continue
    raise RuntimeError(f"no free join code in {CODE_ATTEMPTS} draws: is the random source broken?")
