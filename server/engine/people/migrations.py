"""The people database's schema, as ordered migrations from version 1 (`PRAGMA user_version`).

Each migration runs in its own transaction with the version bump, so a crash leaves the
database at the version before or after it, never in between. Never edit a migration that has
shipped: add the next one (tests/integration/test_people_store_migrations.py upgrades a
version-1 file holding rows).

Privacy by schema: no column for an address, a user agent, an e-mail or a real name.
"""

from __future__ import annotations

from server.engine.people.errors import SchemaTooNew
from server.engine.people.sqlite import Database

# Version 1: teachers, their classes, the classes' members, the index of everyone's pictures.
# Ids are AUTOINCREMENT: cookies and owner keys name them (`m-12`), so an id is never given
# again after its row is deleted (plain rowids are: a removed member's cookie would name the
# next one). A class goes with its teacher, members and index rows with their class, and a
# member's index rows with the member (ON DELETE CASCADE).
_V1 = (
    """CREATE TABLE teachers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL
    )""",
    """CREATE TABLE classes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        teacher_id INTEGER NOT NULL REFERENCES teachers (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        code TEXT NOT NULL UNIQUE,
        code_expires REAL,
        rules TEXT NOT NULL,
        created REAL NOT NULL
    )""",
    "CREATE INDEX classes_teacher ON classes (teacher_id)",
    """CREATE TABLE members (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        nickname TEXT NOT NULL,
        nickname_key TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL,
        UNIQUE (class_id, nickname_key)
    )""",
    """CREATE TABLE pictures (
        run_id TEXT PRIMARY KEY,
        owner_key TEXT NOT NULL,
        class_id INTEGER REFERENCES classes (id) ON DELETE CASCADE,
        member_id INTEGER REFERENCES members (id) ON DELETE CASCADE,
        created REAL NOT NULL,
        prompt TEXT NOT NULL,
        perspective TEXT NOT NULL,
        files TEXT NOT NULL
    )""",
    "CREATE INDEX pictures_owner ON pictures (owner_key, created)",
    "CREATE INDEX pictures_created ON pictures (created)",
    "CREATE INDEX pictures_class ON pictures (class_id)",
    "CREATE INDEX pictures_member ON pictures (member_id)",
)

# Version 2: one-time PINs for coming back to a taken nickname (pins.py), one per member.
_V2 = (
    """CREATE TABLE pins (
        member_id INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
        salt BLOB NOT NULL,
        digest BLOB NOT NULL,
        expires REAL NOT NULL,
        tries INTEGER NOT NULL DEFAULT 0
    )""",
)

# Version 3: the teacher console (issue 17). Each part's statements sit under its own marker.
_V3: tuple[str, ...] = (
    # -- moderation: picture status, flags, hidden (H-MOD)
    # A row from before version 3 has no status (""): it stays out of the moderation log,
    # and a picture of it is listed as before (by its files).
    "ALTER TABLE pictures ADD COLUMN status TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE pictures ADD COLUMN stage TEXT",
    "ALTER TABLE pictures ADD COLUMN teacher_reason TEXT",
    "ALTER TABLE pictures ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE pictures ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX pictures_class_status ON pictures (class_id, status, created)",
    # -- nickname locks (H-MOD)
    "ALTER TABLE members ADD COLUMN locked INTEGER NOT NULL DEFAULT 0",
    # -- wall links (H-WALL)
    # A link's token is kept only as its SHA-256 (wall_links.py); a revoked link keeps its row
    # (revoked set) so the teacher's list and the refusal agree, and goes with its class.
    """CREATE TABLE wall_links (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        revoked REAL
    )""",
    "CREATE INDEX wall_links_class ON wall_links (class_id)",
    # -- lessons: ended (H-CTRL)
    # A class's lesson is open unless its teacher ended it (lessons.py); the console's
    # "open" starts the next one. Only this survives a restart: a pause is in memory.
    "ALTER TABLE classes ADD COLUMN lesson_open INTEGER NOT NULL DEFAULT 1",
    # -- export and retention (H-EXP)
    # (none: a class's retention is a key of its rules, `ClassRules.retention_hours`)
    # -- compare runs (H-COMP)
    "ALTER TABLE pictures ADD COLUMN compare_group TEXT",
)

#: Index i holds the statements that take the schema from version i to version i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(db: Database) -> int:
    row = await db.one("PRAGMA user_version")
    assert row is not None  # a pragma that always answers
    return int(row[0])


async def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `target` (default: the newest); the version it started from.

    Raise `SchemaTooNew` for a database a newer server wrote: this one would misread it."""
    start = await schema_version(db)
    if start > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the people database is at schema version {start}, this server knows up to "
            f"{SCHEMA_VERSION}: run the newer server, or restore a backup"
        )
    for version in range(start + 1, target + 1):
        await _step(db, version)
    return start


async def _step(db: Database, version: int) -> None:
    """Run migration `version` unless another process (the `teacher` command) already did."""
    async with db.write() as tx:
        row = await tx.one("PRAGMA user_version")
        if row is not None and int(row[0]) >= version:
            return
        for statement in MIGRATIONS[version - 1]:
            await tx.run(statement)
        await tx.run(f"PRAGMA user_version = {version:d}")
