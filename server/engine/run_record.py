"""What a run's record file holds, as types: `RunRecord` and its parts. Pure data.

`Run.record()` builds one when the run ends, the pipeline adds its owner (`with_owner`), and
`RecordStore.finish` puts it on disk as JSON. The field order is the order of the keys in the
file; `tests/unit/test_records.py` pins the file's shape byte for byte.

The owner is all a record keeps about the person: their owner key, class id and nickname
(docs/privacy.md). It is what decides who may read the run's media (`picture_access`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NotRequired, TypedDict

from server.engine.people.identity import ANONYMOUS_PREFIX, Identity
from server.protocol import RunEndCode, RunStatus, StageName


class Verdict(TypedDict):
    """A safety check's answer: what the model said, or that it could not say (fail-closed)."""

    safe: bool
    read_as: NotRequired[str]  # how the answer was read: json, words, none (unreadable)
    reason: NotRequired[str]  # the model's short reason, for the teacher (never the child)
    answer: NotRequired[str]  # the model's words, cut to 500 characters
    fail_closed: NotRequired[bool]  # no answer: blocked because the check could not run
    error: NotRequired[str]  # why it could not run


@dataclass(frozen=True, slots=True)
class RecordedInputs:
    """What the student asked for; `meta_prompt` only when the student edited it."""

    prompt: str
    interception: str
    output: str
    meta_prompt: str | None
    seed: int
    width: int | None
    height: int | None
    lang: str


@dataclass(frozen=True, slots=True)
class RecordedOwner:
    """Whose run it was: an owner key (`m-`, `g-`, `a-`), and for a member the class and the
    nickname. Nothing else about the person is kept."""

    key: str
    class_id: int | None = None
    nickname: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """No cookie: nobody can prove to be this owner again (media stay readable by URL)."""
        return self.key.startswith(ANONYMOUS_PREFIX)

    @classmethod
    def of(cls, identity: Identity) -> RecordedOwner:
        return cls(identity.key, identity.class_id, identity.nickname)

    @classmethod
    def parse(cls, data: Any) -> RecordedOwner | None:
        """The owner read back from a record file; None when it has none that is well formed
        (records from before owners were kept: nobody may read their media)."""
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return None
        class_id, nickname = data.get("class_id"), data.get("nickname")
        if not isinstance(class_id, int | None) or not isinstance(nickname, str | None):
            return None
        return cls(data["key"], class_id, nickname)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """Everything worth keeping about a run that ended."""

    run: str
    session: str
    #: Set by the pipeline (`with_owner`); None only in a record nobody owns (unit tests).
    owner: RecordedOwner | None = None
    #: The compare the run was one perspective of (its runs share it); None: a single run.
    group: str | None = None
    created: float  # wall clock, seconds since the epoch
    inputs: RecordedInputs
    status: RunStatus
    reason: str | None
    code: RunEndCode | None
    error: str | None  # the technical account of a failure, for the operator
    texts: dict[StageName, str]
    verdicts: dict[StageName, Verdict]
    models: dict[StageName, str]
    timings: dict[StageName, float]  # unrounded, unlike `run.done`'s
    total: float | None
    outputs: list[str]

    def with_owner(self, owner: RecordedOwner) -> RunRecord:
        return replace(self, owner=owner)
