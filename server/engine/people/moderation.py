"""What a teacher looks at and decides about a class's runs, in the people store: the log of
blocked prompts, the class's pictures (console and wall), flags and hiding, nickname locks.

The rows are the pictures index's (`pictures.py`): every finished run of a member has one,
with how it ended, where it stopped and, for a blocked run, the teacher's reason. They go
with the member, the class and retention like every index row, so the log keeps no more and
no longer than the gallery does (docs/privacy.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from server.engine.people.errors import UnknownMember
from server.engine.people.pictures import COLUMNS, picture_of
from server.engine.people.rows import PictureRow
from server.engine.people.sqlite import Database

#: The most blocked runs one moderation log returns (newest first): a lesson's worth, and a
#: bound on one response's size.
MAX_BLOCKED_LISTED = 200
#: The most pictures one class listing returns (newest first), for the console and the wall.
MAX_CLASS_PICTURES = 500

_JOINED = ", ".join(f"p.{name.strip()}" for name in COLUMNS.split(","))
_SELECT = (
    f"SELECT {_JOINED}, m.id AS member, m.nickname"
    " FROM pictures p JOIN members m ON m.id = p.member_id"
    " WHERE p.class_id = ?"
)
_NEWEST = " ORDER BY p.created DESC, p.run_id DESC LIMIT ?"


@dataclass(frozen=True, slots=True)
class ClassPicture:
    """A class member's run from the index, with the member's nickname."""

    row: PictureRow
    member: int
    nickname: str


def _class_picture(row: sqlite3.Row) -> ClassPicture:
    return ClassPicture(picture_of(row), row["member"], row["nickname"])


class Moderation:
    """The moderation part of `PeopleStore`."""

    _db: Database

    async def blocked_of_class(
        self, class_id: int, since: float, limit: int = MAX_BLOCKED_LISTED
    ) -> list[ClassPicture]:
        """The class's blocked runs created at `since` or later, newest first."""
        rows = await self._db.all(
            f"{_SELECT} AND p.status = 'blocked' AND p.created >= ?{_NEWEST}",
            (class_id, since, min(limit, MAX_BLOCKED_LISTED)),
        )
        return [_class_picture(row) for row in rows]

    async def pictures_of_class(
        self,
        class_id: int,
        since: float,
        include_hidden: bool,
        limit: int = MAX_CLASS_PICTURES,
    ) -> list[ClassPicture]:
        """The class's pictures (completed runs with files; rows from before schema 3 have
        no status) created at `since` or later, newest first; without the hidden ones unless
        `include_hidden` (the wall never shows them)."""
        hidden = "" if include_hidden else " AND p.hidden = 0"
        rows = await self._db.all(
            f"{_SELECT} AND p.files != '[]' AND p.status IN ('completed', '')"
            f" AND p.created >= ?{hidden}{_NEWEST}",
            (class_id, since, min(limit, MAX_CLASS_PICTURES)),
        )
        return [_class_picture(row) for row in rows]

    async def class_picture(self, class_id: int, run_id: str) -> ClassPicture | None:
        """One run of the class's members; None when it is not one."""
        row = await self._db.one(f"{_SELECT} AND p.run_id = ?", (class_id, run_id))
        return None if row is None else _class_picture(row)

    async def mark_picture(
        self, class_id: int, run_id: str, *, flagged: bool | None, hidden: bool | None
    ) -> ClassPicture | None:
        """Set the run's flag and/or hidden mark (None: leave it); the run as it is now, or
        None when it is not a run of the class's members."""
        async with self._db.write() as tx:
            for column, value in (("flagged", flagged), ("hidden", hidden)):
                if value is not None:
                    await tx.run(
                        f"UPDATE pictures SET {column} = ? WHERE class_id = ? AND run_id = ?",
                        (int(value), class_id, run_id),
                    )
        return await self.class_picture(class_id, run_id)

    async def lock_member(self, member_id: int, locked: bool) -> None:
        """Lock (or unlock) the member's nickname. Locking also revokes every cookie of the
        member (their version moves on), so no device of theirs stays in."""
        bump = " version = version + 1," if locked else ""
        async with self._db.write() as tx:
            changed = await tx.run(
                f"UPDATE members SET{bump} locked = ? WHERE id = ?", (int(locked), member_id)
            )
        if not changed:
            raise UnknownMember(f"No member has the id {member_id}.")
