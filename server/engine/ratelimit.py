"""A token bucket for client messages, pure: the caller passes the clock."""

from __future__ import annotations


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up. `take(now)` spends one if it can."""

    __slots__ = ("_last", "_tokens", "burst", "rate", "refused_in_a_row")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = now
        self.refused_in_a_row = 0

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False
