"""The people store's one SQLite connection (aiosqlite), and the lock that keeps its
transactions whole.

aiosqlite runs every statement of a connection in one worker thread, in order. Two coroutines
sharing that connection would interleave their statements inside each other's transactions,
so every read and every write takes `_lock`: writes as `BEGIN IMMEDIATE ... COMMIT`, rolled
back on any exception (cancellation included).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = tuple[Any, ...]

#: How long a statement waits for another process (the `teacher` command) holding the file.
BUSY_TIMEOUT_MS = 5000
_PRAGMAS = (
    # First: switching to WAL needs a moment's lock that the other process may be holding.
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    # Deleted rows are overwritten with zeros, not left in free pages (docs/privacy.md); many
    # builds (Debian's) do this by default, SQLite's own default is off.
    "PRAGMA secure_delete = ON",
    "PRAGMA synchronous = NORMAL",
)


class Database:
    """One connection, opened with WAL and foreign keys on; statements under one lock."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating it 0600: it holds password hashes) the database file at `path`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            for pragma in _PRAGMAS:
                await conn.execute(pragma)
        except BaseException:  # not a database, or locked past the timeout: no thread left
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """A transaction: committed when the block ends, rolled back when it raises."""
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield Transaction(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        """End the transaction whatever state a failure or a cancellation left it in.

        A cancelled `await` does not stop a statement already handed to aiosqlite's thread: a
        BEGIN cancelled on its way still runs, after which `in_transaction` would turn true
        with nobody left to end it, and every later write failed with "cannot start a
        transaction within a transaction". aiosqlite runs statements in order, so a ROLLBACK
        queued now runs after whatever was queued before it; "no transaction is active" only
        means there was nothing to undo."""
        try:
            await asyncio.shield(self._conn.execute("ROLLBACK"))
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise


class Transaction:
    """The statements of one `Database.write` block."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def run(self, sql: str, params: Params = ()) -> int:
        """Execute one statement; the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Execute an INSERT; the new row's id."""
        async with self._conn.execute(sql, params) as cursor:
            rowid = cursor.lastrowid
        assert rowid is not None  # an INSERT always sets it
        return rowid

    async def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())
