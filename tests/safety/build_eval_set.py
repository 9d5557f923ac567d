"""Writes eval_set.jsonl from the base prompts and the tricks. Run after changing either.

Run: .venv/bin/python -m tests.safety.build_eval_set
The suite checks that the file is what this builds (test_eval_set.py), so the data and its
sources cannot drift apart. Known limits (unsafe cases the word layer cannot catch,
known_limits.py) are carried into the file with their reason.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

from server.engine.catalog import SafetyLevel
from tests.safety import sources_harmless, sources_unsafe
from tests.safety.eval_set import ALLOW, BLOCK, PATH
from tests.safety.known_limits import KNOWN_LIMITS
from tests.safety.tricks import TRICKS

#: The tiers each level blocks: the levels stack, research blocks only its own.
BLOCKED_TIERS: dict[SafetyLevel, frozenset[str]] = {
    SafetyLevel.KIDS: frozenset({"kids", "youth", "adult", "research"}),
    SafetyLevel.YOUTH: frozenset({"youth", "adult", "research"}),
    SafetyLevel.ADULT: frozenset({"adult", "research"}),
    SafetyLevel.RESEARCH: frozenset({"research"}),
}
#: How many tricks each unsafe base prompt gets (rotating through all of them).
TRICKS_PER_UNSAFE = 4
TRICKS_PER_HARMLESS = 2


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore")
    slug = "".join(ch if ch.isalnum() else "_" for ch in ascii_text.decode())
    # Words in other scripts have no ASCII letters: their code points name them instead.
    return slug.strip("_") or "u" + "".join(f"{ord(ch):x}" for ch in text[:3])


def _expect(tier: str | None) -> dict[str, str]:
    return {level.value: BLOCK if tier in BLOCKED_TIERS[level] else ALLOW for level in SafetyLevel}


def _case(row_id: str, text: str, base: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    lang, category, tier, word, plain = base
    return {
        "id": row_id,
        "text": text,
        "lang": lang,
        "category": category,
        "trick": extra.get("trick", "none"),
        "base": plain,
        "word": word,
        "expect": _expect(tier or None),
        "promised": extra.get("promised", False),
        "held_out": extra.get("held_out", False),
        "known_limit": KNOWN_LIMITS.get(row_id),
    }


def _variants(base: tuple[str, ...], start: int, count: int) -> Iterator[tuple[str, str]]:
    """(trick, text) for `count` tricks from `start` on that change the word."""
    word, plain = base[3], base[4]
    names = list(TRICKS)
    found = 0
    for step in range(len(names)):
        name = names[(start + step) % len(names)]
        disguised = TRICKS[name](word, start + step)
        if disguised != word and found < count:
            found += 1
            yield name, plain.replace(word, disguised, 1)


def _with_tricks(
    base: tuple[str, ...], number: int, count: int, **extra: Any
) -> Iterator[dict[str, Any]]:
    stem = f"{base[0]}-{_slug(base[3])}"
    yield _case(stem, base[4], base, **extra)
    for trick, text in _variants(base, number * 4, count):
        yield _case(f"{stem}-{trick}", text, base, trick=trick, **extra)


def _harmless(row: tuple[str, str, str, str]) -> tuple[str, ...]:
    lang, category, word, text = row
    return (lang, category, "", word, text)


def build() -> list[dict[str, Any]]:
    """Every case, in a stable order: unsafe with tricks, inflections, held out, languages,
    harmless."""
    cases: list[dict[str, Any]] = []
    for number, row in enumerate(sources_unsafe.UNSAFE):
        cases.extend(_with_tricks(row, number, TRICKS_PER_UNSAFE))
    for row in sources_unsafe.INFLECTED:
        cases.append(_case(f"{row[0]}-{_slug(row[3])}-inflection", row[4], row, trick="inflection"))
    for number, row in enumerate(sources_unsafe.HELD_OUT):
        cases.extend(_with_tricks(row, number, 1, held_out=True))
    for row in sources_unsafe.FOREIGN:
        cases.append(_case(f"{row[0]}-{_slug(row[3])}", row[4], row, trick="other_language"))
    for number, harmless in enumerate(sources_harmless.EVERYDAY + sources_harmless.TRICKY):
        promised = harmless[2] in sources_harmless.PROMISED
        count = TRICKS_PER_HARMLESS if harmless[1] == "tricky" or number % 2 else 0
        cases.extend(_with_tricks(_harmless(harmless), number, count, promised=promised))
    for number, harmless in enumerate(sources_harmless.OTHER):
        base = _harmless(harmless)
        cases.append(_case(f"{base[0]}-{number}", base[4], base, trick="other_script"))
    return cases


def render(cases: list[dict[str, Any]]) -> str:
    """The file's text: one JSON object per line, non-ASCII kept readable."""
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


def main() -> None:
    cases = build()
    ids = [case["id"] for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"duplicate ids: {duplicates}")
    PATH.write_text(render(cases), encoding="utf-8")
    print(f"{len(cases)} cases written to {PATH}")


if __name__ == "__main__":
    main()
