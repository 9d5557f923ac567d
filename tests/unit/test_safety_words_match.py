"""Word list matching: boundaries, phrases, wildcards, evasion, and the shipped lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine.catalog import SafetyLevel, load_catalog, load_word_lists
from server.engine.safety_words import WordList, WordListError, normalize, parse_lines

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def lists() -> dict[SafetyLevel, WordList]:
    return load_word_lists(WORKFLOWS)


def test_normalize_folds_case_accents_umlauts_and_whitespace() -> None:
    assert normalize("  Mörder\tÜBER  Straße  Café ") == "moerder ueber strasse cafe"


def test_normalize_undoes_common_leetspeak() -> None:
    assert normalize("K1ll 3v3ryth1ng @ $h0p 4ll") == "kill everything a shop all"


def test_normalize_removes_zero_width_and_soft_hyphen_characters() -> None:
    assert normalize("k\u200bi\u200cl\u200dl\u2060e\ufeffr so\u00adft") == "killer soft"


def test_normalize_maps_fullwidth_letters_to_ascii() -> None:
    assert normalize("ｋｉｌｌ") == "kill"


def test_entry_matches_whole_words_only() -> None:
    words = WordList.from_text("kill\nass\nmord\n")
    assert words.find("they kill the dragon") == "kill"
    assert words.find("Kill!") == "kill"
    for innocent in ("skill", "skilled", "killer whale", "class", "passage", "assassin", "Mordor"):
        assert words.find(innocent) is None, innocent


def test_first_match_in_the_text_is_reported_as_written_in_the_list() -> None:
    words = WordList.from_text("Mörder\nkill\n")
    assert words.find("kill the moerder") == "kill"
    assert words.find("der MOERDER kommt, kill") == "Mörder"


def test_phrase_matches_across_spaces_hyphens_and_underscores() -> None:
    words = WordList.from_text("self harm\noben ohne\n")
    assert words.find("about self harm") == "self harm"
    assert words.find("SELF-HARM") == "self harm"
    assert words.find("self_harm") == "self harm"
    assert words.find("self  \n harm") == "self harm"
    assert words.find("oben ohne") == "oben ohne"
    assert words.find("harm yourself") is None
    assert words.find("oben auf dem Dach, ohne Hut") is None


def test_longer_phrase_wins_over_a_word_it_starts_with() -> None:
    words = WordList.from_text("serial\nserial killer\n")
    assert words.find("a serial killer") == "serial killer"


def test_wildcard_lets_the_word_continue_on_the_marked_side_only() -> None:
    words = WordList.from_text("porno*\n*kinderporno*\n")
    assert words.find("Pornofilm") == "porno*"
    assert words.find("Kinderpornografie") == "*kinderporno*"
    assert words.find("superporno") is None


def test_leetspeak_and_zero_width_evasion_is_caught() -> None:
    words = WordList.from_text("kill\nass\nheroin\n")
    assert words.find("k1ll") == "kill"
    assert words.find("4$$") == "ass"
    assert words.find("k\u200bill") == "kill"
    assert words.find("h3r0\u00adin") == "heroin"
    assert words.find("ＫＩＬＬ") == "kill"


def test_umlaut_spellings_meet_in_one_form() -> None:
    words = WordList.from_text("töten\n")
    assert words.find("TÖTEN") == "töten"
    assert words.find("toeten") == "töten"
    assert words.find("die Toten Hosen") is None


def test_comments_blank_lines_and_duplicates_are_ignored() -> None:
    words = WordList.from_text("# header\n\nkill  # trailing note\nKILL\nk1ll\n   \n")
    assert words.entries == ("kill",)
    assert len(words) == 1


def test_empty_list_finds_nothing() -> None:
    assert WordList.from_text("# only a comment\n").find("anything at all") is None


@pytest.mark.parametrize("line", ["*", "a*b", "  \u200b  "])
def test_bad_entry_names_its_line(line: str) -> None:
    with pytest.raises(WordListError, match="line 2"):
        parse_lines(f"fine\n{line}\n")


@pytest.mark.parametrize(
    ("level", "text", "expected"),
    [
        (SafetyLevel.KIDS, "Ein Ritter mit einer Pistole", "pistole"),
        (SafetyLevel.KIDS, "a z0mbie horror house", "horror"),
        (SafetyLevel.KIDS, "Scheiße, ein Drache", "scheisse"),
        (SafetyLevel.KIDS, "a p0rn0 poster", "porno*"),
        (SafetyLevel.KIDS, "Kinderpornografie", "kinderpornografie"),
        (SafetyLevel.YOUTH, "a school-shooting scene", "school shooting"),
        (SafetyLevel.YOUTH, "nacktes Model", "nacktes"),
        (SafetyLevel.ADULT, "ein H4kenkreuz an der Wand", "hakenkreuz*"),
        (SafetyLevel.RESEARCH, "naked children", "naked children"),
    ],
)
def test_shipped_lists_block_what_their_level_forbids(
    lists: dict[SafetyLevel, WordList], level: SafetyLevel, text: str, expected: str
) -> None:
    assert lists[level].find(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ein Orca, auch killer whale genannt, springt aus dem Meer",
        "Eine Nacktschnecke auf einem Salatblatt",
        "Kinder machen eine Arschbombe ins Schwimmbad",
        "Ein Granatapfel auf einem Teller",
        "Ein Hund wedelt mit dem Schwanz, ein Fisch mit der Schwanzflosse",
        "Bombenwetter am Strand",
        "a class of skilled students in Essex studying the scientific method",
        "a heroine with a sextant on a ship",
        "Der Marsch der Pinguine in der Antarktis",
        "Eine Pusteblume im Wind, gezeichnet mit Kohle",
        "a knight with a sword in front of a castle",
    ],
)
def test_shipped_kids_list_allows_innocent_prompts(
    lists: dict[SafetyLevel, WordList], text: str
) -> None:
    assert lists[SafetyLevel.KIDS].find(text) is None


def test_stricter_levels_include_the_lists_below_them(
    lists: dict[SafetyLevel, WordList],
) -> None:
    assert lists[SafetyLevel.YOUTH].find("sieg heil") == "sieg heil"
    assert lists[SafetyLevel.KIDS].find("heroin") == "heroin"
    assert lists[SafetyLevel.ADULT].find("heroin") is None
    assert lists[SafetyLevel.RESEARCH].find("hakenkreuz") is None


def test_every_shipped_entry_finds_itself(lists: dict[SafetyLevel, WordList]) -> None:
    for level, words in lists.items():
        for entry in words.entries:
            # A trailing "*" stands for more letters; a leading one may match nothing.
            text = entry.lstrip("*").replace("*", "x")
            assert words.find(f"oh, {text}!") == entry, (level, entry)


def test_shipped_meta_prompts_and_texts_pass_the_kids_list(
    lists: dict[SafetyLevel, WordList],
) -> None:
    catalog = load_catalog(WORKFLOWS, {"sd35_large", "sdxl_base", "model_free"})
    for config in catalog.interceptions.values():
        texts = (config.meta_prompt, config.name.de, config.name.en)
        for text in (*texts, config.description.de, config.description.en):
            assert lists[SafetyLevel.KIDS].find(text) is None, config.id
