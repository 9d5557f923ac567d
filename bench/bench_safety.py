"""The word layer against the evaluation set (tests/safety/), and the live screen's cost.

    .venv/bin/python bench/bench_safety.py [--tokens 4000] [--piece 4]

Prints figures, asserts nothing (tests/safety/test_eval_words.py asserts). For every level:
recall (unsafe prompts the level must block that its stacked word list blocks) and the
false-positive rate (harmless prompts it blocks), overall and per trick, judged exactly as
stage 1's `check_words` judges (a text too costly to normalize blocks). The lists were tuned
against the set, so the held-out prompts (written afterwards) get a recall line of their own.
Then the live screen of stages 2 and 3 (server/engine/stream_screen.py, built as the stage
builds it): what it costs per streamed piece at the default tail (µs, mean and p99), and its
recall and false positives when each prompt of the set arrives in small pieces.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from server.engine.catalog import SafetyLevel, load_catalog
from server.engine.safety_words import WordList
from server.engine.stream_screen import StreamScreen, overlap_for, phrase_starts
from server.settings import Settings
from tests.safety.eval_set import Case, load
from tests.safety.words_layer import blocks

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = {"sd35_large", "sdxl_base", "model_free"}
#: A harmless answer of the kind stage 2 streams, repeated to the length measured.
ANSWER = (
    "A friendly dragon with green scales glides over a city of glass at sunset, while "
    "children wave from the rooftops and a lighthouse blinks across the bay. "
)
Tally = dict[str, list[int]]


def machine() -> str:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def rate(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f} % ({hits}/{total})" if total else "      -"


def tally(cases: Iterable[Case], level: SafetyLevel, decide: Callable[[str], bool]) -> Tally:
    """Per trick: [unsafe blocked, unsafe, harmless blocked, harmless] at `level`."""
    counts: Tally = defaultdict(lambda: [0, 0, 0, 0])
    for case in cases:
        blocked = decide(case.text)
        column = 0 if case.blocks_at(level) else 2
        for key in (case.trick, "all"):
            counts[key][column] += blocked
            counts[key][column + 1] += 1
    return counts


def print_levels(tallies: dict[SafetyLevel, Tally]) -> None:
    print(f"{'level':<10} {'recall':>22} {'false positives':>22}")
    for level, counts in tallies.items():
        hit, unsafe, flagged, harmless = counts["all"]
        print(f"{level.value:<10} {rate(hit, unsafe):>22} {rate(flagged, harmless):>22}")


def print_tricks(tallies: dict[SafetyLevel, Tally]) -> None:
    tricks = sorted({trick for counts in tallies.values() for trick in counts} - {"all"})
    for title, column in (("recall", 0), ("false positives", 2)):
        print(f"\n{title} per trick")
        print(f"{'trick':<15}" + "".join(f"{level.value:>22}" for level in tallies))
        for trick in tricks:
            cells = [tallies[level][trick] for level in tallies]
            row = "".join(f"{rate(c[column], c[column + 1]):>22}" for c in cells)
            print(f"{trick:<15}{row}")


def print_held_out(cases: list[Case], lists: dict[SafetyLevel, WordList]) -> None:
    """Recall on the prompts written after the lists were tuned (not in the tables above)."""
    print("\nheld out (unsafe prompts the lists were not tuned against): recall")
    for level in SafetyLevel:
        hit, unsafe, _, _ = tally(cases, level, functools.partial(blocks, lists[level]))["all"]
        print(f"{level.value:<10} {rate(hit, unsafe):>22}")


def print_markdown(tallies: dict[SafetyLevel, Tally]) -> None:
    """The tables docs/safety.md shows: per trick, recall and false positives per level."""
    tricks = ["all", *sorted({t for counts in tallies.values() for t in counts} - {"all"})]
    header = " | ".join(f"{level.value} recall | {level.value} false pos." for level in tallies)
    print(f"\n| trick | {header} |\n|---" + "|---" * 2 * len(tallies) + "|")
    for trick in tricks:
        cells = [tallies[level][trick] for level in tallies]
        row = " | ".join(f"{md(c[0], c[1])} | {md(c[2], c[3])}" for c in cells)
        print(f"| {trick} | {row} |")


def md(hits: int, total: int) -> str:
    return f"{100 * hits / total:.0f} % ({hits}/{total})" if total else "–"


def print_misses(cases: list[Case], words: WordList) -> None:
    print("\nunsafe at kids, not blocked by the word layer:")
    for case in cases:
        if case.unsafe and not blocks(words, case.text):
            limit = " (known limit)" if case.known_limit else ""
            print(f"  {case.id:<34} {case.text!r}{limit}")
    print("harmless, blocked at kids:")
    for case in cases:
        if not case.unsafe and blocks(words, case.text):
            print(f"  {case.id:<34} {case.text!r}")


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def new_screen(words: WordList) -> StreamScreen:
    """A screen built as stage 2's `ScreenedText` builds it, at the default tail."""
    tail = Settings().screen_tail_chars
    return StreamScreen(words.find, tail, overlap_for(words), phrase_starts(words))


