"""Members of classes in the people store: joining with a nickname, re-joining with a PIN,
listing, removing.

A nickname is no password: a taken one lets nobody in, except with a one-time PIN the teacher
issued for that member (`pins.py`); re-joining so bumps the member's version, which revokes
the cookies of every other device.
"""

from __future__ import annotations

import sqlite3

from server.engine.people.errors import (
    ClassFull,
    NicknameLocked,
    NicknameTaken,
    UnknownClass,
    UnknownMember,
    WrongPin,
)
from server.engine.people.identity import ClassRules
from server.engine.people.nicknames import clean_nickname, nickname_key
from server.engine.people.pins import store_pin, use_pin
from server.engine.people.rows import MemberRow
from server.engine.people.sqlite import Database, Transaction
from server.engine.safety_words import WordList

_SELECT = (
    "SELECT m.id, m.class_id, m.nickname, m.version, m.created, c.name AS class_name, c.rules,"
    " m.locked FROM members m JOIN classes c ON c.id = m.class_id"
)

TAKEN = (
    "This nickname is already taken in this class. Choose another one, or ask your teacher "
    "for a PIN if it is yours."
)


def _row(row: sqlite3.Row) -> MemberRow:
    return MemberRow(
        id=row["id"],
        class_id=row["class_id"],
        nickname=row["nickname"],
        version=row["version"],
        created=row["created"],
        class_name=row["class_name"],
        rules=ClassRules.model_validate_json(row["rules"]),
        locked=bool(row["locked"]),
    )


class Members:
    """The members' part of `PeopleStore`."""

    _db: Database
    #: The kids word list nicknames are checked against (None: the format rules only).
    _blocked: WordList | None

    async def join(
        self,
        class_id: int,
        nickname: str,
        pin: str | None,
        now: float,
        *,
        max_members: int | None = None,
    ) -> MemberRow:
        """Join the class with a free nickname, or come back to a taken one with its PIN.
        A new nickname beyond `max_members` members is refused (a re-join with a PIN is not).

        `InvalidNickname`, `UnknownClass`, `NicknameTaken`, `WrongPin`, `ClassFull`."""
        cleaned = clean_nickname(nickname, self._blocked)
        async with self._db.write() as tx:
            member_id, refused = await _join(tx, class_id, cleaned, pin, now, max_members)
        if refused is not None:  # raised after the commit: a wrong PIN's try must count
            raise refused
        return await self._member_or_raise(member_id)

    async def member(self, member_id: int) -> MemberRow | None:
        """The member with their class's name and rules, or None (removed, class deleted)."""
        row = await self._db.one(f"{_SELECT} WHERE m.id = ?", (member_id,))
        return None if row is None else _row(row)

    async def members_of(self, class_id: int) -> list[MemberRow]:
        rows = await self._db.all(
            f"{_SELECT} WHERE m.class_id = ? ORDER BY m.nickname_key", (class_id,)
        )
        return [_row(row) for row in rows]

    async def bump_member_version(self, member_id: int) -> int:
        """Revoke every cookie of the member issued so far; the new version."""
        async with self._db.write() as tx:
            row = await tx.one(
                "UPDATE members SET version = version + 1 WHERE id = ? RETURNING version",
                (member_id,),
            )
        if row is None:
            raise UnknownMember(f"No member has the id {member_id}.")
        return int(row["version"])

    async def issue_pin(self, member_id: int, now: float, ttl: float) -> str:
        """A one-time PIN (six digits, `ttl` seconds) that lets the member's nickname back in."""
        async with self._db.write() as tx:
            if await tx.one("SELECT 1 FROM members WHERE id = ?", (member_id,)) is None:
                raise UnknownMember(f"No member has the id {member_id}.")
            return await store_pin(tx, member_id, now, ttl)

    async def remove_member(self, member_id: int) -> list[str]:
        """Delete the member and their index rows (cascade); the run ids of their pictures."""
        async with self._db.write() as tx:
            rows = await tx.all("SELECT run_id FROM pictures WHERE member_id = ?", (member_id,))
            deleted = await tx.run("DELETE FROM members WHERE id = ?", (member_id,))
        if not deleted:
            raise UnknownMember(f"No member has the id {member_id}.")
        return [row["run_id"] for row in rows]

    async def _member_or_raise(self, member_id: int) -> MemberRow:
        found = await self.member(member_id)
        if found is None:  # removed between the join and this read
            raise UnknownMember(f"No member has the id {member_id}.")
        return found


async def _join(
    tx: Transaction,
    class_id: int,
    nickname: str,
    pin: str | None,
    now: float,
    max_members: int | None,
) -> tuple[int, Exception | None]:
    """The member joined or re-joined, or the error to raise once the transaction is done."""
    if await tx.one("SELECT 1 FROM classes WHERE id = ?", (class_id,)) is None:
        raise UnknownClass(f"No class has the id {class_id}.")
    key = nickname_key(nickname)
    row = await tx.one(
        "SELECT id, locked FROM members WHERE class_id = ? AND nickname_key = ?", (class_id, key)
    )
    if row is None:
        if max_members is not None and await _members_in(tx, class_id) >= max_members:
            return 0, ClassFull("This class is full. Ask your teacher.")
        member_id = await tx.insert(
            "INSERT INTO members (class_id, nickname, nickname_key, created) VALUES (?, ?, ?, ?)",
            (class_id, nickname, key, now),
        )
        return member_id, None
    if row["locked"]:
        return row["id"], NicknameLocked("Your teacher has locked this nickname.")
    if pin is None:
        return row["id"], NicknameTaken(TAKEN)
    if not await use_pin(tx, row["id"], pin, now):
        return row["id"], WrongPin("This PIN is not right, or no longer valid. Ask your teacher.")
    await tx.run("UPDATE members SET version = version + 1 WHERE id = ?", (row["id"],))
    return row["id"], None


async def _members_in(tx: Transaction, class_id: int) -> int:
    row = await tx.one("SELECT COUNT(*) AS n FROM members WHERE class_id = ?", (class_id,))
    return int(row["n"]) if row is not None else 0
