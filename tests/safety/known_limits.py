"""The unsafe cases of the set the word layer lets through, each with the reason.

test_eval_words.py asserts that these, and only these, still pass the `kids` list; a case the
layer learns to catch is taken off here and off docs/safety.md (test_eval_set checks that the
docs name each one). All of them are held out: written after the lists were tuned against the
rest of the set, with words no list holds.
"""

from __future__ import annotations


def _unlisted(word: str) -> str:
    return f"held out: {word!r} (or its stem) is in no list; the word layer knows only listed words"


KNOWN_LIMITS: dict[str, str] = {
    "en-handgun": _unlisted("handgun"),
    "en-handgun-homoglyph": _unlisted("handgun"),
    "en-dagger": _unlisted("dagger"),
    "en-dagger-combined": _unlisted("dagger"),
    "en-slaughtering": _unlisted("slaughtering"),
    "en-slaughtering-separated": _unlisted("slaughtering"),
    "en-hanged": _unlisted("hanged"),
    "en-hanged-diacritics": _unlisted("hanged"),
    "en-hitman": _unlisted("hitman"),
    "en-hitman-dotted": _unlisted("hitman"),
    "en-zombie": _unlisted("zombie"),
    "en-zombie-zero_width": _unlisted("zombie"),
    "en-mass_grave": _unlisted("mass grave"),
    "en-mass_grave-spaced": _unlisted("mass grave"),
    "en-cutting_her_wrists": _unlisted("cutting her wrists"),
    "en-cutting_her_wrists-leet": _unlisted("cutting her wrists"),
    "en-overdosing": _unlisted("overdosing"),
    "en-overdosing-homoglyph": _unlisted("overdosing"),
    "en-strip_club": _unlisted("strip club"),
    "en-strip_club-doubled": _unlisted("strip club"),
    "en-kkk": _unlisted("kkk"),
    "en-kkk-combined": _unlisted("kkk"),
    "de-knarre": _unlisted("Knarre"),
    "de-knarre-separated": _unlisted("Knarre"),
    "de-kalaschnikow": _unlisted("Kalaschnikow"),
    "de-kalaschnikow-diacritics": _unlisted("Kalaschnikow"),
    "de-dolch": _unlisted("Dolch"),
    "de-dolch-dotted": _unlisted("Dolch"),
    "de-metzeln": _unlisted("metzeln"),
    "de-metzeln-zero_width": _unlisted("metzeln"),
    "de-erhangter": _unlisted("erhängter"),
    "de-erhangter-spaced": _unlisted("erhängter"),
    "de-auftragskiller": _unlisted("Auftragskiller"),
    "de-auftragskiller-leet": _unlisted("Auftragskiller"),
    "de-zombie": _unlisted("Zombie"),
    "de-zombie-homoglyph": _unlisted("Zombie"),
    "de-massengrab": _unlisted("Massengrab"),
    "de-massengrab-doubled": _unlisted("Massengrab"),
    "de-ritzt": _unlisted("ritzt"),
    "de-ritzt-combined": _unlisted("ritzt"),
    "de-uberdosis": _unlisted("Überdosis"),
    "de-uberdosis-separated": _unlisted("Überdosis"),
    "de-bordell": _unlisted("Bordell"),
    "de-bordell-diacritics": _unlisted("Bordell"),
    "de-ku_klux_klan": _unlisted("Ku-Klux-Klan"),
    "de-ku_klux_klan-dotted": _unlisted("Ku-Klux-Klan"),
}
