"""Teachers' and classes' names: NFKC, trimmed, inner spaces collapsed, bounded, printable. Pure.

Looser than nicknames (a class may be called "7b – Kunst (Mo.)"), but never empty, never
longer than its bound, never holding control or formatting characters a page would hide.
"""

from __future__ import annotations

import re
import unicodedata

from server.engine.people.errors import InvalidName

MAX_TEACHER_NAME = 64
MAX_CLASS_NAME = 80
_SPACES = re.compile(r"\s+")


def clean_name(typed: str, limit: int, what: str) -> str:
    """The stored form of a name of at most `limit` characters; `what` names it in errors."""
    if len(typed) > 4 * limit:  # refused before NFKC spends time on it
        raise InvalidName(f"{what} can have at most {limit} characters.")
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", typed)).strip()
    if not name:
        raise InvalidName(f"{what} cannot be empty.")
    if len(name) > limit:
        raise InvalidName(f"{what} can have at most {limit} characters.")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise InvalidName(f"{what} cannot hold control characters.")
    return name


def name_key(name: str) -> str:
    """What makes two teachers' names the same: `Frau Weber` and `frau weber` are one."""
    return name.casefold()
