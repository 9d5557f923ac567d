"""A bounded per-session log of encoded server messages, for replay on resume.

Every numbered message a session emits is appended, so the kept entries are contiguous in
`seq`. A reconnecting client says the last `seq` it saw; `since` returns what came after, or
None when the oldest missed message has already been dropped (the caller then sends `resync`).
"""

from __future__ import annotations

from collections import deque


class EventLog:
    __slots__ = ("_entries", "last_seq")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("an event log must keep at least one entry")
        self._entries: deque[tuple[int, bytes]] = deque(maxlen=limit)
        self.last_seq = 0

    def append(self, seq: int, data: bytes) -> None:
        if seq != self.last_seq + 1:
            raise ValueError(f"event log expects seq {self.last_seq + 1}, got {seq}")
        self._entries.append((seq, data))
        self.last_seq = seq

    def since(self, last_seq: int) -> list[bytes] | None:
        """Messages with seq > last_seq in order, or None if the log no longer reaches back."""
        if last_seq > self.last_seq or last_seq < 0:
            return None
        missed = self.last_seq - last_seq
        if missed == 0:
            return []
        if missed > len(self._entries):
            return None
        return [data for _, data in list(self._entries)[-missed:]]

    def __len__(self) -> int:
        return len(self._entries)
