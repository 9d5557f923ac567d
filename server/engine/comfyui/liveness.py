"""When one ComfyUI instance last said anything, and what the watchdog does about silence.

A stopped ComfyUI (SIGSTOP, a hung driver) keeps its port open: connections are accepted,
nothing is answered, the WebSocket goes quiet. No single request timeout tells that apart
from a slow node, so every HTTP answer and every WebSocket frame counts as a sign of life,
and the bound is on the oldest question left unanswered since the last one: once Atelier has
asked something (a request; a probe while a render is quiet) and heard nothing at all for
`unreachable_timeout`, the instance counts as gone. An idle instance nobody asks is not silent.
Pure apart from the asyncio.Event that wakes whoever waits for the next sign of life.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import StrEnum


class Liveness:
    """The instance's last sign of life, on a monotonic clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last = clock()
        #: When the oldest question since the last sign of life was asked; None: none.
        self.asked_at: float | None = None
        self._heard = asyncio.Event()

    def asked(self) -> None:
        """A request goes out: from now on, silence means something."""
        if self.asked_at is None:
            self.asked_at = self._clock()

    def heard(self) -> None:
        """It answered (an HTTP response, a WebSocket frame)."""
        self.last = self._clock()
        self.asked_at = None
        self._heard.set()

    def silence(self) -> float:
        """Seconds since it last said anything."""
        return self._clock() - self.last

    def unanswered(self) -> float:
        """Seconds the oldest question since then has waited for any sign of life."""
        return 0.0 if self.asked_at is None else self._clock() - self.asked_at

    async def next_sign(self) -> None:
        """Return at the next sign of life after this call."""
        self._heard.clear()
        await self._heard.wait()


def silent_message(bound: float) -> str:
    """What a run that failed on a silent instance says, in the log and the run record."""
    return f"ComfyUI has not answered for more than {bound:g} s (unreachable_timeout)"


class Verdict(StrEnum):
    """What the watchdog does on one tick while prompts wait on the instance."""

    WAIT = "wait"  # it spoke recently
    PROBE = "probe"  # quiet for a moment (a long node): ask it something cheap
    FAIL = "fail"  # silent past the bound: the waiting prompts fail


def verdict(liveness: Liveness, *, probe_after: float, fail_after: float) -> Verdict:
    if liveness.unanswered() > fail_after:
        return Verdict.FAIL
    return Verdict.PROBE if liveness.silence() >= probe_after else Verdict.WAIT
