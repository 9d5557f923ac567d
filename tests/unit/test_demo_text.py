"""The demo's stand-in model shows the product off: a few sentences per perspective in the
idea's language, and German that comes out as English, not half of each. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.engine.catalog import SafetyLevel, load_word_lists
from server.engine.safety_words import needs_translation
from server.harness.demo import DEMO_UNSAFE
from server.harness.llm_sim.demo_text import GENERIC, PERSPECTIVES, reimagine, translate

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
KIDS = load_word_lists(WORKFLOWS)[SafetyLevel.KIDS]
#: The ideas the page offers (strings-pics.js, the composer's placeholder) and a few typed ones.
GERMAN_IDEAS = {
    "ein Drache beim Picknick auf einem Hügel": "a dragon at the picnic on a hill",
    "meine Schule in hundert Jahren": "my school in a hundred years",
    "eine Katze, die eine berühmte Malerin ist": "a cat, that is a famous painter",
    "eine Stadt aus Süßigkeiten": "a city made of sweets",
    "ein roter Fuchs im Schnee": "a red fox in the snow",
    "Ein Junge fliegt in der Nacht mit einer Rakete zum Mond": (
        "A boy flies at night with a rocket to the moon"
    ),
    "zwei kleine Katzen spielen mit bunten Bällen im Garten": (
        "two small cats play with colourful balls in the garden"
    ),
}


@pytest.mark.parametrize("german", GERMAN_IDEAS)
def test_a_german_idea_comes_out_as_english(german: str) -> None:
    english = translate(german)
    assert english == GERMAN_IDEAS[german]
    assert not needs_translation(english)


@pytest.mark.parametrize("perspective", [*PERSPECTIVES, None])
def test_the_re_imagined_german_text_translates_to_its_english_twin(
    perspective: str | None,
) -> None:
    german = reimagine(perspective, "ein roter Fuchs im Schnee")
    assert needs_translation(german)
    assert german.startswith("Ein roter Fuchs im Schnee, ")
    assert translate(german) == reimagine(perspective, "a red fox in the snow")


@pytest.mark.parametrize("perspective", [*PERSPECTIVES, None])
def test_the_re_imagined_text_is_long_enough_to_watch_it_arrive(perspective: str | None) -> None:
    english = reimagine(perspective, "a red fox in the snow")
    assert english.startswith("A red fox in the snow, ")
    assert not needs_translation(english)  # stage 3 leaves English alone
    assert len(english.split()) >= (15 if perspective == "haiku" else 25)


@pytest.mark.parametrize("text", [t for pair in (*PERSPECTIVES.values(), GENERIC) for t in pair])
def test_no_demo_sentence_trips_a_safety_check(text: str) -> None:
    assert KIDS.find(text) is None
    assert not [word for word in DEMO_UNSAFE if word in text.lower()]


def test_text_with_nothing_german_comes_back_unchanged() -> None:
    english = "A lighthouse on a cliff, with seventeen moons above it."
    assert translate(english) == english
