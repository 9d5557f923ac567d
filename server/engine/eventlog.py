"""A bounded per-session log of encoded server messages, for replay on resume.

Every numbered message a session emits is appended, so the kept entries are contiguous in
`seq`. A reconnecting client says the last `seq` it saw; `since` returns what came after, or
None when the oldest missed message has already been dropped (the caller then sends `resync`).
The log is bounded twice: in entries and in the encoded bytes it holds, so a session whose
messages are large (previews, long texts) cannot hold more memory than the byte bound.
"""

from __future__ import annotations

from collections import deque

#: Encoded bytes a log holds by default (`event_log_bytes` sets it for the server).
DEFAULT_LOG_BYTES = 4 * 1024 * 1024
#: Encoded bytes one resume replays at most by default (`max_replay_bytes`).
DEFAULT_REPLAY_BYTES = 1024 * 1024


class EventLog:
    __slots__ = ("_entries", "_held", "byte_limit", "last_seq", "limit")

    def __init__(self, limit: int, byte_limit: int = DEFAULT_LOG_BYTES) -> None:
        if limit < 1 or byte_limit < 1:
            raise ValueError("an event log must keep at least one entry and one byte")
        #: The kept messages, oldest first: contiguous in seq, so the last is `last_seq` and no
        #: seq is stored with each (a tuple and an int per message were ~80 bytes besides it).
        self._entries: deque[bytes] = deque()
        self._held = 0
        self.limit = limit
        self.byte_limit = byte_limit
        self.last_seq = 0

    def append(self, seq: int, data: bytes) -> None:
        if seq != self.last_seq + 1:
            raise ValueError(f"event log expects seq {self.last_seq + 1}, got {seq}")
        self._entries.append(data)
        self._held += len(data)
        self.last_seq = seq
        if len(self._entries) > self.limit or self._held > self.byte_limit:
            self._trim()

    def _trim(self) -> None:
        # Oldest first; a single message above the byte bound is dropped too (resume: resync).
        while self._entries and (len(self._entries) > self.limit or self._held > self.byte_limit):
            self._held -= len(self._entries.popleft())

    @property
    def held_bytes(self) -> int:
        """Encoded bytes of the kept entries."""
        return self._held

    def since(self, last_seq: int, max_bytes: int | None = None) -> list[bytes] | None:
        """Messages with seq > last_seq in order, or None if the log no longer reaches back
        or they add up to more than `max_bytes` (a snapshot is then cheaper than the replay)."""
        if last_seq > self.last_seq or last_seq < 0:
            return None
        missed = self.last_seq - last_seq
        if missed == 0:
            return []
        if missed > len(self._entries):
            return None
        replay = list(self._entries)[-missed:]
        if max_bytes is not None and sum(map(len, replay)) > max_bytes:
            return None
        return replay

    def __len__(self) -> int:
        return len(self._entries)
