"""What a class export costs: wall time and peak memory of writing the ZIP of N runs (default
200, a lesson's worth and more), each with a record file and one picture of `--picture-kb`
random (incompressible, like a PNG) bytes. Prints figures; asserts nothing.

The archive is built as `GET /api/classes/{id}/export` builds it (`export_zip.build_archive`,
reading the folders and writing an unlinked temporary file); time is the median of
`--rounds`, peak memory is Python's own allocations during one more round under
`tracemalloc` (the process's resident peak is printed too). Last, the event loop's worst
lateness for a 5 ms tick during one export in a worker thread, as the handler runs it, and
during one built on the loop itself, and over as long with no export (what the busy machine
adds by itself), for comparison.

Run: PYTHONPATH=. .venv/bin/python bench/bench_export.py [--runs 200] [--picture-kb 512]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from server.engine.classroom.export import ExportRange
from server.engine.classroom.export_zip import ExportPlan, IndexedRun, build_archive
from server.engine.records import RECORD_NAME, RecordStore

NOW = 1_796_140_800.0
PERSPECTIVES = ("bauhaus", "haiku", "ukiyo-e", "comic")
TICK = 0.005


def record(run: str, index: int) -> dict[str, object]:
    """A record shaped like the pipeline's, with stage texts of a typical length."""
    prompt = f"Füchse im Schnee, Bild {index}, mit einem roten Schal und einer Laterne"
    return {
        "run": run,
        "session": "s" * 16,
        "owner": {"key": f"m-{index % 30}", "class_id": 1, "nickname": f"Kind {index % 30}"},
        "created": NOW + index,
        "inputs": {"prompt": prompt, "interception": PERSPECTIVES[index % 4], "lang": "de"},
        "status": "completed",
        "reason": None,
        "error": None,
        "texts": {"interception": prompt * 6, "translation": prompt * 6},
        "verdicts": {"safety": {"safe": True, "answer": "SAFE"}},
        "models": {"safety": "llama3.2@gpu1"},
        "timings": {"safety": 310.0, "interception": 2100.0, "generation": 9000.0},
        "total": 11410.0,
        "outputs": [f"/media/{run}/out_00001_.png"],
    }


def populate(root: Path, runs: int, picture_bytes: int) -> list[IndexedRun]:
    indexed = []
    for index in range(runs):
        run = f"r-bench{index:06d}"
        folder = root / run
        folder.mkdir(parents=True)
        (folder / RECORD_NAME).write_bytes(orjson.dumps(record(run, index)))
        (folder / "out_00001_.png").write_bytes(os.urandom(picture_bytes))
        indexed.append(IndexedRun(run, NOW + index, ("out_00001_.png",)))
    return indexed


def measure(plan: ExportPlan, records: RecordStore, rounds: int) -> None:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        archive = build_archive(plan, records)
        times.append(time.perf_counter() - start)
        size = archive.size
        archive.close()
    tracemalloc.start()
    build_archive(plan, records).close()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pictures = sum(len(run.files) for run in plan.runs)
    print(f"runs={len(plan.runs)} pictures={pictures} archive={size / 1024**2:.1f} MiB")
    print(
        f"time: median {statistics.median(times):.3f} s, min {min(times):.3f} s ({rounds} rounds)"
    )
    print(f"peak Python allocations: {peak / 1024**2:.2f} MiB; process peak RSS {rss:.0f} MiB")


async def loop_lag(work: Callable[[], Awaitable[object]]) -> float:
    """The event loop's worst lateness for a 5 ms tick while `work` runs, in ms."""
    loop = asyncio.get_running_loop()
    worst, done = 0.0, asyncio.Event()

    async def tick() -> None:
        nonlocal worst
        while not done.is_set():
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            worst = max(worst, loop.time() - due)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(4 * TICK)
    await work()
    done.set()
    await ticker
    return worst * 1000


async def lags(plan: ExportPlan, records: RecordStore) -> None:
    """The export as the handler runs it (a worker thread) against one built on the loop."""

    def build() -> None:
        build_archive(plan, records).close()

    async def on_the_loop() -> None:
        build()

    start = time.perf_counter()
    threaded = await loop_lag(lambda: asyncio.to_thread(build))
    idle = await loop_lag(lambda: asyncio.sleep(time.perf_counter() - start))
    blocking = await loop_lag(on_the_loop)
    print(
        f"event loop's worst lateness (5 ms tick) during one export: {threaded:.1f} ms in a"
        f" worker thread, {blocking:.0f} ms if it were built on the loop;"
        f" {idle:.1f} ms over as long with no export (the machine's own)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--picture-kb", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        indexed = populate(root / "runs", args.runs, args.picture_kb * 1024)
        span = ExportRange(NOW - 3600, NOW + args.runs + 1, tz_minutes=60)
        plan = ExportPlan("4b", span, "de", indexed, root)
        records = RecordStore(root / "runs", 72)
        measure(plan, records, args.rounds)
        asyncio.run(lags(plan, records))


if __name__ == "__main__":
    main()
