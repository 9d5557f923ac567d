"""What the stage-2 word screen adds per token: latency (p50/p99) and CPU, at the default tail
and hold, with the shipped `kids` list (the longest). Prints figures; asserts nothing.

A token's added latency is the time from its arrival until its last character is released:
the wait for the next word boundary (the next token, or `screen_hold_ms` of quiet, whichever
comes first) plus the screen's own CPU. Arrivals follow a clock of their own (steady, or with
exponential gaps of the same mean: a model that stalls now and then); the CPU of every
`feed`/`flush`/`finish` is measured for real and added. Tokenizations: the simulators' word
tokens, BPE-like 3-character pieces, and one character per token (hostile).

Run: .venv/bin/python -m bench.bench_screen
"""

from __future__ import annotations

import functools
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from server.engine.catalog import SafetyLevel, load_word_lists
from server.engine.safety_words import WordList
from server.engine.stream_screen import Screened, StreamScreen, overlap_for
from server.harness.llm_sim.common import tokenize
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "A quiet harbour at dawn, painted in the manner of the Bauhaus: primary colours, clean "
    "geometric boats, a red circle for the sun and long blue lines for the water. Ein kleiner "
    "Fuchs sitzt auf der Mauer und schaut den Möwen zu, während die Fischer ihre Netze "
    "flicken; über allem liegt ein weiches, goldenes Licht. "
) * 4
STREAMS = 20
Tokenizer = Callable[[str], list[str]]


def pieces(size: int) -> Tokenizer:
    return lambda text: [text[i : i + size] for i in range(0, len(text), size)]


def arrivals(count: int, rate: float, jitter: bool, rng: random.Random) -> list[float]:
    gaps = [rng.expovariate(rate) if jitter else 1 / rate for _ in range(count)]
    return [sum(gaps[: i + 1]) for i in range(count)]


class Timed:
    """A screen whose every step is timed; releases are attributed to the tokens they end."""

    def __init__(self, words: WordList, tail: int) -> None:
        self.screen = StreamScreen(words.find, tail, overlap_for(words))
        self.cpu: list[float] = []
        self.finish = 0.0

    def step(self, call: Callable[[], Screened]) -> tuple[Screened, float]:
        start = time.perf_counter()
        result = call()
        spent = time.perf_counter() - start
        self.cpu.append(spent)
        return result, spent


def one_stream(words: WordList, tokens: list[str], times: list[float]) -> tuple[list[float], Timed]:
    """Per-token latencies and per-step CPU of one stream through the screen."""
    settings = Settings()
    hold = settings.screen_hold_ms / 1000
    timed = Timed(words, settings.screen_tail_chars)
    latencies: list[float] = []
    #: (end position in the text, arrival) of tokens not yet wholly released.
    waiting: list[tuple[int, float]] = []
    received = released = 0

    def settle(at: float, step: Screened) -> None:
        nonlocal released
        released += len(step.release)
        while waiting and waiting[0][0] <= released:
            latencies.append(at - waiting.pop(0)[1])

    last = 0.0
    for token, arrived in zip(tokens, times, strict=True):
        if waiting and arrived - last >= hold:  # the hold clock fired before this token
            step, spent = timed.step(timed.screen.flush)
            settle(last + hold + spent, step)
        received += len(token)
        waiting.append((received, arrived))
        step, spent = timed.step(functools.partial(timed.screen.feed, token))
        settle(arrived + spent, step)
        last = arrived
    start = time.perf_counter()
    step = timed.screen.finish("".join(tokens))  # the whole-answer check, once: timed apart
    settle(last + time.perf_counter() - start, step)
    timed.finish = time.perf_counter() - start
    assert not waiting, "every token was released"
    return latencies, timed


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, words: WordList, tokenizer: Tokenizer, rate: float, jitter: bool) -> None:
    rng = random.Random(16)
    latencies: list[float] = []
    cpu: list[float] = []
    finishes: list[float] = []
    tokens = tokenizer(TEXT)
    for _ in range(STREAMS):
        lat, timed = one_stream(words, tokens, arrivals(len(tokens), rate, jitter, rng))
        latencies += lat
        cpu += timed.cpu
        finishes.append(timed.finish)
    per_token = (sum(cpu) + sum(finishes)) / (len(tokens) * STREAMS)
    kind = "exp. gaps" if jitter else "steady"
    print(
        f"{name:<14} {rate:>5.0f} tok/s {kind:<9} latency p50 {quantile(latencies, 0.5) * 1e3:6.1f}"
        f" ms  p99 {quantile(latencies, 0.99) * 1e3:6.1f} ms | CPU per token {per_token * 1e6:5.1f}"
        f" µs (step p99 {quantile(cpu, 0.99) * 1e6:4.0f} µs, finish"
        f" {statistics.fmean(finishes) * 1e3:.1f} ms)"
    )


def main() -> None:
    words = load_word_lists(ROOT / "workflows")[SafetyLevel("kids")]
    settings = Settings()
    print(
        f"kids list: {len(words)} entries, overlap {overlap_for(words)} chars, tail "
        f"{settings.screen_tail_chars} chars, hold {settings.screen_hold_ms} ms; "
        f"text {len(TEXT)} chars; {STREAMS} streams per line"
    )
    for name, tokenizer in (("word tokens", tokenize), ("3-char pieces", pieces(3))):
        for rate in (20.0, 50.0, 100.0):
            for jitter in (False, True):
                report(name, words, tokenizer, rate, jitter)
    report("1 char/token", words, pieces(1), 100.0, False)
    report("1 char/token", words, pieces(1), 1000.0, False)


if __name__ == "__main__":
    main()
