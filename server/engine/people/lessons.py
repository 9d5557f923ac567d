"""Lessons in the people store: whether a class's lesson is open, the one fact of a class in
session that must survive a restart (a pause lives in memory, `server/engine/classroom/`).

A teacher who ends the lesson means "no more runs until I open the next one", also after the
server restarted in between; so the column is written before the engine acts on it, and read
once at start-up (`closed_lessons`).
"""

from __future__ import annotations

from server.engine.people.sqlite import Database


class LessonStates:
    """The lessons' part of `PeopleStore`."""

    _db: Database

    async def set_lesson_open(self, class_id: int, is_open: bool) -> bool:
        """Open or end the class's lesson; False if there is no such class."""
        async with self._db.write() as tx:
            changed = await tx.run(
                "UPDATE classes SET lesson_open = ? WHERE id = ?", (int(is_open), class_id)
            )
        return changed > 0

    async def closed_lessons(self) -> set[int]:
        """The classes whose teacher ended the lesson and has not opened the next."""
        rows = await self._db.all("SELECT id FROM classes WHERE lesson_open = 0")
        return {int(row["id"]) for row in rows}
