"""Identity tokens: what `sign` writes `read` takes back, and nothing else."""

from __future__ import annotations

import pytest

from server.engine.people.tokens import (
    CLOCK_SKEW,
    KEY_BYTES,
    MAX_TOKEN_CHARS,
    Token,
    TokenKind,
    read,
    sign,
)

KEY = bytes(range(KEY_BYTES))
OTHER_KEY = bytes(reversed(range(KEY_BYTES)))
NOW = 1_800_000_000
DAY = 86_400.0
LIFETIMES = {TokenKind.MEMBER: 180 * DAY, TokenKind.GUEST: 180 * DAY, TokenKind.TEACHER: 12 * 3600}
MEMBER = Token(TokenKind.MEMBER, "42", 3, NOW)


def read_now(value: str, now: float = NOW, key: bytes = KEY) -> Token | None:
    return read(key, value, now=now, lifetimes=LIFETIMES)


def test_a_signed_token_reads_back_whole() -> None:
    value = sign(KEY, MEMBER)
    assert value.startswith("v1.m.42.3.1800000000.")
    assert read_now(value) == MEMBER


@pytest.mark.parametrize("kind", list(TokenKind))
def test_every_kind_reads_back(kind: TokenKind) -> None:
    token = Token(kind, "AbC-_9", 0, NOW)
    assert read_now(sign(KEY, token)) == token


def test_every_byte_flipped_is_refused() -> None:
    value = sign(KEY, MEMBER)
    for i in range(len(value)):
        for flip in (1, 2, 32):
            changed = value[:i] + chr(ord(value[i]) ^ flip) + value[i + 1 :]
            assert read_now(changed) is None, (i, changed)


def test_another_key_signs_tokens_this_one_refuses() -> None:
    assert read_now(sign(OTHER_KEY, MEMBER)) is None


def test_a_changed_field_with_the_old_signature_is_refused() -> None:
    sig = sign(KEY, MEMBER).rsplit(".", 1)[1]
    for forged in (
        Token(TokenKind.TEACHER, "42", 3, NOW),
        Token(TokenKind.MEMBER, "43", 3, NOW),
        Token(TokenKind.MEMBER, "42", 4, NOW),
        Token(TokenKind.MEMBER, "42", 3, NOW + 1),
    ):
        assert read_now(f"{forged.body()}.{sig}") is None


def test_a_token_lasts_exactly_its_kinds_lifetime() -> None:
    member = sign(KEY, MEMBER)
    teacher = sign(KEY, Token(TokenKind.TEACHER, "1", 0, NOW))
    assert read_now(member, NOW + 180 * DAY) == MEMBER
    assert read_now(member, NOW + 180 * DAY + 1) is None
    assert read_now(teacher, NOW + 12 * 3600) is not None
    assert read_now(teacher, NOW + 12 * 3600 + 1) is None


def test_a_token_from_the_future_is_taken_only_within_the_clock_skew() -> None:
    value = sign(KEY, MEMBER)
    assert read_now(value, NOW - CLOCK_SKEW) == MEMBER
    assert read_now(value, NOW - CLOCK_SKEW - 1) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "v1",
        "v2.m.42.3.1800000000." + "A" * 43,
        "v1.x.42.3.1800000000." + "A" * 43,
        "v1.m.4 2.3.1800000000." + "A" * 43,
        "v1.m.42.03.1800000000." + "A" * 43,
        "v1.m.42.-3.1800000000." + "A" * 43,
        "v1.m.42.3.1800000000." + "A" * 42,
        "v1.m.42.3.1800000000.extra." + "A" * 43,
        "v1.m.42.3.1800000000." + "é" * 43,
    ],
)
def test_malformed_values_are_refused(value: str) -> None:
    assert read_now(value) is None


def test_values_beyond_the_length_bound_are_refused_before_parsing() -> None:
    long_id = Token(TokenKind.GUEST, "a" * 64, 10**15, NOW)
    value = sign(KEY, long_id)
    assert len(value) <= MAX_TOKEN_CHARS
    assert read_now(value) == long_id
    assert read_now(value + "." * (MAX_TOKEN_CHARS - len(value) + 1)) is None


def test_a_short_key_cannot_sign() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        sign(b"short", MEMBER)


@pytest.mark.parametrize("ident", ["", "a.b", "a" * 65, "ü"])
def test_a_token_cannot_name_an_id_that_would_not_parse(ident: str) -> None:
    with pytest.raises(ValueError, match="1-64 URL-safe"):
        Token(TokenKind.GUEST, ident, 0, NOW)
