"""The Redis state back end's cost on the token path: round trips per token and an append's
price, against the embedded log.

Starts its own `redis-server` (a free port, a temporary directory, no persistence) unless
--url names one. Three measures:

  append     - CPU of one `EventLog.append` (embedded) and one `RedisLog.append` (Redis: the
               in-process log plus queueing one command for the writer), in the server process;
  streams    - N sessions each streaming --tokens tokens, all interleaved the way the event
               loop interleaves live runs (every session one token, then the loop turns):
               Redis round trips per token and the wall time until every append is stored;
  paced      - N sessions each streaming at --rate tokens/s (a live run's pace) for
               --seconds: round trips per token and this process's CPU per stored token
               (queueing, the writer's pipeline, parsing Redis's answers);
  adopt      - one cross-instance resume: another instance takes over a session whose log
               holds --kept events (what a resume elsewhere waits for before its replay);
  redis      - Redis's own time per append (INFO commandstats: the Lua append's usec_per_call).

Run: .venv/bin/python bench/bench_state.py [--sessions 1 10 100 1000] [--tokens 200]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import uvloop
from redis.asyncio import Redis

from server.engine.eventlog import EventLog
from server.engine.state import LogBounds, Person
from server.engine.state._interface import Resumes
from server.engine.state.redis_state import RedisState

TOKEN = b'{"type":"token","seq":%d,"run":"r-abcdefgh","stage":"interception","text":" word"}'
BOUNDS = LogBounds(2048, 4 << 20)
ANNE = Person("g-anne", anonymous=False)
MOVES = Resumes(per_minute=60_000, burst=1_000)
NO_DISK = ("--save", "", "--appendonly", "no")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, *NO_DISK],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


async def connected(url: str) -> None:
    client = Redis.from_url(url)
    for _ in range(200):
        with contextlib.suppress(OSError, ConnectionError, Exception):
            await client.ping()
            break
        await asyncio.sleep(0.02)
    await client.flushall()
    await client.aclose()


def append_cost(log: EventLog, count: int) -> float:
    """Microseconds per append, CPU of this process."""
    start = time.process_time()
    for seq in range(1, count + 1):
        log.append(seq, TOKEN % seq)
    return (time.process_time() - start) / count * 1e6


async def bench_append(url: str, count: int) -> None:
    plain = append_cost(EventLog(BOUNDS.entries, BOUNDS.bytes), count)
    state = RedisState.from_url(url, "bench")
    log = state.create("cost", "secret", ANNE, BOUNDS)
    queued = append_cost(log, count)
    await state.flush()
    await state.aclose()
    print(f"append: embedded {plain:.2f} us, redis (log + queue) {queued:.2f} us per token")


async def bench_streams(url: str, sessions: int, tokens: int) -> None:
    state = RedisState.from_url(url, f"bench{sessions}")
    logs = [state.create(f"s{sessions}-{n}", "secret", ANNE, BOUNDS) for n in range(sessions)]
    await state.flush()
    before = state.stats.round_trips
    start = time.perf_counter()
    for seq in range(1, tokens + 1):
        for log in logs:
            log.append(seq, TOKEN % seq)
        await asyncio.sleep(0)  # the loop turns: the writer may send what is queued
    await state.flush()
    elapsed = time.perf_counter() - start
    trips = state.stats.round_trips - before
    appends = sessions * tokens
    print(
        f"streams: {sessions:5d} sessions x {tokens} tokens: {trips / appends:.4f} round trips"
        f" per token ({trips} trips), {appends / elapsed:,.0f} appends/s stored"
    )
    await state.aclose()


async def paced_stream(log: EventLog, rate: float, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    seq = 0
    while loop.time() - start < seconds:
        seq += 1
        log.append(seq, TOKEN % seq)
        await asyncio.sleep(1 / rate)


async def paced_cpu(logs: list[EventLog], rate: float, seconds: float) -> tuple[float, int]:
    """CPU seconds of this process and tokens appended, for paced streams into `logs`."""
    cpu = time.process_time()
    await asyncio.gather(*(paced_stream(log, rate, seconds) for log in logs))
    return time.process_time() - cpu, sum(log.last_seq for log in logs)


async def bench_paced(url: str, sessions: int, rate: float, seconds: float) -> None:
    plain = [EventLog(BOUNDS.entries, BOUNDS.bytes) for _ in range(sessions)]
    base_cpu, base_tokens = await paced_cpu(plain, rate, seconds)
    state = RedisState.from_url(url, f"paced{sessions}")
    logs = [state.create(f"p{sessions}-{n}", "secret", ANNE, BOUNDS) for n in range(sessions)]
    await state.flush()
    trips, appends = state.stats.round_trips, state.stats.appends
    cpu = time.process_time()
    await asyncio.gather(*(paced_stream(log, rate, seconds) for log in logs))
    await state.flush()
    cpu = time.process_time() - cpu
    trips, appends = state.stats.round_trips - trips, state.stats.appends - appends
    extra = cpu / appends - base_cpu / base_tokens
    print(
        f"paced: {sessions:5d} sessions at {rate:.0f} tokens/s: {trips / appends:.3f} round"
        f" trips per token; CPU per token {cpu / appends * 1e6:.1f} us with Redis,"
        f" {base_cpu / base_tokens * 1e6:.1f} us embedded: +{extra * 1e6:.1f} us"
        f" ({appends} tokens, {appends / seconds:,.0f}/s)"
    )
    await state.aclose()


async def bench_adopt(url: str, kept: int, rounds: int) -> None:
    a, b = RedisState.from_url(url, "old"), RedisState.from_url(url, "new")
    times = []
    for n in range(rounds):
        log = a.create(f"move{n}", "secret", ANNE, BOUNDS)
        for seq in range(1, kept + 1):
            log.append(seq, TOKEN % seq)
        await a.flush()
        start = time.perf_counter()
        found = await b.adopt(f"move{n}", "secret", ANNE, kept, BOUNDS, MOVES)
        times.append(time.perf_counter() - start)
        assert found is not None
        assert found.log.last_seq == kept
    size = kept * len(TOKEN % kept)
    times.sort()
    print(
        f"adopt: {kept} kept events ({size / 1024:.0f} KiB): median"
        f" {times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms ({rounds} moves)"
    )
    await a.aclose()
    await b.aclose()


async def bench_redis_side(url: str) -> None:
    """Redis's own time per stored token: the append scripts' time over the XADDs they ran."""
    client = Redis.from_url(url)
    stats = await client.info("commandstats")
    await client.aclose()
    scripts, xadds = stats["cmdstat_evalsha"], stats["cmdstat_xadd"]
    print(
        f"redis: {scripts['usec'] / xadds['calls']:.2f} us of Redis per stored token"
        f" (scripts {scripts['calls']} calls, {xadds['calls']} XADDs at"
        f" {xadds['usec_per_call']:.2f} us each)"
    )


async def main(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(redis_server())
        await connected(url)
        await bench_append(url, args.appends)
        for sessions in args.sessions:
            await bench_streams(url, sessions, args.tokens)
        for sessions in args.sessions:
            await bench_paced(url, sessions, args.rate, args.seconds)
        for kept in (10, args.kept):
            await bench_adopt(url, kept, 20)
        await bench_redis_side(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a Redis to use (its data is flushed!)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--appends", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--kept", type=int, default=2048)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    uvloop.run(main(parser.parse_args()))
