"""A class's runs in the pictures index, for its teacher: the runs of a time range (the
export), deleting them all at the end of a lesson, and the class's own retention.

Every run of a member has a row (`records.picture_row`), so these reach blocked and failed runs
too; the runs' folders are the caller's to read or delete (`RecordStore`).
"""

from __future__ import annotations

from server.engine.people.identity import ClassRules
from server.engine.people.pictures import COLUMNS, picture_of
from server.engine.people.rows import PictureRow
from server.engine.people.sqlite import Database

#: A class's retention in seconds, from its rules (NULL: the class sets none).
_CLASS_RETENTION = "json_extract(classes.rules, '$.retention_hours') * 3600.0"


def retention_within(rules: ClassRules, operator_hours: float) -> bool:
    """A class may keep its pictures for a shorter time than the operator's `retention_hours`
    (0: the operator keeps all), never a longer one."""
    chosen = rules.retention_hours
    return chosen is None or operator_hours <= 0 or chosen <= operator_hours


class ClassPictures:
    """The class-wide part of the pictures index in `PeopleStore`."""

    _db: Database

    async def runs_of_class(
        self, class_id: int, since: float, until: float, limit: int
    ) -> list[PictureRow]:
        """The class's runs created in [since, until), oldest first, at most `limit` (the
        caller asks for one more than it takes, to know that there are more)."""
        rows = await self._db.all(
            f"SELECT {COLUMNS} FROM pictures WHERE class_id = ? AND created >= ?"
            " AND created < ? ORDER BY created, run_id LIMIT ?",
            (class_id, since, until, limit),
        )
        return [picture_of(row) for row in rows]

    async def delete_class_pictures(self, class_id: int) -> list[PictureRow]:
        """Forget every run of the class (its members stay); their rows as they were."""
        async with self._db.write() as tx:
            rows = await tx.all(
                f"DELETE FROM pictures WHERE class_id = ? RETURNING {COLUMNS}", (class_id,)
            )
        return [picture_of(row) for row in rows]

    async def prune_class_pictures(self, now: float) -> list[str]:
        """Forget the runs of every class older than the class's own `retention_hours`; their
        run ids. The operator's retention is pruned apart (`prune_pictures`), so the shorter
        of the two always wins."""
        async with self._db.write() as tx:
            rows = await tx.all(
                "DELETE FROM pictures WHERE run_id IN (SELECT pictures.run_id FROM pictures"
                " JOIN classes ON classes.id = pictures.class_id"
                f" WHERE {_CLASS_RETENTION} IS NOT NULL"
                f" AND pictures.created < ? - {_CLASS_RETENTION}) RETURNING run_id",
                (now,),
            )
        return [row["run_id"] for row in rows]
