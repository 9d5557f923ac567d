"""Who a socket or a request belongs to, and the rules their class sets. Pure data.

An identity is resolved once per request from its signed cookie (`server/handlers/identity.py`)
and never from anything a client message says. Its `key` is the owner of sessions, runs and
pictures: every per-person bound (sessions, runs in flight and queued, fairness) counts by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.protocol import Role

#: The longest a class may keep its pictures, in hours (a school year).
RETENTION_HOURS = 24 * 366

SafetyLevel = Literal["kids", "youth", "adult", "research"]

#: Strictest first: a class may only move its level towards the front of this list.
SAFETY_ORDER: tuple[SafetyLevel, ...] = ("kids", "youth", "adult", "research")

# Owner keys: one letter for the kind of person, a dash, an id that never changes.
MEMBER_PREFIX = "m-"  # a student who joined a class: "m-<member id>"
GUEST_PREFIX = "g-"  # a guest student in the `open` access mode: "g-<random id>"
TEACHER_PREFIX = "t-"  # a logged-in teacher: "t-<teacher id>"
#: A guest with no cookie at all (a script, a test client): "a-<random id>", one per session.
#: Such a session is resumed by its secret alone, by any client that has no cookie either.
ANONYMOUS_PREFIX = "a-"


class ClassRules(BaseModel):
    """A class's own settings. Each may only be stricter than the operator's (`within`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Interception ids the class may use; None: every one the catalog offers.
    perspectives: Annotated[list[str], Field(max_length=200)] | None = None
    max_runs_in_flight: Annotated[int, Field(ge=1, le=100)] | None = None
    max_queued_runs: Annotated[int, Field(ge=0, le=1000)] | None = None
    safety_level: SafetyLevel | None = None
    #: Hours the class's pictures are kept; None: the operator's `retention_hours`. Only ever
    #: shorter: the pruner takes the lower of the two (`server/engine/people/class_pictures.py`).
    retention_hours: Annotated[int, Field(ge=1, le=RETENTION_HOURS)] | None = None
    #: Whether students may edit a perspective's instructions (`meta_prompt`); None: they may.
    edit_instructions: bool | None = None


def stricter_level(operator: SafetyLevel, chosen: SafetyLevel | None) -> SafetyLevel:
    """The stricter of the operator's level and a class's: a class never loosens safety."""
    if chosen is None:
        return operator
    return min(operator, chosen, key=SAFETY_ORDER.index)


def lower_bound(operator: int, chosen: int | None) -> int:
    """The smaller of the operator's limit and a class's: a class never raises a limit."""
    return operator if chosen is None else min(operator, chosen)


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as the server knows them: role, owner key, and for a member their class."""

    role: Role
    key: str
    nickname: str | None = None  # a member's nickname, a teacher's login name; None: a guest
    class_id: int | None = None
    class_name: str | None = None
    rules: ClassRules | None = None

    @property
    def is_guest(self) -> bool:
        return self.key.startswith((GUEST_PREFIX, ANONYMOUS_PREFIX))

    @property
    def is_anonymous(self) -> bool:
        return self.key.startswith(ANONYMOUS_PREFIX)

    @property
    def is_teacher(self) -> bool:
        return self.role is Role.TEACHER


def guest(guest_id: str) -> Identity:
    """A guest student of the `open` access mode, known by a random id of their browser."""
    return Identity(Role.STUDENT, GUEST_PREFIX + guest_id)


def anonymous(session_nonce: str) -> Identity:
    """A guest student with no cookie (only in the `open` access mode)."""
    return Identity(Role.STUDENT, ANONYMOUS_PREFIX + session_nonce)
