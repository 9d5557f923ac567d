"""How good is the whole-run estimate (`queue.run_eta`) when a class presses "go" together?

The server with its demo backends at demo speed (two LLM slots, one picture slot of ~2.4 s)
on a real port; two runs measure the times first, then `--runs` runs start at once. For every
`queue` event with a `run_eta`, the estimate is compared with the time the run really still
took; "changes" counts the told numbers that moved 5 s or more from the page's countdown.

Run: .venv/bin/python -m bench.bench_whole_eta [--runs 10]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from server.app import create_app
from server.harness.client import AtelierClient
from server.harness.demo import DemoSpeed
from server.settings import Settings
from server.wiring import DemoOptions

PROMPTS = ("ein roter Fuchs im Schnee", "a lighthouse on a cliff", "eine Stadt aus Süßigkeiten")


@dataclass
class Told:
    """One run: when it was accepted and ended, and each (time, run_eta) it was told."""

    start: float = 0.0
    end: float = 0.0
    estimates: list[tuple[float, float]] = field(default_factory=list)


async def one_run(url: str, prompt: str) -> Told:
    client = AtelierClient(url)
    await client.connect()
    await client.send({"type": "run.start", "prompt": prompt, "interception": "bauhaus"})
    accepted = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"))
    if accepted["type"] != "run.accepted":
        raise RuntimeError(f"refused: {accepted}")
    run, told = accepted["run"], Told(start=time.monotonic())
    while True:
        message = await client.recv(timeout=180)
        if message.get("run") != run:
            continue
        if message["type"] == "queue" and message.get("run_eta") is not None:
            told.estimates.append((time.monotonic(), float(message["run_eta"])))
        if message["type"] == "run.done":
            told.end = time.monotonic()
            break
    await client.close()
    return told


def report(runs: list[Told]) -> None:
    errors = [e - (r.end - t) for r in runs for t, e in r.estimates]
    first = [
        (r.estimates[0][1] - (r.end - r.estimates[0][0]), r.end - r.estimates[0][0])
        for r in runs
        if r.estimates
    ]
    changes = sum(
        abs(b - (a - (tb - ta))) >= 5
        for r in runs
        for (ta, a), (tb, b) in zip(r.estimates, r.estimates[1:], strict=False)
    )
    took = [r.end - r.start for r in runs]
    print(f"{len(runs)} runs at once, {len(first)} told a whole-run estimate;", end=" ")
    print(f"took {min(took):.1f}-{max(took):.1f} s")
    print("first told, estimate minus what was left (s) / what was left (s):")
    print("  " + ", ".join(f"{error:+.1f}/{left:.1f}" for error, left in first))
    if errors:
        mean, spread = statistics.mean(errors), statistics.mean(map(abs, errors))
        print(f"every told: mean error {mean:+.1f} s, mean |error| {spread:.1f} s, n={len(errors)}")
    print(f"changes of 5 s or more against the countdown: {changes}")


async def main(count: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="bench-whole-eta-"))
    settings = Settings(
        demo="on", safety_level="adult", data_dir=data, max_runs_in_flight=50, max_queued_runs=50
    )
    runner = web.AppRunner(create_app(settings, demo_options=DemoOptions(DemoSpeed())))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ws"
    try:
        for prompt in PROMPTS[:2]:  # measured times first
            await one_run(url, prompt)
        runs = await asyncio.gather(*(one_run(url, PROMPTS[i % 3]) for i in range(count)))
        report(list(runs))
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
