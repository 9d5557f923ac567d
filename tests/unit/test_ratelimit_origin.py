"""The per-socket token bucket and the WebSocket Origin check: pure rules."""

from __future__ import annotations

import pytest

from server.engine.ratelimit import TokenBucket
from server.handlers.origin import origin_allowed


def test_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=1.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.refused_in_a_row == 1


def test_bucket_refills_at_its_rate_and_resets_the_refusal_count() -> None:
    bucket = TokenBucket(rate=2.0, burst=1, now=0.0)
    assert bucket.take(0.0)
    assert not bucket.take(0.1)
    assert not bucket.take(0.2)
    assert bucket.refused_in_a_row == 2
    assert bucket.take(0.7)
    assert bucket.refused_in_a_row == 0


def test_bucket_never_saves_more_than_its_burst() -> None:
    bucket = TokenBucket(rate=100.0, burst=2, now=0.0)
    assert [bucket.take(1000.0) for _ in range(3)] == [True, True, False]


def test_bucket_rejects_nonsense_bounds() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, burst=1, now=0)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1:8080", [], True),
        ("https://atelier.school.example", "atelier.school.example", [], True),
        ("https://ATELIER.school.example", "atelier.school.example", [], True),
        ("http://evil.example", "127.0.0.1:8080", [], False),
        ("http://127.0.0.1:9999", "127.0.0.1:8080", [], False),
        ("null", "127.0.0.1:8080", [], False),
        ("http://evil.example", "127.0.0.1:8080", ["*"], True),
        ("https://ui.example/", "127.0.0.1:8080", ["https://ui.example"], True),
        (None, "127.0.0.1:8080", [], True),
    ],
)
def test_origin_rule(origin: str | None, host: str, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok
