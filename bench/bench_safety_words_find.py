"""How long the stage 1 word-list check and the helpers take on typical prompts.

Run: .venv/bin/python bench/bench_safety_words_find.py
Prints figures; asserts nothing. The second table is the cost per input character of the kids
list's `find` on normal, expanding and adversarial texts at two sizes: linear work shows as
the same µs/char at both; a refused text (TextTooLong) is timed up to its refusal.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from server.engine.catalog import SafetyLevel, load_catalog
from server.engine.safety_verdict import parse_verdict
from server.engine.safety_words import (
    TextTooLong,
    WordList,
    needs_translation,
    normalize,
)

ROOT = Path(__file__).resolve().parents[1] / "workflows"
PROMPTS = [
    "Ein Drache fliegt über eine Stadt aus Glas, im Sonnenuntergang, mit vielen Vögeln",
    "a knight with a sword in front of a castle, watercolour, soft light " * 4,
    "K1ll3r wh4l3 jumping out of the sea next to a lighthouse",
    "Eine Nacktschnecke auf einem Salatblatt, Makrofoto, Regentropfen " * 8,
]


def per_call_us(fn: Callable[[str], object], runs: int) -> float:
    start = time.perf_counter()
    for i in range(runs):
        fn(PROMPTS[i % len(PROMPTS)])
    return (time.perf_counter() - start) / runs * 1e6


#: Repeated to the size measured; a name per kind of input.
SHAPES = {
    "normal prompt": "a knight with a sword in front of a castle, watercolour ",
    "umlauts": "äöü",
    "expanding U+FDFA": "\ufdfa",
    "accent stack (2 marks)": "e\u0301\u0316",
    "separator run": "-_",
    "repeated letter": "a",
    "near matches": "kil kille killa ",
}


def find_us_per_char(words: WordList, text: str, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        with contextlib.suppress(TextTooLong):
            words.find(text)
    return (time.perf_counter() - start) / runs / len(text) * 1e6


def print_per_char(words: WordList) -> None:
    print("kids find, us per input character (1,000 / 2,000 characters):")
    for name, unit in SHAPES.items():
        figures = [find_us_per_char(words, (unit * size)[:size], runs=50) for size in (1000, 2000)]
        print(f"  {name:24} {figures[0]:.3f} / {figures[1]:.3f}")


def main() -> None:
    start = time.perf_counter()
    catalog = load_catalog(ROOT, {"sd35_large", "sdxl_base", "model_free"})
    print(f"load_catalog: {(time.perf_counter() - start) * 1e3:.1f} ms")
    kids = catalog.word_lists[SafetyLevel.KIDS]
    print(f"kids list entries (merged): {len(kids)}")
    runs = 20_000
    print(f"normalize: {per_call_us(normalize, runs):.1f} us/prompt")
    print(f"kids find: {per_call_us(kids.find, runs):.1f} us/prompt")
    print(f"needs_translation: {per_call_us(needs_translation, runs):.1f} us/prompt")
    print(f"parse_verdict: {per_call_us(parse_verdict, runs):.1f} us/answer")
    print_per_char(kids)


if __name__ == "__main__":
    main()
