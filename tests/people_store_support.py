"""The people store on a real SQLite file, for the store's own tests: the `store` fixture (a
plugin of tests/conftest.py) and a first member to work with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.engine.people.db import PeopleStore
from server.engine.people.identity import ClassRules
from server.engine.people.rows import MemberRow

#: The store's clock in these tests (seconds since the epoch, in 2027).
NOW = 1_800_000_000.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[PeopleStore]:
    opened = await PeopleStore.open(tmp_path / "atelier.db")
    yield opened
    await opened.close()


async def mia(store: PeopleStore) -> MemberRow:
    """A teacher, their class 7b, and its member Mia."""
    teacher = await store.add_teacher("Frau Weber", "correct horse battery")
    created = await store.create_class(teacher.id, "7b", ClassRules(), None)
    return await store.join(created.id, "Mia", None, NOW)
