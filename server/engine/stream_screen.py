"""The incremental word screen for streamed LLM text: feed pieces, get what may be shown. Pure.

Stage 2 streams an LLM's answer to the child token by token; each piece passes through here
first. The screen holds back the tail after the last word boundary (a listed word is only
whole once the character after it has arrived: "Schwanz" may still become "Schwanzflosse")
and checks the text up to that boundary with the run's word list before releasing it. Each
check re-reads only the new text plus an overlap window behind what was already released, so a
word split across tokens ("g", "u", "n ") is found, and the work per piece is linear in the
new text, never the whole answer per token. The bounds:

- `tail_chars`: a tail longer than this with no boundary is checked as it stands and released.
- `overlap_chars`: how far behind the released point the next check starts (snapped back to a
  word start); `overlap_for` derives it from the list's longest entry after normalization,
  with room for a separator between every letter ("g u n", "g.u.n").
- `MAX_WORD_CHARS`: the window start is snapped back to the start of its word, so a word
  stretched far past the overlap ("guuuu…un", dozens of invisible characters) is re-read
  whole. A match spread wider than that can slip the live screen; `finish` checks the whole
  answer once, so it never becomes the stage's text, and the caller withdraws what was shown.

Fail-closed: a window too costly to normalize counts as a hit. The screen never blocks on a
timed `flush` (the word may still continue); it keeps holding such a tail instead.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from server.engine.safety_words import TextTooLong, WordList, normalize

#: How many characters of raw text the overlap allows per character of the longest entry:
#: two covers a separator between every letter.
OVERLAP_FACTOR = 2
#: Characters of overlap always added (leading separators, a few invisible characters).
OVERLAP_SLACK = 16
_WORD_CHAR = re.compile(r"\w")
#: How far behind the overlap the window start looks for the start of its word: a word
#: stretched by repeated letters or invisible characters ("guuuuuun", squeezed by the list's
#: normalization) is re-read whole up to this length; a longer one only by `finish`.
MAX_WORD_CHARS = 400


@dataclass(frozen=True, slots=True)
class Screened:
    """What one step of the screen decided: text that may be shown now, or the entry hit."""

    release: str = ""
    #: The list entry found (for the teacher's record; "" for a text too costly to check).
    hit: str | None = None


def phrase_starts(words: WordList) -> frozenset[str]:
    """The first word of each allowed phrase of `words`, normalized."""
    firsts = (normalize(phrase).split() for phrase in words.allowed)
    return frozenset(parts[0] for parts in firsts if len(parts) > 1)


def overlap_for(words: WordList) -> int:
    """The overlap window for `words`: covers its longest entry after normalization."""
    # Entries were normalized once when the list loaded, so this cannot raise here.
    longest = max((len(normalize(entry).strip("*")) for entry in words.entries), default=0)
    return OVERLAP_FACTOR * longest + OVERLAP_SLACK


class StreamScreen:
    """One answer's screen. `feed` each piece; `flush` when the stream pauses; `finish` at
    the end. After a hit every further step releases nothing."""

    def __init__(
        self,
        find: Callable[[str], str | None],
        tail_chars: int,
        overlap: int,
        phrase_starts: frozenset[str] = frozenset(),
    ) -> None:
        self._find = find
        self._tail_chars = tail_chars
        self._overlap = overlap
        #: First words of the list's allowed phrases ("killer" of "killer whale"): a last word
        #: that is one waits for the next word, which may make the phrase harmless.
        self._phrase_starts = phrase_starts
        #: Text from the current window start; `_held` indexes its first unreleased character.
        self._buf = ""
        self._held = 0
        self.tripped: str | None = None

    @property
    def holding(self) -> int:
        """Characters received but not yet released."""
        return len(self._buf) - self._held

    @property
    def kept(self) -> int:
        """Characters kept for the next check: the overlap window plus what is held."""
        return len(self._buf)

    def feed(self, text: str) -> Screened:
        """Add a piece; release up to its last word boundary if the check passes."""
        if self.tripped is not None:
            return Screened(hit=self.tripped)
        self._buf += text
        cut = self._cut()
        if cut <= self._held:
            return Screened()
        return self._release(cut, block=True)

    def flush(self) -> Screened:
        """Release the held tail, checked as if its word ended here; on a hit keep holding."""
        if self.tripped is not None or not self.holding:
            return Screened(hit=self.tripped)
        return self._release(len(self._buf), block=False)

    def finish(self, final: str) -> Screened:
        """The stream ended with `final`: check it whole, once, and release what is held."""
        if self.tripped is not None:
            return Screened(hit=self.tripped)
        hit = self._check(final)
        if hit is not None:
            self.tripped = hit
            return Screened(hit=hit)
        rest, self._buf, self._held = self._buf[self._held :], "", 0
        return Screened(release=rest)

    def reset(self) -> None:
        """The stream starts again from nothing (a retry on another instance)."""
        self._buf, self._held, self.tripped = "", 0, None

    def _cut(self) -> int:
        """Where released text may end: after the last boundary, or everything if the tail
        without one grew past `tail_chars`."""
        buf = self._buf
        for index in range(len(buf) - 1, self._held - 1, -1):
            if is_boundary(buf[index]):
                cut = index + 1
                break
        else:
            cut = self._held
        cut = self._before_phrase_start(cut)
        return len(buf) if len(buf) - cut > self._tail_chars else cut

    def _before_phrase_start(self, cut: int) -> int:
        """`cut`, or the start of the word before it when that word may begin an allowed
        phrase (released only once the next word shows whether the phrase is whole)."""
        buf, end = self._buf, cut
        while end > self._held and is_boundary(buf[end - 1]):
            end -= 1
        start = end
        while start > self._held and not is_boundary(buf[start - 1]):
            start -= 1
        if start == end or not self._phrase_starts:
            return cut
        try:
            word = normalize(buf[start:end]).strip()
        except TextTooLong:
            return cut
        return start if word in self._phrase_starts else cut

    def _release(self, cut: int, *, block: bool) -> Screened:
        hit = self._check(self._buf[:cut])
        if hit is not None:
            if block:
                self.tripped = hit
            return Screened(hit=hit if block else None)
        release = self._buf[self._held : cut]
        self._held = cut
        self._trim()
        return Screened(release=release)

    def _check(self, window: str) -> str | None:
        try:
            return self._find(window)
        except TextTooLong:
            return ""  # fail-closed: never released unchecked

    def _trim(self) -> None:
        """Drop text the next check need not re-read, keeping the window from a word start."""
        target = self._held - self._overlap
        if target <= 0:
            return
        floor = max(0, target - MAX_WORD_CHARS)
        start = next(
            (i + 1 for i in range(target - 1, floor - 1, -1) if is_boundary(self._buf[i])), floor
        )
        self._buf = self._buf[start:]
        self._held -= start


@functools.lru_cache(maxsize=4096)
def is_boundary(char: str) -> bool:
    """A word or phrase boundary: whitespace or punctuation that normalization keeps as a
    non-word character ("@" and "$" are leetspeak letters, "_" joins words in the matcher's
    regex, so neither is a boundary)."""
    if char.isspace():
        return True
    if not unicodedata.category(char).startswith("P"):
        return False
    # One character is far inside normalize's growth allowance, so this never raises.
    return _WORD_CHAR.search(normalize(char)) is None
