"""Spelling tricks undone on normalized text: spaced-out letters and stretched letters. Pure.

Works on the output of `safety_normalize.normalize` and returns the forms of a text that the
word list is matched against (`spellings`):

- **Spaced letters.** A run of two or more single letters with separators between them
  ("g u n", "g.u.n", "g-u-n", "g_u_n", "g * u * n") is joined ("gun"). A second form keeps
  the run's first letter apart when it is a one-letter word ("a g u n", not "p a s s"); a
  third joins only where the separator holds no space, so spelled words keep apart
  ("b_i_g g_u_n" is "big gun").
- **Stretched letters.** A letter repeated more than `MAX_RUN` times is cut to `MAX_RUN`
  ("kiiiiill" becomes "kiiill"); the list's patterns accept one to `MAX_RUN` copies of a
  letter the entry writes once, and two to `MAX_RUN` of one it writes twice, so "kill",
  "killl" and "kiiill" are one word and "Schiff" keeps its double letter.

Every step is one regex pass with possessive quantifiers: linear in the text.
"""

from __future__ import annotations

import re

#: Copies of one letter kept in a row; longer runs are cut to this length.
MAX_RUN = 3

_LETTER = r"[^\W\d_]"
# What normalization makes of one letter: "ö" is spelled "oe", "ß" is "ss".
_UNIT = rf"(?:[aou]e?+|ss?+|{_LETTER})"
# Letters and digits, not "_": "b_o_m_b" is spaced by underscores.
_ALNUM = r"[^\W_]"
# A single letter (no letter or digit either side), then separator+letter pairs, each letter
# single too. Possessive: a separator run that is not followed by a single letter is given up
# at once, not retried shorter.
_SPACED = re.compile(rf"(?<!{_ALNUM}){_UNIT}(?:[\W_]++{_UNIT}(?!{_ALNUM}))++")
# The same with separators that hold no space, so "b_i_g g_u_n" becomes "big gun".
_TIGHT = re.compile(
    rf"(?<!{_ALNUM}){_UNIT}(?:[^\w\s]++{_UNIT}(?!{_ALNUM})|_++{_UNIT}(?!{_ALNUM}))++"
)
_SEPARATORS = re.compile(r"[\W_]+")
# Words of one letter that may stand before a spelled-out word ("a g u n"); any other first
# letter is part of the word ("p a s s" is not "p ass").
_ONE_LETTER_WORDS = frozenset("ai")
_RUN = re.compile(rf"({_LETTER})\1{{{MAX_RUN},}}+")
# A spelled-out umlaut written twice ("ttöötteenn" is "ttoeoetteenn").
_DIGRAPH_RUN = re.compile(r"(ae|oe|ue)\1++")
#: What `_DIGRAPH_RUN` needs to find anything: a substring test is a fraction of its pass.
_DIGRAPHS_TWICE = ("aeae", "oeoe", "ueue")


def _joined(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group(0))


def _joined_after_first(match: re.Match[str]) -> str:
    letters = _joined(match)
    if len(letters) < 3 or letters[0] not in _ONE_LETTER_WORDS:
        return letters
    return f"{letters[0]} {letters[1:]}"


def squeeze(text: str) -> str:
    """`text` with every run of one letter cut to `MAX_RUN` copies, "oeoe" to "oe"."""
    if any(twice in text for twice in _DIGRAPHS_TWICE):
        text = _DIGRAPH_RUN.sub(r"\1", text)
    return _RUN.sub(lambda match: match.group(1) * MAX_RUN, text)


def spellings(text: str) -> tuple[str, ...]:
    """The forms of normalized `text` to match: as written, and with spaced letters joined.

    Each form is squeezed; duplicates are dropped, so a text without spaced letters is
    matched once.
    """
    if _SPACED.search(text) is None:
        # No spaced letters: the other forms are the text itself (a tight run is spaced too).
        return (squeeze(text),)
    forms = (
        text,
        _SPACED.sub(_joined, text),
        _SPACED.sub(_joined_after_first, text),
        _TIGHT.sub(_joined, text),
    )
    return tuple(dict.fromkeys(squeeze(form) for form in forms))
