"""Look-alike letters from other alphabets folded to the Latin letters they imitate. Pure.

"kіll" with a Cyrillic "і", or "gυn" with a Greek "υ", reads as the English word but is a
different string. The mapping comes from Unicode's confusables data (UTS #39,
`confusables.txt`) as the `confusable-homoglyphs` package ships it (a JSON copy of the Unicode
file, loaded from the package, never typed by hand). That copy keeps the pairs of the file in
both directions, not UTS #39's skeleton prototypes, so the fold takes from it only what a
skeleton would also give for a single character:

- only non-ASCII characters are folded: an ASCII letter is never changed, so "rn" stays "rn"
  and "cl" stays "cl" (full skeletons would turn "click" into "dick" and "corn" into "com");
- a character becomes the ASCII letters it is confusable with, lower-cased, checked for the
  character itself first ("а" → "a", "Ν" → "n", "ν" → "v") and then for its capital
  ("т" → "Т" → "t", "к" → "К" → "k"), because the small forms of several Cyrillic letters
  are listed only with small capitals ("ᴛ"); normalization folds before it case-folds, so a
  capital is judged by its own shape;
- "I" and "l" share one prototype in UTS #39; a capital look-alike of it becomes "i", a
  small one "l";
- digits and symbols are never a target ("б" stays "б", not "6"), and a target is at most
  `MAX_TARGET` letters, so folding grows a text at most that many times.

The table is built once, at import, from about 9,600 entries (the package reads its JSON file
then, the only file access; nothing is fetched); folding a text is one `str.translate`,
linear in the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from confusable_homoglyphs import confusables

#: Longest replacement accepted for one character (a ligature-like look-alike such as "ꝏ").
MAX_TARGET = 2


def _latin_target(glyphs: Iterable[Mapping[str, Any]]) -> str | None:
    """The first homoglyph made of ASCII letters only, lower-cased."""
    for glyph in glyphs:
        target = str(glyph.get("c", ""))
        if target and len(target) <= MAX_TARGET and target.isascii() and target.isalpha():
            return target.lower()
    return None


def _fold_of(char: str, data: Mapping[str, Sequence[Mapping[str, Any]]]) -> str | None:
    folded = _latin_target(data.get(char, ()))
    if folded is None and len(char.upper()) == 1 and char.upper() != char:
        folded = _latin_target(data.get(char.upper(), ()))
    # UTS #39 gives "I" and "l" one prototype (a vertical bar); a capital look-alike of it
    # ("І", "Ι") stands for the capital I, a small one ("ӏ") for the l.
    if folded == "l" and char.isupper():
        return "i"
    return folded


def build_table(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[int, str]:
    """A `str.translate` table: every non-ASCII character with a Latin look-alike."""
    table: dict[int, str] = {}
    for char in data:
        if len(char) != 1 or char.isascii():
            continue
        # Fold the lower-case form too: the text is case-folded before it is folded here.
        for form in {char, char.lower()}:
            folded = _fold_of(form, data)
            if len(form) == 1 and not form.isascii() and folded is not None:
                table[ord(form)] = folded
    return table


_Data = Mapping[str, Sequence[Mapping[str, Any]]]
_TABLE = build_table(cast("_Data", confusables.confusables_data))


def fold_confusables(text: str) -> str:
    """`text` with every look-alike of a Latin letter replaced by that letter."""
    return text.translate(_TABLE)
