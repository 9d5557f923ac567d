"""The word list files: one folder per language, a level's list the union of its languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine.safety_lists import (
    REQUIRED_LANGUAGES,
    WordListFileError,
    languages,
    load_lists,
)

LEVELS = {"kids": ["youth"], "youth": []}
SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "safety"


def write(folder: Path, language: str, level: str, text: str) -> None:
    (folder / language).mkdir(parents=True, exist_ok=True)
    (folder / language / f"{level}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "safety"
    for language in REQUIRED_LANGUAGES:
        for level in LEVELS:
            write(root, language, level, "# nothing\n")
    return root


def load(folder: Path) -> dict[str, list[str]]:
    lists = load_lists(folder, LEVELS, lambda path: path.relative_to(folder).as_posix())
    return {level: sorted(words.entries) for level, words in lists.items()}


def test_a_level_is_the_union_of_its_languages_stacked_on_the_levels_it_includes(
    folder: Path,
) -> None:
    write(folder, "de", "kids", "pistole\n")
    write(folder, "en", "kids", "gun\n")
    write(folder, "en", "youth", "gore\n")
    assert load(folder) == {"kids": ["gore", "gun", "pistole"], "youth": ["gore"]}


def test_a_new_language_folder_is_picked_up(folder: Path) -> None:
    write(folder, "tr", "kids", "silah\n")
    write(folder, "tr", "youth", "intihar\n")
    assert load(folder)["kids"] == ["intihar", "silah"]


def test_folders_that_are_no_language_code_are_ignored(folder: Path) -> None:
    (folder / "drafts").mkdir()
    (folder / "README.md").write_text("notes", encoding="utf-8")
    assert languages(folder) == ["de", "en"]


def test_a_missing_file_of_a_language_is_named(folder: Path) -> None:
    write(folder, "tr", "kids", "silah\n")
    with pytest.raises(WordListFileError, match=r"^tr/youth\.txt: file is missing$"):
        load(folder)


def test_a_bad_entry_names_file_and_line(folder: Path) -> None:
    write(folder, "en", "youth", "fine\nba*d\n")
    with pytest.raises(WordListFileError, match=r"^en/youth\.txt: line 2: "):
        load(folder)


def test_the_shipped_lists_have_every_level_in_every_language() -> None:
    found = languages(SHIPPED)
    assert {"de", "en", "tr"} <= set(found)
    for language in found:
        names = {path.stem for path in (SHIPPED / language).glob("*.txt")}
        assert names == {"kids", "youth", "adult", "research"}, language
