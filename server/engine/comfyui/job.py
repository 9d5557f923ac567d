"""One submitted prompt: its state, its bounded event buffer and its preview throttle.

The client's socket reader pushes into the buffer; the run's own task drains it through
`ComfyUIJob.events()`. Progress and previews may be dropped when the consumer lags; the end
marker never is.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.engine.comfyui.events import JobEvent, JobState, Preview, Progress
from server.engine.errors import InvalidState
from server.engine.media import MediaWriter, write_file


class PreviewThrottle:
    """At most `rate` previews per second; pure apart from the injected clock."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.last: float | None = None

    def allow(self) -> bool:
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        return True


@dataclass(frozen=True)
class EndOfPrompt:
    """ComfyUI said the prompt is over (`executing` null, or found in /history)."""

    via: str


class ComfyUIJob:
    """State of one prompt; created by the client, consumed by one run task."""

    def __init__(
        self,
        prompt_id: str,
        client_id: str,
        output_dir: Path,
        *,
        buffer: int,
        throttle: PreviewThrottle,
        max_preview_bytes: int,
        writer: MediaWriter = write_file,
    ) -> None:
        self.prompt_id = prompt_id
        self.client_id = client_id
        self.output_dir = output_dir
        self.writer = writer  # how outputs reach `output_dir`
        self.state = JobState.SUBMITTING
        self.buffer: deque[JobEvent] = deque()
        self.buffer_limit = buffer
        self.end: EndOfPrompt | None = None
        self.wakeup = asyncio.Event()
        self.ended = asyncio.Event()
        self.throttle = throttle
        self.max_preview_bytes = max_preview_bytes
        self.dropped = 0
        self.partial_errors = ""

    def move(self, new: JobState) -> None:
        if new is self.state:
            return
        if not self.state.can_become(new):
            raise InvalidState(f"job {self.prompt_id}: {self.state} -> {new}")
        self.state = new

    def push(self, event: JobEvent) -> None:
        """Buffer an event; droppable ones go when the buffer is full."""
        if self.end is not None:
            return
        if len(self.buffer) >= self.buffer_limit and isinstance(event, Progress | Preview):
            self.dropped += 1
            return
        self.buffer.append(event)
        self.wakeup.set()

    def offer_preview(self, image: bytes, mime: str, node: str | None) -> None:
        if len(image) > self.max_preview_bytes or not self.throttle.allow():
            self.dropped += 1
            return
        self.push(Preview(image, mime, node))

    def finish(self, via: str) -> None:
        """Mark the prompt over; the consumer then reads its outputs from /history."""
        if self.end is None:
            self.end = EndOfPrompt(via)
            self.ended.set()
            self.wakeup.set()

    async def next_batch(self) -> list[JobEvent]:
        """Wait for buffered events or the end; returns what is buffered (maybe nothing)."""
        while not self.buffer and self.end is None:
            self.wakeup.clear()
            await self.wakeup.wait()
        batch = list(self.buffer)
        self.buffer.clear()
        return batch

    def fail(self, event: JobEvent) -> None:
        """End the job with a terminal Failed event (prompt lost, instance unreachable)."""
        if self.end is None:
            self.buffer.append(event)
            self.end = EndOfPrompt("failed")
            self.ended.set()
            self.wakeup.set()
