"""Attempts per minute, by key (a client address, a teacher's name). Pure: the caller passes
the clock.

Joining and logging in are guarded by this, so a join code or a password cannot be guessed at
speed: a key may make `limit` attempts in any `window` seconds, and one beyond is refused
until the oldest leaves the window (refused attempts do not count, so waiting always works).
The number of keys held is bounded too: when the table is full of keys with recent attempts,
a new key is refused rather than letting the table grow without end.
"""

from __future__ import annotations

from collections import deque

#: Keys followed at once; beyond this, stale ones are dropped, then new ones refused.
DEFAULT_MAX_KEYS = 50_000


class AttemptWindow:
    """At most `limit` attempts per key in any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("an attempt window needs a limit, a window and room for a key")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._attempts: dict[str, deque[float]] = {}

    def __len__(self) -> int:
        return len(self._attempts)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._attempts.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def allows(self, key: str, now: float) -> bool:
        """Whether `key` may make an attempt now (nothing is counted)."""
        times = self._recent(key, now)
        if times is None:
            return len(self._attempts) < self.max_keys or self._drop_stale(now)
        return len(times) < self.limit

    def count(self, key: str, now: float) -> None:
        """Count an attempt of `key` (call only after `allows` said yes)."""
        self._attempts.setdefault(key, deque()).append(now)

    def take(self, key: str, now: float) -> bool:
        """`allows`, and if so `count`: the usual single call."""
        if not self.allows(key, now):
            return False
        self.count(key, now)
        return True

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        times = self._recent(key, now)
        if not times or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.window - now)

    def _drop_stale(self, now: float) -> bool:
        """Forget every key with no attempt in the window; whether room was made."""
        for key in [k for k in self._attempts if not self._recent(k, now)]:
            del self._attempts[key]
        return len(self._attempts) < self.max_keys
