"""The evasion tricks of the evaluation set: each turns a listed word into a disguised form.

Pure and deterministic: `style` picks one of a trick's variants, so the set rotates through
them. The look-alike tables are written out here on purpose, independent of the server's
folding (which reads Unicode's confusables data): the set is an oracle, not a copy of the
code under test. Every look-alike below is in UTS #39's confusables data (checked when the
table was written, with the confusable_homoglyphs package).
"""

from __future__ import annotations

from collections.abc import Callable

CYRILLIC = dict(zip("acehijopsxydqwABCEHIKMOPSTXY", "асеһіјорѕхуԁԛԝАВСЕНІКМОРЅТХУ", strict=True))
GREEK = dict(zip("aiopuvyABEHIKMNOPTXYZ", "αιορυνγΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", strict=True))
LEET = (
    {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$"},
    {"a": "@", "e": "3", "i": "!", "o": "0", "s": "5", "t": "7"},
)
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
SEPARATORS = ("-", "_", "*", "/")
#: Combining marks that do not turn a letter into an umlaut (which is spelled out as "oe").
MARKS = ("\u0307", "\u0301", "\u0303", "\u0323")
VOWELS = frozenset("aeiouAEIOU")


def homoglyph(word: str, style: int) -> str:
    """Latin letters swapped for Cyrillic, Greek, or alternating look-alikes."""
    tables = ((CYRILLIC,), (GREEK, CYRILLIC), (CYRILLIC, GREEK))[style % 3]
    out: list[str] = []
    for number, char in enumerate(word):
        table = tables[number % len(tables)]
        out.append(table.get(char) or GREEK.get(char) or CYRILLIC.get(char, char))
    return "".join(out)


def _longest(word: str, change: Callable[[str], str]) -> str:
    # Separators go between the letters of one word: "dead b o d y" is how it is written.
    parts = word.split(" ")
    target = max(range(len(parts)), key=lambda number: len(parts[number]))
    parts[target] = change(parts[target])
    return " ".join(parts)


def spaced(word: str, style: int) -> str:
    """Single letters separated by spaces (one or two)."""
    gap = " " if style % 2 == 0 else "  "
    return _longest(word, gap.join)


def dotted(word: str, style: int) -> str:
    """Single letters separated by dots, with or without a space after each."""
    gap = "." if style % 2 == 0 else ". "
    return _longest(word, gap.join)


def separated(word: str, style: int) -> str:
    """Single letters separated by hyphens, underscores, asterisks or slashes."""
    return _longest(word, SEPARATORS[style % len(SEPARATORS)].join)


def doubled(word: str, style: int) -> str:
    """Vowels written three times ("guuun"), or every letter twice ("gguunn")."""
    if style % 2 == 0 and any(char in VOWELS for char in word):
        return "".join(char * 3 if char in VOWELS else char for char in word)
    return "".join(char * 2 if char != " " else char for char in word)


def leet(word: str, style: int) -> str:
    """Letters written as digits and signs."""
    table = LEET[style % len(LEET)]
    return "".join(table.get(char.lower(), char) for char in word)


def zero_width(word: str, style: int) -> str:
    """An invisible character (zero-width space, joiner, soft hyphen ...) between letters."""
    return ZERO_WIDTH[style % len(ZERO_WIDTH)].join(word)


def diacritics(word: str, style: int) -> str:
    """A combining mark (dot above, acute, tilde, dot below) on every letter."""
    mark = MARKS[style % len(MARKS)]
    return "".join(char + mark if char.isalpha() else char for char in word)


def combined(word: str, style: int) -> str:
    """Two tricks at once: leetspeak and spaces, look-alikes and zero-width, doubled and dots."""
    kind = style % 3
    if kind == 0:
        return spaced(leet(word, style), style)
    if kind == 1:
        return zero_width(homoglyph(word, style), style)
    return dotted(doubled(word, style), style)


Trick = Callable[[str, int], str]
TRICKS: dict[str, Trick] = {
    "homoglyph": homoglyph,
    "spaced": spaced,
    "dotted": dotted,
    "separated": separated,
    "doubled": doubled,
    "leet": leet,
    "zero_width": zero_width,
    "diacritics": diacritics,
    "combined": combined,
}
