"""Loading the safety word lists from disk: one folder per language, one file per level.

`workflows/safety/<lang>/<level>.txt`. Every language folder (a two- or three-letter code:
`de`, `en`, `tr`, ...) holds a file for each level; `de` and `en` must exist. A level's list
is the union of its files in every language, because a student may write in any language
whatever the page's language is: an English word is blocked in a German class too. Then each
level is merged with the levels it includes ("kids" = kids + youth + adult). Used by the
catalog at start-up; a broken or missing file raises `WordListFileError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from server.engine.safety_words import WordList, WordListError

#: Languages whose lists must exist (the languages the students write).
REQUIRED_LANGUAGES = ("de", "en")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class WordListFileError(ValueError):
    """A word list file is missing, unreadable or invalid; the message names the file."""


def languages(folder: Path) -> list[str]:
    """The language codes with a folder under `folder`, the required ones always included."""
    found = set(REQUIRED_LANGUAGES)
    if folder.is_dir():
        found |= {p.name for p in folder.iterdir() if p.is_dir() and _LANGUAGE.fullmatch(p.name)}
    return sorted(found)


def _read(path: Path, shown: str) -> WordList:
    try:
        return WordList.from_text(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WordListFileError(f"{shown}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WordListFileError(f"{shown}: cannot read: {exc}") from None
    except WordListError as exc:
        raise WordListFileError(f"{shown}: {exc}") from None


def _level_list(folder: Path, level: str, show: Callable[[Path], str]) -> WordList:
    words = WordList.from_entries(())
    for language in languages(folder):
        path = folder / language / f"{level}.txt"
        words = words.merged(_read(path, show(path)))
    return words


def load_lists(
    folder: Path, includes: Mapping[str, Sequence[str]], show: Callable[[Path], str]
) -> dict[str, WordList]:
    """Every level of `includes` (level -> levels it includes), stacked; `show` names a file."""
    own = {level: _level_list(folder, level, show) for level in includes}
    stacked: dict[str, WordList] = {}
    for level, included in includes.items():
        words = own[level]
        for other in included:
            words = words.merged(own[other])
        stacked[level] = words
    return stacked
