"""The simulated instance's memory: the priority queue, history, node cache and counters.

Like ComfyUI it is all in memory and lost on a (simulated) restart.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

JOURNAL_LIMIT = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass(order=True)
class QueueItem:
    number: float
    prompt_id: str
    graph: dict[str, Any] = field(compare=False)
    extra: dict[str, Any] = field(compare=False)
    outputs: list[str] = field(compare=False)

    @property
    def client_id(self) -> str | None:
        value = self.extra.get("client_id")
        return value if isinstance(value, str) else None

    def as_list(self) -> list[Any]:
        return [self.number, self.prompt_id, self.graph, self.extra, self.outputs]


@dataclass
class SimState:
    """Queue (a min-heap on (number, prompt_id)), the running item, history and cache."""

    pending: list[QueueItem] = field(default_factory=list)
    running: QueueItem | None = None
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: node id -> (input signature, ui output or None), from the last prompt (classic cache).
    cache: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)
    counter: int = 0
    interrupt_flag: bool = False
    #: Set whenever an interrupt is accepted (tests use it as a gate).
    interrupt_requested: asyncio.Event = field(default_factory=asyncio.Event)
    #: Clear while the process is stopped (SIGSTOP): nothing is read, run or sent.
    awake: asyncio.Event = field(default_factory=_set_event)
    #: While stopped: how many of each part wait to carry on ("http" requests, "ws_in"
    #: frames read, "ws_out" frames to send, the "worker").
    held: Counter[str] = field(default_factory=Counter)
    #: What happened to which prompt, in order: queued, started, deleted, interrupted.
    journal: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=JOURNAL_LIMIT))
    last_node: str | None = None
    submitted: int = 0
    interrupted: int = 0
    deleted: int = 0
    completed: int = 0
    failed: int = 0

    @property
    def queue_remaining(self) -> int:
        return len(self.pending) + (1 if self.running else 0)

    async def wait_awake(self, part: str) -> None:
        """Return at once while running; while stopped, count `part` as held and wait."""
        if self.awake.is_set():
            return
        self.held[part] += 1
        try:
            await self.awake.wait()
        finally:
            self.held[part] -= 1

    def next_number(self, body: dict[str, Any]) -> float:
        """ComfyUI's numbering: the counter advances on every POST, valid or not."""
        number: float
        if "number" in body:
            number = float(body["number"])
        elif body.get("front"):
            number = -self.counter
        else:
            number = self.counter
        self.counter += 1
        return number

    def put(self, item: QueueItem) -> None:
        heapq.heappush(self.pending, item)
        self.journal.append(("queued", item.prompt_id))

    def take(self) -> QueueItem | None:
        if not self.pending:
            return None
        self.running = heapq.heappop(self.pending)
        self.journal.append(("started", self.running.prompt_id))
        return self.running

    def delete(self, prompt_id: str) -> bool:
        for index, item in enumerate(self.pending):
            if item.prompt_id == prompt_id:
                self.pending.pop(index)
                heapq.heapify(self.pending)
                self.deleted += 1
                self.journal.append(("deleted", prompt_id))
                return True
        return False

    def clear(self) -> int:
        count = len(self.pending)
        self.pending.clear()
        self.deleted += count
        return count

    def history_page(self, max_items: int | None, offset: int) -> dict[str, Any]:
        ids = list(self.history)
        if offset < 0 and max_items is not None:
            offset = len(ids) - max_items
        offset = max(offset, 0)
        chosen = ids[offset:] if max_items is None else ids[offset : offset + max_items]
        return {pid: self.history[pid] for pid in chosen}
