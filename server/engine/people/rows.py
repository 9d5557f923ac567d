"""The rows the people store returns: frozen, and free of secrets (no hash ever leaves it)."""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.people.identity import ClassRules


@dataclass(frozen=True, slots=True)
class TeacherRow:
    id: int
    name: str
    #: Bumped to revoke every cookie issued before (logout, password change).
    version: int
    created: float


@dataclass(frozen=True, slots=True)
class ClassRow:
    id: int
    teacher_id: int
    name: str
    #: The join code, normalised (`ABCDEFGH`); `codes.show_code` writes it `ABCD-EFGH`.
    code: str
    #: When the code stops letting students join (Unix time); None: never.
    code_expires: float | None
    rules: ClassRules
    created: float


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    class_id: int
    nickname: str
    #: Bumped to revoke every cookie issued before (re-join with a PIN, removal).
    version: int
    created: float
    class_name: str
    rules: ClassRules
    #: Locked by the teacher: nobody joins under the nickname until it is unlocked.
    locked: bool = False


@dataclass(frozen=True, slots=True)
class PictureRow:
    """One finished run in a person's gallery; its media stay in the run's folder."""

    run_id: str
    owner_key: str
    class_id: int | None
    created: float
    prompt: str
    perspective: str
    files: list[str]
    #: How the run ended (`RunStatus` value; "" for a row from before schema version 3).
    status: str = ""
    #: The stage it stopped at (blocked, failed); None when it completed.
    stage: str | None = None
    #: The matched word or the verdict's reason of a blocked run: for the teacher only, never
    #: in a student's answer (`server/handlers/pictures.py` leaves it out).
    teacher_reason: str | None = None
    #: Set by the class's teacher: flagged to look at again, hidden from the wall.
    flagged: bool = False
    hidden: bool = False
    #: The compare group of the run (H-COMP): "c-..." or None for a single run.
    group: str | None = None
