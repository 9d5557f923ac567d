"""The load harness's checker: what one session's message stream says, judged as it arrives.

Pure bookkeeping, no I/O: feed it every server message with the client's receipt time and it
counts sequence gaps and duplicates (independently of the client's own counters), follows each
run from `run.start` to its one `run.done`, and records the latencies the report needs and
what each run was told while it waited for a slot (`etas`).
Tests feed it fabricated streams to prove it notices a gap, a duplicate or a missing `run.done`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.harness.load.etas import EtaWaits

Message = dict[str, Any]

#: Which scheduler line a `queue` message's stage waits in. LLM stages share the LLM pool;
#: `stage: null` is the session's own line (runs beyond `max_runs_in_flight`).
LLM_STAGES = frozenset({"safety", "interception", "translation"})
ENDED = frozenset({"done", "skipped", "blocked", "failed"})


def line_of(session: str, stage: str | None) -> str:
    if stage is None:
        return f"session:{session}"
    return "llm" if stage in LLM_STAGES else stage


@dataclass
class RunRecord:
    """One run as the client saw it. Times are the harness's monotonic clock at receipt."""

    ref: str
    sent_at: float
    run: str | None = None
    accepted_at: float | None = None
    refused: str | None = None  # the error code when `run.start` was refused
    first_stage_at: float | None = None
    first_token_at: float | None = None
    done_at: float | None = None
    done_count: int = 0
    status: str | None = None
    stage_elapsed: dict[str, float] = field(default_factory=dict)
    waiting: tuple[str, int] | None = None  # (line, position) while the last event was `queue`
    etas: EtaWaits = field(default_factory=EtaWaits)  # what it was told while waiting, and when

    @property
    def resolved(self) -> bool:
        return self.refused is not None or self.done_count > 0


@dataclass
class QueueProbe:
    """A `run.cancel` sent while the run waited: the runs behind it should move up."""

    sent_at: float
    behind: set[str]


class QueueProbes:
    """Measures the delay of `queue` updates after a position change the harness caused.

    The change is a cancel of a waiting run; the delay of each run that was behind it in the
    same line is from sending the cancel to receiving that run's next `queue` message with a
    lower position. It includes the cancel's trip to the server and the update's trip back,
    and the scheduler's update throttle (`queue_update_interval`).
    """

    def __init__(self) -> None:
        self.open: list[QueueProbe] = []
        self.delays: list[float] = []

    def cancel_sent(
        self, now: float, run: str, waiting: tuple[str, int], others: list[RunRecord]
    ) -> None:
        line, position = waiting
        behind = {
            r.run
            for r in others
            if r.run
            and r.run != run
            and r.waiting
            and r.waiting[0] == line
            and r.waiting[1] > position
        }
        if behind:
            self.open.append(QueueProbe(now, behind))

    def moved(self, now: float, run: str) -> None:
        for probe in self.open:
            if run in probe.behind:
                probe.behind.discard(run)
                self.delays.append(now - probe.sent_at)
        self.open = [p for p in self.open if p.behind]

    def forget(self, run: str) -> None:
        """A run that ended or got its slot before the update cannot be measured."""
        for probe in self.open:
            probe.behind.discard(run)
        self.open = [p for p in self.open if p.behind]


class SessionLedger:
    """Everything one session received, checked."""

    def __init__(self, probes: QueueProbes | None = None) -> None:
        self.probes = probes or QueueProbes()
        self.session: str | None = None
        self.last_seq = 0
        self.gaps = 0
        self.duplicates = 0
        self.messages = 0
        self.orphans = 0  # run.done / run events for a run this session never had accepted
        self.by_ref: dict[str, RunRecord] = {}
        self.by_run: dict[str, RunRecord] = {}

    # -- what the client did

    def start_sent(self, ref: str, now: float) -> RunRecord:
        record = RunRecord(ref=ref, sent_at=now)
        self.by_ref[ref] = record
        return record

    def cancel_sent(self, run: str, now: float, others: list[RunRecord]) -> None:
        record = self.by_run.get(run)
        if record is not None and record.waiting is not None:
            self.probes.cancel_sent(now, run, record.waiting, others)

    # -- what the server sent

    def observe(self, message: Message, now: float) -> None:
        """Account one server message (duplicates included: that is what we check)."""
        self.messages += 1
        if message.get("type") == "welcome":
            self.session = message.get("session")
            if not message.get("resumed"):
                self.last_seq = 0  # a fresh session numbers from 1 again
        if not self._in_sequence(message):
            return
        handler = _HANDLERS.get(str(message.get("type")))
        if handler is not None:
            handler(self, message, now)

    def _in_sequence(self, message: Message) -> bool:
        seq = int(message.get("seq", 0))
        if seq == 0:
            return True
        if seq <= self.last_seq:
            self.duplicates += 1
            return False
        if seq != self.last_seq + 1 and message.get("type") != "resync":
            self.gaps += 1
        self.last_seq = seq
        return True

    def _run_of(self, message: Message) -> RunRecord | None:
        record = self.by_run.get(str(message.get("run")))
        if record is None:
            self.orphans += 1
        return record

    def _accepted(self, message: Message, now: float) -> None:
        record = self.by_ref.get(str(message.get("ref")))
        if record is None or record.run is not None:
            self.orphans += 1
            return
        record.run, record.accepted_at = str(message["run"]), now
        self.by_run[record.run] = record

    def _error(self, message: Message, now: float) -> None:
        record = self.by_ref.get(str(message.get("ref")))
        if record is not None and record.run is None:
            record.refused = str(message.get("code"))

    def _queue(self, message: Message, now: float) -> None:
        record = self._run_of(message)
        if record is None or self.session is None:
            return
        record.etas.queue(message, now)
        previous = record.waiting
        now_waiting = (line_of(self.session, message.get("stage")), int(message["position"]))
        record.waiting = now_waiting
        if previous and previous[0] == now_waiting[0] and now_waiting[1] < previous[1]:
            self.probes.moved(now, str(record.run))

    def _run_event(self, message: Message, now: float) -> None:
        record = self._run_of(message)
        if record is None:
            return
        record.etas.other(message, now)
        if record.waiting is not None:
            record.waiting = None
            self.probes.forget(str(record.run))
        kind = message["type"]
        if kind == "token" and record.first_token_at is None:
            record.first_token_at = now
        elif kind == "stage":
            if record.first_stage_at is None:
                record.first_stage_at = now
            if message.get("status") in ENDED and message.get("elapsed") is not None:
                record.stage_elapsed[str(message["stage"])] = float(message["elapsed"])

    def _done(self, message: Message, now: float) -> None:
        record = self._run_of(message)
        if record is None:
            return
        self._run_event(message, now)
        record.done_count += 1
        record.done_at, record.status = now, str(message.get("status"))

    # -- verdicts

    def records(self) -> list[RunRecord]:
        return list(self.by_ref.values())

    def lost_runs(self) -> list[RunRecord]:
        """Accepted runs without exactly one `run.done`, and starts never answered."""
        return [r for r in self.by_ref.values() if r.done_count != 1 and r.refused is None]

    @property
    def settled(self) -> bool:
        return all(r.resolved for r in self.by_ref.values())


_HANDLERS = {
    "run.accepted": SessionLedger._accepted,
    "error": SessionLedger._error,
    "queue": SessionLedger._queue,
    "token": SessionLedger._run_event,
    "stage": SessionLedger._run_event,
    "progress": SessionLedger._run_event,
    "preview": SessionLedger._run_event,
    "output": SessionLedger._run_event,
    "run.done": SessionLedger._done,
}
