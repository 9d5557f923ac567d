"""A write cancelled anywhere leaves the store usable: aiosqlite runs a statement handed to its
thread even when the awaiting task is cancelled, so a BEGIN cancelled on its way used to open a
transaction nobody ended, and every later write failed with "cannot start a transaction within
a transaction" (the pruner, cancelled at shutdown, hit it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.engine.people.sqlite import Database


async def test_writes_cancelled_at_every_step_leave_the_database_writable(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "atelier.db")
    try:
        async with db.write() as tx:
            await tx.run("CREATE TABLE t (n INTEGER)")

        async def write(n: int) -> None:
            async with db.write() as tx:
                await tx.run("INSERT INTO t (n) VALUES (?)", (n,))

        for steps in range(12):  # cancel after 0, 1, ... 11 turns of the loop
            task = asyncio.create_task(write(steps))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await write(1000 + steps)  # raised "within a transaction" before the fix
        rows = await db.all("SELECT n FROM t WHERE n >= 1000 ORDER BY n")
        assert [row["n"] for row in rows] == [1000 + steps for steps in range(12)]
    finally:
        await db.close()
