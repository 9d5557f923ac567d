"""Token buckets for client messages, pure: the caller passes the clock. A socket's own
bucket, and its person's shared by all their sockets."""

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


#: People whose message budgets are held at once (`SharedBuckets`): beyond it the least
#: recently used is dropped; a person whose bucket was dropped starts full again.
MAX_BUDGETS = 100_000


class SharedBuckets:
    """One token bucket per person, shared by all their sockets (issue 15: a socket's own
    rate times the sockets a person may open was the CPU one person could cost).

    A person is `per_address.fair_group`: a member or teacher by their key, every guest of one
    client address together. Held least recently used first, at most `max_keys` of them.
    """

    __slots__ = ("_buckets", "burst", "max_keys", "rate")

    def __init__(self, rate: float, burst: int, max_keys: int = MAX_BUDGETS) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("shared buckets need a positive rate, burst and key bound")
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}  # insertion order: least recent first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> bool:
        bucket = self._buckets.pop(key, None) or TokenBucket(self.rate, self.burst, now)
        self._buckets[key] = bucket
        if len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
        return bucket.take(now)


class MessageRate:
    """One socket's budget: its own bucket and its person's shared one; a message passes
    only if both have a token. `refused_in_a_row` counts refusals by either."""

    __slots__ = ("_key", "_shared", "_socket", "refused_in_a_row")

    def __init__(self, socket: TokenBucket, shared: SharedBuckets, key: str) -> None:
        self._socket = socket
        self._shared = shared
        self._key = key
        self.refused_in_a_row = 0

    def take(self, now: float) -> bool:
        if self._socket.take(now) and self._shared.take(self._key, now):
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False
