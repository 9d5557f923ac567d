"""Join codes and one-time PINs: random, from `secrets`, in characters nobody misreads. Pure.

A join code is 8 characters from 31 (no 0/O, 1/I/L): 31**8, about 8.5e11 codes, so guessing
one at `join_attempts_per_minute` from one address takes longer than any class lasts.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
PIN_LENGTH = 6
#: What a typed code may hold besides its characters: separators people add or copy along.
_SEPARATORS = re.compile(r"[\s\-_]+")


def new_code() -> str:
    """A fresh join code, normalised (`ABCDEFGH`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """A code as typed (`abcd-efgh`, ` ABCD EFGH `) in its stored form; anything else is left
    for the lookup to miss. Bounded: a code longer than 64 characters is never a code."""
    return _SEPARATORS.sub("", typed[:64]).upper()


def show_code(code: str) -> str:
    """The code as a teacher writes it on the board: `ABCD-EFGH`."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def new_pin() -> str:
    """A one-time PIN of six digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"
