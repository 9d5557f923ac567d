"""Who may read a run's media: its owner, a teacher of the owner's class, and for a run with
no cookie behind it anyone who has the URL. Pure: the handler looks the facts up and asks.

A media URL holds the run id (72 random bits), so it was a capability before people existed;
it still is for anonymous runs (`a-` owners: no cookie, so nobody could prove to be them), and
no longer for anyone else (issue 15 item 9). Refusals are 404, never 403: an answer must not
tell a stranger that a run exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.engine.people.identity import TEACHER_PREFIX, Identity
from server.engine.run import Run
from server.engine.run_record import RecordedOwner


@dataclass(frozen=True, slots=True)
class RunMedia:
    """What a run's media answer needs: whose run it was, and what names its downloads."""

    owner: RecordedOwner
    prompt: str
    perspective: str
    created: float  # wall clock, seconds since the epoch
    #: The run's output URLs in order. For a run still in flight this is the run's own list,
    #: which grows as images arrive.
    outputs: Sequence[str]


def live_media(run: Run, owner: RecordedOwner) -> RunMedia:
    """A run in flight's media facts; its outputs list is shared, so new images count."""
    inputs = run.inputs
    return RunMedia(owner, inputs.prompt, inputs.interception, run.created_wall, run.outputs)


def teacher_key(teacher_id: int) -> str:
    """The owner key a teacher's identity carries (`t-<teacher id>`)."""
    return f"{TEACHER_PREFIX}{teacher_id}"


def needs_class_teacher(viewer: Identity | None, owner: RecordedOwner) -> bool:
    """Whether only the owner's class's teacher can decide (the store is asked then)."""
    return (
        viewer is not None
        and viewer.is_teacher
        and owner.class_id is not None
        and viewer.key != owner.key
    )


def may_see(viewer: Identity | None, owner: RecordedOwner, class_teacher: str | None) -> bool:
    """Whether `viewer` may read the media of `owner`'s run; `class_teacher` is the owner key
    of the teacher of the owner's class (None: no class, or not looked up)."""
    if owner.is_anonymous:
        return True
    if viewer is None:
        return False
    if viewer.key == owner.key:
        return True
    return viewer.is_teacher and class_teacher is not None and viewer.key == class_teacher
