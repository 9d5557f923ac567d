"""Wall links in the people store: a revocable key a teacher hands to a projector, so the
class's wall opens there without the teacher's login (server/handlers/wall.py).

The token is 256 random bits and only its SHA-256 is stored: a stolen database opens no wall,
and a slow password hash would buy nothing against a token that cannot be guessed. A revoked
link keeps its row (with `revoked` set) until its class is deleted or it is one of more than
`MAX_REVOKED_WALL_LINKS` revoked ones; every lookup asks for a live one, so a revocation takes
effect on the next request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

from server.engine.people.sqlite import Database

#: Live links one class may have at once: a projector or two per room, a spare, a few rooms.
MAX_WALL_LINKS = 20
#: Revoked links a class keeps the rows of (the newest); older ones are deleted.
MAX_REVOKED_WALL_LINKS = 20
_TOKEN_BYTES = 32
#: What `new_wall_link` issues (43 URL-safe characters); anything else is no token.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_COLUMNS = "id, class_id, created, revoked"


@dataclass(frozen=True, slots=True)
class WallLinkRow:
    """A wall link as the store gives it out: never its token or its hash."""

    id: int
    class_id: int
    created: float
    revoked: float | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _row(row: sqlite3.Row) -> WallLinkRow:
    return WallLinkRow(row["id"], row["class_id"], row["created"], row["revoked"])


class WallLinks:
    """The wall links' part of `PeopleStore`."""

    _db: Database

    async def new_wall_link(self, class_id: int) -> tuple[WallLinkRow, str] | None:
        """A new link for the class and its token (shown once, never stored); None when the
        class has `MAX_WALL_LINKS` live links already."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        async with self._db.write() as tx:
            live = await tx.one(
                "SELECT count(*) FROM wall_links WHERE class_id = ? AND revoked IS NULL",
                (class_id,),
            )
            if live is not None and live[0] >= MAX_WALL_LINKS:
                return None
            link_id = await tx.insert(
                "INSERT INTO wall_links (class_id, token_hash, created) VALUES (?, ?, ?)",
                (class_id, token_hash(token), time.time()),
            )
            row = await tx.one(f"SELECT {_COLUMNS} FROM wall_links WHERE id = ?", (link_id,))
        assert row is not None  # inserted in this transaction
        return _row(row), token

    async def wall_links_of(self, class_id: int) -> list[WallLinkRow]:
        """The class's live links, newest first (at most `MAX_WALL_LINKS`)."""
        rows = await self._db.all(
            f"SELECT {_COLUMNS} FROM wall_links WHERE class_id = ? AND revoked IS NULL"
            " ORDER BY id DESC LIMIT ?",
            (class_id, MAX_WALL_LINKS),
        )
        return [_row(row) for row in rows]

    async def revoke_wall_link(self, class_id: int, link_id: int) -> bool:
        """Revoke the class's link; False when the class has no such live link."""
        async with self._db.write() as tx:
            changed = await tx.run(
                "UPDATE wall_links SET revoked = ? WHERE id = ? AND class_id = ?"
                " AND revoked IS NULL",
                (time.time(), link_id, class_id),
            )
            if changed:  # only the newest revoked rows stay: a make-and-revoke loop is bounded
                await tx.run(
                    "DELETE FROM wall_links WHERE class_id = ? AND revoked IS NOT NULL AND id NOT"
                    " IN (SELECT id FROM wall_links WHERE class_id = ? AND revoked IS NOT NULL"
                    " ORDER BY id DESC LIMIT ?)",
                    (class_id, class_id, MAX_REVOKED_WALL_LINKS),
                )
        return changed > 0

    async def wall_link_for(self, token: str) -> WallLinkRow | None:
        """The live link `token` opens; None for a revoked, unknown or malformed one."""
        if not TOKEN_SHAPE.fullmatch(token):
            return None
        row = await self._db.one(
            f"SELECT {_COLUMNS} FROM wall_links WHERE token_hash = ? AND revoked IS NULL",
            (token_hash(token),),
        )
        return None if row is None else _row(row)
