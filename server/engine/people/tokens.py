"""Identity tokens: the signed value of the `atelier_id` cookie. Pure: no I/O, no clock.

A token is `v1.<kind>.<id>.<version>.<issued>.<sig>`: the kind of person (`m` member, `g`
guest, `t` teacher), their id, the version of their row when it was issued (bumping the row's
version revokes every token issued before), the issue time in whole seconds, and an
HMAC-SHA256 over everything before the signature, base64url without padding. `read` answers
None for anything that is not a token this key signed, still young enough: the caller never
learns why, and neither does the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "v1"
KEY_BYTES = 32
#: Longer cookie values are refused before any parsing.
MAX_TOKEN_CHARS = 256
#: A token issued this many seconds "in the future" is still taken (clocks differ a little).
CLOCK_SKEW = 60
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NUMBER = re.compile(r"(0|[1-9][0-9]{0,15})")
_SIG_CHARS = 43  # 32 bytes, base64url, unpadded


class TokenKind(StrEnum):
    MEMBER = "m"
    GUEST = "g"
    TEACHER = "t"


@dataclass(frozen=True, slots=True)
class Token:
    """What a token says: who (kind, id), which version of their row, issued when."""

    kind: TokenKind
    id: str
    version: int
    issued: int

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id) or self.version < 0 or self.issued < 0:
            raise ValueError("a token's id is 1-64 URL-safe characters; numbers are >= 0")

    def body(self) -> str:
        return f"{PREFIX}.{self.kind.value}.{self.id}.{self.version}.{self.issued}"


def _signature(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(key: bytes, token: Token) -> str:
    """The cookie value of `token`, signed with `key`."""
    if len(key) < KEY_BYTES:
        raise ValueError(f"a signing key has at least {KEY_BYTES} bytes")
    body = token.body()
    return f"{body}.{_signature(key, body)}"


def _parse(value: str) -> tuple[Token, str] | None:
    parts = value.split(".")
    if len(parts) != 6 or parts[0] != PREFIX or len(parts[5]) != _SIG_CHARS:
        return None
    _, kind, ident, version, issued, sig = parts
    if kind not in TokenKind._value2member_map_ or not _ID.fullmatch(ident):
        return None
    if not (_NUMBER.fullmatch(version) and _NUMBER.fullmatch(issued)):
        return None
    return Token(TokenKind(kind), ident, int(version), int(issued)), sig


def read(
    key: bytes, value: str, *, now: float, lifetimes: Mapping[TokenKind, float]
) -> Token | None:
    """The token in a cookie value if `key` signed it and it is no older at `now` than the
    lifetime of its kind (seconds); None otherwise. Signatures are compared in constant time."""
    if len(value) > MAX_TOKEN_CHARS or not value.isascii():
        return None
    parsed = _parse(value)
    if parsed is None:
        return None
    token, sig = parsed
    if not hmac.compare_digest(sig, _signature(key, token.body())):
        return None
    if token.issued > now + CLOCK_SKEW or now - token.issued > lifetimes[token.kind]:
        return None
    return token
