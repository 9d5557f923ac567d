"""Pure helpers for the safety stages: text normalization, word lists, language (LLM verdicts
are read by `safety_verdict.py`).

Everything here is deterministic and free of I/O so the stages stay thin and every rule is
unit-testable. Matching works on *normalized* text (server/engine/safety_normalize.py), whose
cost is bounded, in each of its spelling forms (server/engine/safety_spelling.py: at most four,
one when nothing is spelled out); the matcher costs about one regex step per character and
entry depth, since every letter run in a pattern is possessive and at most three long.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Re-exported: callers match, and catch a refused text, through this module.
from server.engine.safety_normalize import TextTooLong as TextTooLong
from server.engine.safety_normalize import normalize as normalize
from server.engine.safety_spelling import MAX_RUN, spellings


class WordListError(ValueError):
    """A word list line that cannot become a pattern (names the line number)."""


# Between the words of a phrase: nothing, or spaces, hyphens, underscores ("self harm",
# "self-harm", "selfharm"; "s e l f - h a r m" is joined to the last).
_SEP = r"[\s\-_]*+"
_END = r"(?!\w)"
_END_WILD = r"\w*(?!\w)"


@dataclass(frozen=True)
class _Entry:
    """A list entry as written, and how to tell that a match was this entry."""

    raw: str
    body: str
    #: A leading "*": the entry may begin inside a word.
    inner: bool
    #: The entry from its first literal character to its end, matched against a hit.
    core: re.Pattern[str]


@dataclass(frozen=True)
class WordList:
    """Entries matched on word boundaries in normalized text, compiled into one regex.

    An entry is a word or a phrase. A `*` at its start or end lets the word continue
    ("porno*" also finds "pornofilm"); without it "schwanz" does not find "schwanzflosse".
    Words inside a phrase may be separated by spaces, hyphens or underscores in the text, or
    written together.
    """

    entries: tuple[str, ...]
    pattern: re.Pattern[str] | None
    _parsed: tuple[_Entry, ...]
    #: Harmless phrases ("!killer whale" in a file): their words are never a hit.
    allowed: tuple[str, ...] = ()
    _allow: re.Pattern[str] | None = None

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> WordList:
        """Build a list from raw entries; duplicates (after normalization) are dropped.

        An entry starting with "!" is an allowed phrase, not a blocked one.
        """
        blocked: dict[str, str] = {}
        allowed: dict[str, str] = {}
        for raw in (entry.strip() for entry in entries):
            target, entry = (allowed, raw[1:].strip()) if raw.startswith("!") else (blocked, raw)
            target.setdefault(_entry_key(entry), entry)
        parsed = tuple(_parse_entry(raw, body) for body, raw in blocked.items())
        allow = tuple(_parse_entry(raw, body) for body, raw in allowed.items())
        return cls(
            entries=tuple(blocked.values()),
            pattern=_compile(parsed),
            _parsed=parsed,
            allowed=tuple(allowed.values()),
            _allow=_compile(allow),
        )

    @classmethod
    def from_text(cls, text: str) -> WordList:
        """One entry per line; blank lines and `#` comments (whole line or trailing) ignored."""
        return cls.from_entries(parse_lines(text))

    def merged(self, other: WordList) -> WordList:
        """A list holding the entries (and allowed phrases) of both."""
        allowed = (f"!{phrase}" for phrase in (*self.allowed, *other.allowed))
        return WordList.from_entries((*self.entries, *other.entries, *allowed))

    def find(self, text: str) -> str | None:
        """The first entry found in `text` (as written in the list), or None."""
        if self.pattern is None:
            return None
        forms = spellings(normalize(text))
        if self._allow is not None:
            # Blanked, not deleted: the words either side stay apart.
            forms = tuple(self._allow.sub(" ", form) for form in forms)
        match = _first_match(self.pattern, forms)
        if match is None:
            return None
        hit, inner = match.group(0), match.lastgroup == "inner"
        # Longest first, so a phrase is reported rather than a word it starts with.
        candidates = sorted(self._parsed, key=lambda entry: -len(entry.body))
        found = (e for e in candidates if e.inner == inner and e.core.fullmatch(hit))
        return next((entry.raw for entry in found), hit)

    def __len__(self) -> int:
        return len(self.entries)


def parse_lines(text: str) -> list[str]:
    """The entries of a word list file; raises WordListError naming the bad line."""
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            _entry_key(entry.removeprefix("!"))
        except WordListError as exc:
            raise WordListError(f"line {number}: {exc}") from None
        found.append(entry)
    return found


def _entry_key(raw: str) -> str:
    body = normalize(raw.strip())
    if not re.sub(r"[\s*]", "", body):
        raise WordListError(f"entry {raw.strip()!r} is empty after normalization")
    if "*" in body.strip("*"):
        raise WordListError(f"entry {raw.strip()!r}: '*' is only allowed at the start or end")
    return body


def _first_match(pattern: re.Pattern[str], forms: Iterable[str]) -> re.Match[str] | None:
    return next((m for m in map(pattern.search, forms) if m is not None), None)


def _run_atom(char: str, count: int) -> str:
    """One run of a character: a letter stretched up to MAX_RUN copies still matches."""
    if not char.isalpha():
        return re.escape(char) * count
    return f"{re.escape(char)}{{{min(count, MAX_RUN)},{MAX_RUN}}}+"


def _word_atoms(word: str) -> list[str]:
    return [_run_atom(char, len(list(run))) for char, run in itertools.groupby(word)]


def _atoms(body: str) -> list[str]:
    """The entry as regex pieces, one per run of a character, ending in its word-end condition.

    Possessive runs (`l{2,3}+`) never backtrack, so each piece costs at most MAX_RUN steps.
    """
    atoms: list[str] = []
    for number, word in enumerate(body.strip("*").split()):
        if number:
            atoms.append(_SEP)
        atoms.extend(_word_atoms(word))
    atoms.append(_END_WILD if body.endswith("*") else _END)
    return atoms


def _parse_entry(raw: str, body: str) -> _Entry:
    core = "".join(_atoms(body)[:-1]) + (r"\w*" if body.endswith("*") else "")
    return _Entry(raw=raw, body=body, inner=body.startswith("*"), core=re.compile(core))


_Trie = dict[str, "_Trie"]


def _trie_regex(node: _Trie) -> str:
    # Continuations before word ends: the longer entry wins where both would match.
    atoms = sorted(node, key=lambda atom: atom in (_END, _END_WILD))
    branches = [atom + _trie_regex(node[atom]) for atom in atoms]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _branch(entries: Iterable[_Entry]) -> str | None:
    # A trie, not a flat alternation: Python's re tries alternatives one by one, so a flat
    # list costs (entries x word starts); the trie costs about one step per character.
    root: _Trie = {}
    for entry in entries:
        node = root
        for atom in _atoms(entry.body):
            node = node.setdefault(atom, {})
    return _trie_regex(root) if root else None


def _compile(entries: tuple[_Entry, ...]) -> re.Pattern[str] | None:
    plain = _branch(e for e in entries if not e.inner)
    inner = _branch(e for e in entries if e.inner)
    branches = []
    if plain is not None:
        branches.append(rf"(?P<plain>(?<!\w){plain})")
    if inner is not None:
        branches.append(rf"(?P<inner>{inner})")
    return re.compile("|".join(branches)) if branches else None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that are frequent in German (or other languages the classes write in) and rare as
# English words. Ambiguous ones ("die", "was", "also", "man", "will", "hat", "war", "so",
# "an", "in", "am") are left out on purpose.
_FOREIGN_STOPWORDS = _words(
    """
    der das den dem des ein eine einen einem einer eines und oder aber nicht kein keine
    ist sind bin bist sein seine ihre ihr ich du er sie wir mit auf fuer ueber unter
    von vom zum zur im ins aus bei nach vor hinter neben zwischen wie wo wer warum sehr
    noch nur schon ganz viele mein meine dein deine dieser diese dieses welche
    auch dass wenn weil mit ohne gegen durch um bis seit zwei drei vier fuenf
    le les une des est avec dans pour sur el los las una con por para que
    il della delle uno bir ile
    """
)
_ENGLISH_STOPWORDS = _words(
    """
    the a an and or but not no is are was were be been of with without on in at by for
    from to into over under my your his her its our their this that these those who
    what where which very some many two three four five it he she we they i you
    """
)
_WORD = re.compile(r"[^\W\d_]+")


def needs_translation(text: str) -> bool:
    """True when `text` looks non-English, so stage 3 should translate it.

    Heuristic, biased towards translating (a needless translation costs one LLM call; a
    missed one sends German to an English-only image model): any letter outside ASCII
    (umlauts, ß, accents, other scripts) means True; otherwise German and a few other
    languages' stopwords are counted against English ones. Limits: a short German prompt
    with no stopword and no umlaut ("Katze Mond Rakete") reads as English, and English
    with a loanword such as "café" is sent for translation (which returns it unchanged).
    """
    words = _WORD.findall(text.casefold())
    if any(not word.isascii() for word in words):
        return True
    foreign = sum(word in _FOREIGN_STOPWORDS for word in words)
    english = sum(word in _ENGLISH_STOPWORDS for word in words)
    return foreign > 0 and foreign >= english
