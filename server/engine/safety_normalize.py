"""The canonical text form the word lists match on, with its work bounded. Pure.

The same `normalize` runs over the list entries and over the student's prompt, so spelling
tricks (case, accents, umlaut spellings, look-alike letters from other alphabets
(server/engine/safety_fold.py), common leetspeak, invisible characters) meet the list in one
canonical form. Its cost stays linear in the input: a text that would grow by more than
`MAX_EXPANSION` (U+FDFA alone becomes 18 characters) or that stacks more than
`MAX_COMBINING_RUN` combining marks on one letter (Unicode's canonical reordering sorts such a
run, quadratically) is refused with `TextTooLong`, never matched in part: fail-closed.
"""

from __future__ import annotations

import re
import unicodedata

from server.engine.errors import AtelierError
from server.engine.safety_fold import fold_confusables
from server.protocol import ErrorCode

# German umlauts are spelled out (not stripped to a/o/u) so "Mörder" and "Moerder" are the
# same word; stripping would turn "schwül" into "schwul" and similar collisions. Matched on
# the decomposed text, so an umlaut with a second mark on it ("ǘ") is still spelled out.
_UMLAUT = re.compile("([aou])((?:(?!\u0308)[\u0300-\u036f])*)\u0308")
# Leetspeak, undone in every word but a number of two or more digits ("5h!7", "k1ll", "4$$",
# a spaced-out "5 3 x"), so numbers such as "455" stay numbers; "!" only before a letter
# or digit, so "kill!" keeps its word.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"})
_LEET_IN_WORDS = str.maketrans({"5": "s", "7": "t"})
_BANG = re.compile(r"!(?=[^\W_])")
_TOKEN = re.compile(r"\S+")
_LEET_SIGN = re.compile(r"[0134@$57!]")
_MAX_ROUNDS = 4
#: How many times its own length (plus `EXPANSION_SLACK`) a text may grow while normalized.
#: Umlauts double, ligatures such as "ﬃ" triple; a prompt made mostly of such characters is
#: not a prompt.
MAX_EXPANSION = 3
#: Characters of growth always allowed, so one short "㍿" (four characters) still passes.
EXPANSION_SLACK = 64
#: Longest run of combining marks on one character: the limit of Unicode's stream-safe text
#: format (UAX #15), far beyond any real accent stack.
MAX_COMBINING_RUN = 30


class TextTooLong(AtelierError):
    """A text whose normalization would cost more than linear work: refused, never matched."""

    code = ErrorCode.INVALID_FIELD


def normalize(text: str) -> str:
    """The canonical form used for matching: see the module docstring. Idempotent.

    Raises TextTooLong for a text that expands too much or stacks too many combining marks.
    """
    _check_combining_runs(text)
    limit = MAX_EXPANSION * len(text) + EXPANSION_SLACK
    # A few exotic code points only settle after a second pass (casefold can produce
    # characters that NFKC changes again), and so does ASCII whose spelling fold depends on
    # its neighbours ("!!0" -> "!io" -> "iio", found by tests/unit/test_safety_normalize_ascii.py):
    # repeat until stable, with a hard bound. A text already in its form takes one pass.
    for _ in range(_MAX_ROUNDS):
        result = _normalize_once(text, limit)
        if result == text:
            return result
        text = result
    return text


def _normalize_once(text: str, limit: int) -> str:
    if text.isascii():
        # NFKC, format characters, confusables, accents and case-folding all leave ASCII as
        # it is but for its case (tests/unit/test_safety_normalize_ascii.py): streamed LLM
        # text is mostly ASCII, and the screen normalizes a window per token.
        return _finish(text.lower())
    # Every step that can grow the text is checked before a per-character Python loop runs
    # over its result, so that loop never sees more than `limit` characters.
    text = _bounded(unicodedata.normalize("NFKC", text), limit)
    # Cf holds zero-width spaces and joiners, soft hyphens, bidi marks and tag characters.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    # Before case-folding: a Greek capital "Ν" looks like "N", its small "ν" like "v".
    text = _bounded(fold_confusables(text), limit)
    decomposed = _bounded(unicodedata.normalize("NFKD", text.casefold()), limit)
    decomposed = _UMLAUT.sub(r"\1e", decomposed)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Again once the accents are gone, so "ӓ" (Cyrillic, with diaeresis) folds like "а".
    text = _bounded(fold_confusables(text), limit)
    return _finish(_bounded(unicodedata.normalize("NFKC", text).casefold(), limit))


def _finish(text: str) -> str:
    """Leetspeak read as letters, whitespace collapsed: the last steps, for every text."""
    if _LEET_SIGN.search(text) is not None:
        # Per word, in Python: only for the texts that hold a digit or sign at all.
        text = _TOKEN.sub(_leet_word, text)
    return " ".join(text.split())


def _leet_word(match: re.Match[str]) -> str:
    word = match.group(0)
    # A number ("455", "1337") stays a number; a lone "4" or "5" may be a spaced-out letter.
    if len(word) > 1 and word.isdigit():
        return word
    return _BANG.sub("i", word.translate(_LEET).translate(_LEET_IN_WORDS))


def _bounded(text: str, limit: int) -> str:
    if len(text) > limit:
        raise TextTooLong(f"grows to more than {limit} characters when normalized")
    return text


def _check_combining_runs(text: str) -> None:
    if text.isascii():  # no combining marks in ASCII
        return
    run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        if run > MAX_COMBINING_RUN:
            raise TextTooLong(f"more than {MAX_COMBINING_RUN} accent marks on one letter")
