"""The word layer's decision on one text, as stage 1's `check_words` makes it.

A hit blocks; a text too costly to normalize (TextTooLong) blocks too (fail-closed). Shared
by the suite and bench/bench_safety.py so both judge exactly what the server judges.
"""

from __future__ import annotations

from server.engine.safety_words import TextTooLong, WordList


def blocks(words: WordList, text: str) -> bool:
    """Whether the word layer blocks `text` with this list."""
    try:
        return words.find(text) is not None
    except TextTooLong:
        return True
