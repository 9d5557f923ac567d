"""The index of everyone's pictures in the people store: one row per finished run, so "My
pictures" is the same on every tab and device of a person without reading run folders.

The media stay in the run's folder (`server/engine/records.py`); a row goes with its member
and its class (cascade), or by `delete_picture` and `prune_pictures` (retention).
"""

from __future__ import annotations

import sqlite3

import orjson

from server.engine.people.identity import MEMBER_PREFIX
from server.engine.people.rows import PictureRow
from server.engine.people.sqlite import Database

#: The columns `picture_of` reads (`moderation.py` selects them too, from a join).
COLUMNS = (
    "run_id, owner_key, class_id, created, prompt, perspective, files, status, stage,"
    " teacher_reason, flagged, hidden, compare_group"
)
#: The most pictures one listing returns (newest first): more than retention ever keeps for a
#: student within the per-person run limits, and a bound on one response's size.
MAX_PICTURES_LISTED = 1000


def picture_of(row: sqlite3.Row) -> PictureRow:
    return PictureRow(
        run_id=row["run_id"],
        owner_key=row["owner_key"],
        class_id=row["class_id"],
        created=row["created"],
        prompt=row["prompt"],
        perspective=row["perspective"],
        files=list(orjson.loads(row["files"])),
        status=row["status"],
        stage=row["stage"],
        teacher_reason=row["teacher_reason"],
        flagged=bool(row["flagged"]),
        hidden=bool(row["hidden"]),
        group=row["compare_group"],
    )


def _member_id(owner_key: str) -> int | None:
    """The member an owner key names (`m-12`: 12), so the row goes when the member goes."""
    if not owner_key.startswith(MEMBER_PREFIX):
        return None
    digits = owner_key.removeprefix(MEMBER_PREFIX)
    return int(digits) if digits.isdecimal() else None


class Pictures:
    """The pictures index part of `PeopleStore`."""

    _db: Database

    async def add_picture(self, picture: PictureRow) -> bool:
        """Index a finished run; False when its member or class is gone (or the run id is
        indexed already): the caller then deletes the run's folder instead."""
        values = (
            picture.run_id,
            picture.owner_key,
            picture.class_id,
            _member_id(picture.owner_key),
            picture.created,
            picture.prompt,
            picture.perspective,
            orjson.dumps(picture.files).decode(),
            picture.status,
            picture.stage,
            picture.teacher_reason,
            picture.group,
        )
        try:
            async with self._db.write() as tx:
                await tx.run(
                    "INSERT INTO pictures (run_id, owner_key, class_id, member_id, created,"
                    " prompt, perspective, files, status, stage, teacher_reason, compare_group)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
        except sqlite3.IntegrityError:
            return False
        return True

    async def pictures_of(
        self, owner_key: str, since: float, limit: int = MAX_PICTURES_LISTED
    ) -> list[PictureRow]:
        """The owner's pictures created at `since` or later, newest first, at most `limit`."""
        rows = await self._db.all(
            f"SELECT {COLUMNS} FROM pictures WHERE owner_key = ? AND created >= ?"
            " ORDER BY created DESC, run_id DESC LIMIT ?",
            (owner_key, since, min(limit, MAX_PICTURES_LISTED)),
        )
        return [picture_of(row) for row in rows]

    async def picture(self, run_id: str) -> PictureRow | None:
        row = await self._db.one(f"SELECT {COLUMNS} FROM pictures WHERE run_id = ?", (run_id,))
        return None if row is None else picture_of(row)

    async def delete_picture(self, run_id: str, owner_key: str) -> bool:
        """Delete the owner's own picture; False when it is not theirs or not there."""
        async with self._db.write() as tx:
            deleted = await tx.run(
                "DELETE FROM pictures WHERE run_id = ? AND owner_key = ?", (run_id, owner_key)
            )
        return deleted > 0

    async def prune_pictures(self, before: float) -> list[str]:
        """Forget every picture created before `before`; their run ids."""
        async with self._db.write() as tx:
            rows = await tx.all(
                "DELETE FROM pictures WHERE created < ? RETURNING run_id", (before,)
            )
        return [row["run_id"] for row in rows]
