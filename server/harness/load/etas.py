"""How far off the queue ETAs were: every wait of a run in a pool's line, what it was told, and
when it was served, as the client saw it. Pure bookkeeping, fed by the ledger.

A wait opens with a run's first `queue` message for a stage (`stage: null`, the session's own
line, has no ETA and is not counted) and ends with the run's next message of another kind.
It counts as served when that message shows the stage working: a token, progress, a preview,
an output, or a `stage` message other than `failed` (a safety check streams nothing, so its
wait ends with its verdict and includes the verdict's own time). A wait ended by `run.done`
(cancelled, failed) or a failed stage never got a slot worth comparing with and is dropped.

The error of a told ETA is `told - actual`, where actual is the time from receiving it to
being served: positive means told too long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]

#: Run messages that show a stage at work, so the wait before them was served.
WORKING = frozenset({"token", "progress", "preview", "output", "stage"})


@dataclass
class Told:
    eta: float
    at: float


@dataclass
class EtaWait:
    """One wait of one run for a slot of `stage`'s pool."""

    stage: str
    updates: int = 0  # queue messages received during the wait
    first: Told | None = None  # the first number it was told
    last: Told | None = None  # the last number it was told
    served_at: float | None = None

    def told(self, eta: float | None, now: float) -> None:
        self.updates += 1
        if eta is None:
            return
        self.last = Told(eta, now)
        if self.first is None:
            self.first = self.last

    def error(self, told: Told | None) -> float | None:
        """told - actual for `told` (first or last); None if unserved or never told a number."""
        if told is None or self.served_at is None:
            return None
        return told.eta - (self.served_at - told.at)

    def row(self, run: str) -> dict[str, Any]:
        """The wait as a JSON-ready row of the report."""
        first, last, served = self.first, self.last, self.served_at
        waited = None if first is None or served is None else round(served - first.at, 3)
        return {
            "run": run,
            "stage": self.stage,
            "first_eta": None if first is None else first.eta,
            "first_waited": waited,
            "last_eta": None if last is None else last.eta,
            "updates": self.updates,
        }


@dataclass
class EtaWaits:
    """A run's waits, in order; the last one may still be open."""

    done: list[EtaWait] = field(default_factory=list)
    open: EtaWait | None = None

    def queue(self, message: Message, now: float) -> None:
        stage = message.get("stage")
        if stage is None:
            return
        if self.open is None or self.open.stage != stage:
            self.end(abandoned=True)
            self.open = EtaWait(str(stage))
        eta = message.get("eta")
        self.open.told(None if eta is None else float(eta), now)

    def other(self, message: Message, now: float) -> None:
        """Any other message of the run: the open wait, if any, ends here."""
        working = message.get("type") in WORKING and message.get("status") != "failed"
        if working and self.open is not None:
            self.open.served_at = now
        self.end(abandoned=not working)

    def end(self, *, abandoned: bool) -> None:
        if self.open is not None and not abandoned:
            self.done.append(self.open)
        self.open = None
