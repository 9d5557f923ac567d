"""The whole-run estimate: when a waiting run's picture is expected, not only its next slot.

Why. A run waits for a slot at each stage, and each wait has its own place in line: a child saw
"1st in line" three times for one picture and could not tell when it would be ready. The
`queue` event therefore carries one more number, `run_eta`: seconds until the run is expected to
end, the same question from the first wait to the last.

What it is. A completed run teaches, for each slot it held, the time from the slot's grant to
the run's end (its *after* time: that stage's own work, every later stage's wait and work, and
the moments between them). The samples are kept per slot, `(pool, stage, n)` for the run's n-th
slot of that pool and stage (stage 3 asks the same pool twice), in a `ServiceRecord`: the last
`window` runs, a long outlier capped at a few medians, as the service times are
(`ServiceTimes.after`). A run waiting for a slot expects its end after the slot's ETA
(`_eta.estimate_waits`) plus the typical after time of that slot. Only completed runs count: a
blocked or failed run made no picture, so its short after time says nothing about when a
picture is ready, and a cancelled one says nothing.

Honest. Unknown (None) until a completed run has measured the slot, and whenever the slot's
ETA is unknown: the page then says nothing about the whole run instead of guessing.

Steady. The page counts the number it was told down by itself. A fresh estimate replaces it
only when it differs from that countdown materially (`_queueing.eta_drifted`: 2 s and 10 %);
otherwise the run is told the countdown again. So a new stage's wait, or a line that moved by
one, does not reset the number when the measurement agrees with it, and a ±1 s wobble never
shows; a real change (a long job ahead, a slow backend) shows at once, nothing is averaged away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from server.engine.scheduler._eta import ServiceTimes, Slot
from server.engine.scheduler._queueing import eta_drifted


@dataclass(slots=True)
class RunClock:
    """A run's part in the whole-run estimate: the slots it was granted and when, whether it
    completed (set when its ticket closes), and what it was last told."""

    grants: list[tuple[Slot, float]] = field(default_factory=list)
    completed: bool = False
    told: float | None = None
    told_at: float = 0.0

    def next_slot(self, pool: str, stage: str) -> Slot:
        """The slot the run asks for now: its n-th of this pool and stage."""
        return (pool, stage, sum(1 for (p, s, _), _ in self.grants if (p, s) == (pool, stage)))

    def granted(self, pool: str, stage: str, at: float) -> None:
        self.grants.append((self.next_slot(pool, stage), at))

    def had(self, slot: Slot) -> bool:
        """Whether the run has been granted `slot` (it holds it or is past it)."""
        return any(held == slot for held, _ in self.grants)

    def steady(self, estimate: float | None, now: float) -> float | None:
        """What to tell: the countdown of the last told number, unless `estimate` drifted."""
        if self.told is None or eta_drifted(self.told, self.told_at, estimate, now):
            return estimate
        return float(math.ceil(max(0.0, self.told - (now - self.told_at))))

    def drifted(self, shown: float | None, now: float) -> bool:
        """Whether telling `shown` would change what the page counts down."""
        return eta_drifted(self.told, self.told_at, shown, now)

    def tell(self, shown: float | None, now: float) -> None:
        self.told, self.told_at = shown, now


def record_end(times: ServiceTimes, clock: RunClock, end: float) -> None:
    """A run's ticket closed (not cancelled): a completed run is a sample for each of its slots."""
    if clock.completed:
        times.record_after(clock.grants, end)


def run_eta(
    slot_eta: float | None, after: float | None, later: float | None = None
) -> float | None:
    """Seconds until a waiting run is expected to end (whole seconds, rounded up): the slot's
    wait and its time to the end, or the later pools' bound (`_downstream`) if that is later."""
    if slot_eta is None or after is None:
        return None
    return float(math.ceil(max(slot_eta + after, later or 0.0)))
