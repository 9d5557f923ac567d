"""Nicknames: how a typed one becomes the stored one, and which ones are refused. Pure.

A nickname is what a class sees of a child, so it is kept short and plain: NFKC (full-width
and styled letters become ordinary ones), trimmed, inner spaces collapsed, 1 to 24 characters
of letters, digits, space, `-`, `_` and `.`, and nothing the kids word list blocks. Two
nicknames are the same when their casefolds are (`nickname_key`).
"""

from __future__ import annotations

import re
import unicodedata

from server.engine.people.errors import InvalidNickname
from server.engine.safety_words import WordList

MAX_NICKNAME_LENGTH = 24
#: Longer input is refused before NFKC looks at it: normalising costs time per character.
MAX_TYPED_LENGTH = 200
_PUNCTUATION = frozenset(" -_.")
_SPACES = re.compile(r"\s+")

#: What a child reads for each rule, in English and German.
TEXTS: dict[str, dict[str, str]] = {
    "empty": {
        "en": "Please type a nickname.",
        "de": "Bitte gib einen Spitznamen ein.",
    },
    "too_long": {
        "en": f"A nickname can have at most {MAX_NICKNAME_LENGTH} characters.",
        "de": f"Ein Spitzname darf höchstens {MAX_NICKNAME_LENGTH} Zeichen haben.",
    },
    "characters": {
        "en": "A nickname may only have letters, digits, spaces, '-', '_' and '.'.",
        "de": "Ein Spitzname darf nur Buchstaben, Ziffern, Leerzeichen, '-', '_' und '.' haben.",
    },
    "blocked": {
        "en": "This nickname is not allowed here. Please choose another one.",
        "de": "Dieser Spitzname ist hier nicht erlaubt. Bitte wähle einen anderen.",
    },
}


class NicknameRefused(InvalidNickname):
    """An `InvalidNickname` that names its rule and carries the child's texts."""

    def __init__(self, rule: str) -> None:
        super().__init__(TEXTS[rule]["en"])
        self.rule = rule
        self.texts = TEXTS[rule]


def clean_nickname(typed: str, blocked: WordList | None = None) -> str:
    """The stored form of a typed nickname; raise `InvalidNickname` naming the rule."""
    if len(typed) > MAX_TYPED_LENGTH:
        raise NicknameRefused("too_long")
    nickname = _SPACES.sub(" ", unicodedata.normalize("NFKC", typed)).strip()
    if not nickname:
        raise NicknameRefused("empty")
    if len(nickname) > MAX_NICKNAME_LENGTH:
        raise NicknameRefused("too_long")
    if not _allowed(nickname):
        raise NicknameRefused("characters")
    if blocked is not None and blocked.find(nickname) is not None:
        raise NicknameRefused("blocked")
    return nickname


def nickname_key(nickname: str) -> str:
    """What makes two nicknames the same in a class: `Mia` and `MIA` are one."""
    return nickname.casefold()


def _allowed(nickname: str) -> bool:
    """Letters (with their combining marks, not leading), decimal digits, the punctuation."""
    if unicodedata.category(nickname[0]).startswith("M"):
        return False
    return all(_allowed_char(ch) for ch in nickname)


def _allowed_char(ch: str) -> bool:
    if ch in _PUNCTUATION:
        return True
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Nd"