def screen_cost(words: WordList, tokens: int, size: int) -> None:
    screen = new_screen(words)
    text = (ANSWER * (tokens * size // len(ANSWER) + 1))[: tokens * size]
    times: list[float] = []
    for piece in pieces(text, size):
        start = time.perf_counter_ns()
        screen.feed(piece)
        times.append((time.perf_counter_ns() - start) / 1000)
    p99 = statistics.quantiles(times, n=100)[98]
    tail, overlap = Settings().screen_tail_chars, overlap_for(words)
    print(f"\nscreen (kids list, tail {tail}, overlap {overlap} chars): {tokens} pieces")
    print(f"  of {size} characters: mean {statistics.fmean(times):.1f} µs, p99 {p99:.1f} µs")


def screened(words: WordList, text: str, size: int) -> bool:
    """Whether the screen trips on `text` streamed in pieces (with its final whole check)."""
    screen = new_screen(words)
    if any(screen.feed(piece).hit is not None for piece in pieces(text, size)):
        return True
    return screen.finish(text).hit is not None


def screened_live(words: WordList, text: str, size: int) -> bool:
    """Whether the screen trips while the pieces arrive (a last space ends the last word)."""
    screen = new_screen(words)
    return any(screen.feed(piece).hit is not None for piece in [*pieces(text, size), " "])


def screen_recall(cases: list[Case], words: WordList, size: int) -> None:
    counts = tally(cases, SafetyLevel.KIDS, lambda text: screened(words, text, size))
    live = tally(cases, SafetyLevel.KIDS, lambda text: screened_live(words, text, size))
    hit, unsafe, flagged, harmless = counts["all"]
    print(f"  streamed in {size}-character pieces at kids: recall {rate(hit, unsafe)},")
    print(f"  false positives {rate(flagged, harmless)}; before `finish`: recall ", end="")
    print(rate(live["all"][0], live["all"][1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=4000, help="pieces the screen is fed")
    parser.add_argument("--piece", type=int, default=4, help="characters per streamed piece")
    parser.add_argument("--markdown", action="store_true", help="also print docs/safety.md's table")
    args = parser.parse_args()
    lists = load_catalog(ROOT / "workflows", OUTPUTS).word_lists
    every = load()
    cases = [case for case in every if not case.held_out]
    print(f"machine: {machine()}; {len(every)} cases, {len(every) - len(cases)} held out\n")
    tallies = {
        level: tally(cases, level, functools.partial(blocks, lists[level])) for level in SafetyLevel
    }
    print_levels(tallies)
    print_tricks(tallies)
    print_held_out([case for case in every if case.held_out], lists)
    print_misses(every, lists[SafetyLevel.KIDS])
    if args.markdown:
        print_markdown(tallies)
    screen_cost(lists[SafetyLevel.KIDS], args.tokens, args.piece)
    screen_recall(cases, lists[SafetyLevel.KIDS], args.piece)


if __name__ == "__main__":
    main()
