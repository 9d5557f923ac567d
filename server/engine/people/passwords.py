"""Teachers' passwords: argon2id through argon2-cffi, hashed in a worker thread.

Hashing costs tens of milliseconds of CPU by design; run on the event loop it would stall every
stream, so the store calls `hash_password` and `verify_password` through `asyncio.to_thread`.
An unknown login name is verified against a dummy hash, so the time of a refusal does not
tell whether the name exists.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.engine.people.errors import WeakPassword

MIN_PASSWORD_LENGTH = 10
#: argon2 hashes any length, but a megabyte "password" is an attack on the CPU, not a secret.
MAX_PASSWORD_LENGTH = 1024

_HASHER = PasswordHasher()
#: What an unknown name is verified against: the hash of 32 random bytes nobody kept, made
#: with the hasher's parameters (a test fails when a new argon2-cffi changes them, since a
#: dummy cheaper than real hashes would tell unknown names apart by time again).
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$ghuVUfogy7vJfvjcPRXMkQ$"
    "K/eZbyig66xoKG/iev3TjOALBTKVtPHd//1EQS3e92c"
)


def check_password_rules(password: str) -> None:
    """Raise `WeakPassword` for a password too short (or absurdly long) to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"A password can have at most {MAX_PASSWORD_LENGTH} characters.")


async def hash_password(password: str) -> str:
    """The argon2id hash of an accepted password (`check_password_rules` first)."""
    check_password_rules(password)
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; `stored` None (unknown name) costs the same."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with weaker parameters than the current ones."""
    return _HASHER.check_needs_rehash(stored)


def _verify(stored: str | None, password: str) -> bool:
    try:
        matches = _HASHER.verify(stored or DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matches and stored is not None
