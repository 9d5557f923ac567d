"""A downloaded picture's file name: prompt, perspective and date, safe in any header."""

from __future__ import annotations

import pytest

from server.engine.picture_names import (
    MAX_PROMPT_CHARS,
    ascii_slug,
    download_name,
    unicode_slug,
)

DEC_1 = 1_796_083_200.0  # 2026-12-01 00:00 UTC


def test_a_name_holds_prompt_perspective_and_date() -> None:
    name = download_name("Füchse im Schnee", "bauhaus", DEC_1, "png")
    assert name.ascii == "fuechse-im-schnee_bauhaus_2026-12-01.png"
    assert name.unicode == "füchse-im-schnee_bauhaus_2026-12-01.png"


def test_the_header_carries_both_names_the_unicode_one_percent_encoded() -> None:
    header = download_name("Straße", "bauhaus", DEC_1, "png").content_disposition()
    assert header == (
        'attachment; filename="strasse_bauhaus_2026-12-01.png"; '
        "filename*=UTF-8''stra%C3%9Fe_bauhaus_2026-12-01.png"
    )


def test_pictures_of_one_run_are_numbered() -> None:
    name = download_name("cat", "bauhaus", DEC_1, "webp", 2)
    assert name.ascii == "cat_bauhaus_2026-12-01-2.webp"


@pytest.mark.parametrize(
    "prompt",
    [
        '"; filename="evil.exe',
        "a\r\nSet-Cookie: x=1",
        "../../etc/passwd",
        "\u202egnp.exe",  # a right-to-left override
    ],
)
def test_nothing_but_letters_digits_and_dashes_comes_from_the_prompt(prompt: str) -> None:
    name = download_name(prompt, "bauhaus", DEC_1, "png")
    for text in (name.ascii, name.unicode):
        stem = text.removesuffix("_bauhaus_2026-12-01.png")
        assert all(c.isalnum() or c == "-" for c in stem), text
    assert name.ascii.isascii()


def test_a_prompt_with_no_letters_left_is_a_picture() -> None:
    name = download_name("!!! ???", "bauhaus", DEC_1, "png")
    assert (name.ascii, name.unicode) == ("picture_bauhaus_2026-12-01.png",) * 2


def test_a_prompt_in_another_script_keeps_its_letters_in_the_unicode_name() -> None:
    name = download_name("猫と犬", "bauhaus", DEC_1, "png")
    assert name.ascii == "picture_bauhaus_2026-12-01.png"
    assert name.unicode == "猫と犬_bauhaus_2026-12-01.png"


def test_a_long_prompt_is_cut_at_a_word_end_within_the_bound() -> None:
    prompt = "a very long prompt about a fox who walks through the snowy forest at night"
    slug = ascii_slug(prompt, MAX_PROMPT_CHARS)
    assert len(slug) <= MAX_PROMPT_CHARS
    assert prompt.replace(" ", "-").startswith(slug)
    assert not slug.endswith("-")
    assert slug == "a-very-long-prompt-about-a-fox-who-walks"


def test_one_long_word_is_cut_at_the_bound() -> None:
    assert unicode_slug("x" * 100, MAX_PROMPT_CHARS) == "x" * MAX_PROMPT_CHARS
