"""`PeopleStore`: teachers, classes, members and the pictures index in one SQLite file.

Opened once by the app (`data_dir / "atelier.db"`, a `cleanup_ctx`) and by the `teacher`
command; both may have it open at once (WAL, a busy timeout). Each concept's queries live in
its own module; this class puts them behind one object. What is stored, for how long and who
sees it: docs/privacy.md.
"""

from __future__ import annotations

from pathlib import Path

from server.engine.people.class_pictures import ClassPictures
from server.engine.people.classes import Classes
from server.engine.people.lessons import LessonStates
from server.engine.people.members import Members
from server.engine.people.migrations import migrate
from server.engine.people.moderation import Moderation
from server.engine.people.pictures import Pictures
from server.engine.people.sqlite import Database
from server.engine.people.teachers import Teachers
from server.engine.people.wall_links import WallLinks
from server.engine.safety_words import WordList

DB_NAME = "atelier.db"


class PeopleStore(
    Teachers, Classes, Members, Pictures, Moderation, WallLinks, ClassPictures, LessonStates
):
    """The people database. Every method is a coroutine; rows come back frozen."""

    def __init__(self, db: Database, blocked_words: WordList | None) -> None:
        self._db = db
        self._blocked = blocked_words

    @classmethod
    async def open(cls, path: Path, *, blocked_words: WordList | None = None) -> PeopleStore:
        """Open (or create) the database at `path` and migrate it to the newest schema.

        `blocked_words`: the list nicknames are checked against (the catalog's kids list)."""
        db = await Database.open(path)
        try:
            await migrate(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, blocked_words)

    async def close(self) -> None:
        await self._db.close()
