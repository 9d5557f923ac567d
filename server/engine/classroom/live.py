"""What the console shows of one run, kept up to date from the run's own events.

A `LiveRun` is the latest state of one run of a class member: its place in line and ETA (from
its `queue` events), its progress and whether it has a preview, and how much of its current
stage's text the watching consoles already hold. It never keeps a copy of the text (the `Run`
has it); a view reads it when a flush needs it, so a token costs the hub nothing but marking
the run changed.
"""

from __future__ import annotations

from typing import Any

from server.engine.people.identity import MEMBER_PREFIX
from server.engine.run import Run
from server.protocol import (
    ClassRunView,
    Preview,
    Progress,
    Queue,
    RunDone,
    ServerEvent,
    Stage,
    StageName,
    StageStatus,
)

#: Where a stage without text of its own takes the text the console shows, latest first.
TEXT_STAGES = (StageName.TRANSLATION, StageName.INTERCEPTION)


def member_id(key: str) -> int | None:
    """The member id in an owner key `m-<id>`; None for anyone else (a guest, a teacher)."""
    if not key.startswith(MEMBER_PREFIX):
        return None
    digits = key[len(MEMBER_PREFIX) :]
    return int(digits) if digits.isdecimal() else None


class LiveRun:
    """The console's side of one run. Updated by plain calls from the run's events."""

    __slots__ = (
        "eta",
        "length",
        "member",
        "new_preview",
        "paused",
        "place",
        "preview",
        "progress",
        "progress_max",
        "queue_stage",
        "reset",
        "run",
        "sent_len",
        "sent_source",
        "sent_stage",
    )

    def __init__(self, run: Run) -> None:
        self.run = run
        self.member = member_id(run.session.identity.key)
        self.place: int | None = None
        self.length: int | None = None
        self.eta: float | None = None
        #: The stage whose slot it waits for; None: it waits behind its student's own runs.
        self.queue_stage: str | None = None
        self.paused = False
        self.progress: int | None = None
        self.progress_max: int | None = None
        self.preview = False
        #: The preview that arrived since the last flush (mime, base64), sent once.
        self.new_preview: tuple[str, str] | None = None
        #: What the consoles hold of the current stage's text: which stage, how many chars.
        self.sent_stage = run.stage
        self.sent_source: StageName | None = None  # whose text that is (`stage_text`)
        self.sent_len = 0
        #: The text was replaced (a `clear`, a stage's final text): send it whole next time.
        self.reset = False

    def event(self, message_type: type[ServerEvent], fields: dict[str, Any]) -> None:
        """Take in one event the run sent to its student."""
        if message_type is Queue:
            self.place, self.length = fields["position"], fields["length"]
            self.eta, self.paused = fields["eta"], bool(fields.get("paused", False))
            self.queue_stage = fields["stage"]
        elif message_type is Progress:
            self.progress, self.progress_max = fields["value"], fields["max"]
        elif message_type is Preview:
            self.preview = True
            self.new_preview = (fields["mime"], fields["data"])
        elif message_type is Stage:
            self.reset = True
            if fields["status"] is StageStatus.STARTED:  # served: no longer in line
                self.place = self.length = self.eta = None
                self.paused = False
        elif message_type is RunDone:
            self.place = self.length = self.eta = None

    @property
    def waiting(self) -> bool:
        return self.place is not None and not self.run.finished

    def stage_text(self) -> tuple[StageName | None, str]:
        """The text the console shows, and whose stage it is: the current stage's (its final
        text once done, what streamed before that); for a stage without text of its own (the
        image, the safety check) the latest text a stage before it made."""
        run = self.run
        if run.stage is None:
            return None, ""
        final = run.texts.get(run.stage)
        if final is not None:
            return run.stage, final
        pieces = run.streamed.get(run.stage)
        if pieces:
            return run.stage, "".join(pieces)
        earlier = next((s for s in TEXT_STAGES if s in run.texts), None)
        return earlier, "" if earlier is None else run.texts[earlier]

    def view(self, *, whole: bool) -> ClassRunView:
        """The run as a console shows it. `whole`: its whole text (a snapshot, which leaves
        what the consoles hold alone); otherwise what is new since the last update."""
        source, text = self.stage_text()
        at = 0 if whole else self._advance(source, text)
        preview = None if whole else self.new_preview
        if not whole:
            self.new_preview = None
        run, identity = self.run, self.run.session.identity
        return ClassRunView(
            run=run.id,
            member=self.member,
            nickname=identity.nickname,
            perspective=run.inputs.interception,
            prompt=run.inputs.prompt,
            status=run.status,
            stage=run.stage,
            at=at,
            piece=text[at:],
            place=self.place,
            length=self.length,
            eta=self.eta,
            paused=self.paused,
            progress=self.progress,
            progress_max=self.progress_max,
            preview=self.preview,
            preview_mime=None if preview is None else preview[0],
            preview_data=None if preview is None else preview[1],
            reason=run.reason,
            done=run.finished,
            group=run.group,
        )

    def _advance(self, source: StageName | None, text: str) -> int:
        """Where the new piece starts in `text`, and note that the consoles now hold it all:
        0 when the stage or the text's stage changed, or its text was replaced (the console
        then replaces its copy)."""
        replaced = self.reset or self.sent_len > len(text)
        moved = self.sent_stage is not self.run.stage or self.sent_source is not source
        at = 0 if replaced or moved else self.sent_len
        self.reset, self.sent_stage, self.sent_source = False, self.run.stage, source
        self.sent_len = len(text)
        return at
