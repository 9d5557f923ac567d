"""Hostile clients beside a victim: the victim's `welcome` and run time alone and beside 1, 4
and 16 attacking clients of each kind, and the server's memory.

Starts `python -m server` (demo backends: simulated LLM and ComfyUI in the server process, a
constant baseline; every other setting at its default) as its own process, once per kind, with
127.0.0.1 as a trusted proxy: every client names its own address in `X-Forwarded-For`, so
each attacker is one address (one client, as behind cloudflared) and the victim another. The
kinds, each as fast as the server lets one client go (issue 15's trial):

  unknown_keys  `run.start` with ~7,000 unknown keys (64 KiB) at the socket's message rate;
  resume        one session, then resume `hello`s with `last_seq` 0 over and over;
  churn         new sessions: connect, `hello`, close, again;
  runs          8 sessions, each sending `run.start` at the message rate;
  connections   WebSockets that never say `hello`, as many at once as the server accepts;
  unicode       `run.start` whose prompt is 2,000 U+FDFA (NFKC: 18 characters each).

For each level the attackers start, get 2 s to reach full pressure, then the victim (one
client, its own address) connects (`welcome` time: connect + hello to welcome) and runs one
prompt (run time: `run.start` to `run.done`), `--rounds` times; then the attackers stop.
RSS is the server's (/proc VmRSS) at the end of each level.

Run: .venv/bin/python bench/bench_hostile.py [--rounds 5] [--levels 1,4,16] [--kinds ...]
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
HELLO = '{"type":"hello","protocol":1}'
#: The socket's default message rate (`messages_per_second`): an attacker keeps to it.
RATE = 20.0
WARMUP = 2.0
VICTIM = "198.51.100.2"

Attack = Callable[[str, str, asyncio.Event], Coroutine[None, None, None]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def server_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {
        "ATELIER_PORT": str(port),
        "ATELIER_DEMO": "on",
        "ATELIER_TRUSTED_PROXIES": '["127.0.0.1"]',
        "ATELIER_LOG_LEVEL": "warning",
        "ATELIER_LOG_FORMAT": "json",
        "ATELIER_DATA_DIR": tempfile.mkdtemp(prefix="bench-hostile-"),
    }
    out = None if os.environ.get("BENCH_LOGS") else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=env, stdout=out)
    try:
        wait_ready(port, proc)
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("server exited at start-up")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def named(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


# -- the victim


@dataclass
class Victim:
    welcome: list[float] = field(default_factory=list)
    run: list[float] = field(default_factory=list)
    failures: int = 0


async def victim_round(http: aiohttp.ClientSession, url: str, victim: Victim) -> None:
    try:
        async with asyncio.timeout(120):
            t0 = time.perf_counter()
            async with http.ws_connect(url, headers=named(VICTIM), compress=0) as ws:
                await ws.send_str(HELLO)
                await until_type(ws, "welcome")
                victim.welcome.append(time.perf_counter() - t0)
                t1 = time.perf_counter()
                await ws.send_json(
                    {"type": "run.start", "prompt": "a cat", "interception": "bauhaus"}
                )
                done = await until_type(ws, "run.done")
                if done.get("status") != "completed":
                    raise RuntimeError(done)
                victim.run.append(time.perf_counter() - t1)
    except (TimeoutError, aiohttp.ClientError, RuntimeError):
        victim.failures += 1


async def until_type(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.TEXT:
            data: dict[str, object] = orjson.loads(msg.data)
            if data.get("type") == kind:
                return data
    raise RuntimeError(f"closed before {kind}")


# -- the attackers: each loops until `stop`, reconnecting whenever the server closes it


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def paced(ws: aiohttp.ClientWebSocketResponse, text: str, stop: asyncio.Event) -> None:
    """Send `text` at the message rate, reading whatever comes back, until stopped or closed."""
    reader = asyncio.create_task(drain(ws))
    try:
        while not stop.is_set() and not ws.closed and not reader.done():
            await ws.send_str(text)
            await asyncio.sleep(1 / RATE)
    finally:
        reader.cancel()


async def greeted(
    http: aiohttp.ClientSession, url: str, address: str
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url, headers=named(address), compress=0)
    await ws.send_str(HELLO)
    await until_type(ws, "welcome")
    return ws


async def sending(url: str, address: str, stop: asyncio.Event, text: str, sockets: int = 1) -> None:
    async def one(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                async with await greeted(http, url, address) as ws:
                    await paced(ws, text, stop)
            await asyncio.sleep(0.05)

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(one(http) for _ in range(sockets)))


def unknown_keys_message() -> str:
    keys = {f"k{i}": 0 for i in range(7000)}
    text = orjson.dumps({"type": "run.start", **keys}).decode()
    assert len(text) < 64 * 1024
    return text


async def unknown_keys(url: str, address: str, stop: asyncio.Event) -> None:
    await sending(url, address, stop, unknown_keys_message())


async def unicode(url: str, address: str, stop: asyncio.Event) -> None:
    start = {"type": "run.start", "prompt": "\ufdfa" * 2000, "interception": "bauhaus"}
    await sending(url, address, stop, orjson.dumps(start).decode())


async def runs(url: str, address: str, stop: asyncio.Event) -> None:
    start = {"type": "run.start", "prompt": "a dog", "interception": "bauhaus"}
    await sending(url, address, stop, orjson.dumps(start).decode(), sockets=8)


async def churn(url: str, address: str, stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                await (await greeted(http, url, address)).close()
            await asyncio.sleep(0)


async def resume(url: str, address: str, stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                await resuming(http, url, address, stop)
            await asyncio.sleep(0.05)


async def resuming(
    http: aiohttp.ClientSession, url: str, address: str, stop: asyncio.Event
) -> None:
    """One session with a run in its log, then resumes from seq 0 until refused or stopped."""
    ws = await http.ws_connect(url, headers=named(address), compress=0)
    await ws.send_str(HELLO)
    first = await until_type(ws, "welcome")
    await ws.send_json({"type": "run.start", "prompt": "a fox", "interception": "bauhaus"})
    await until_type(ws, "run.done")
    await ws.close()
    hello = {"type": "hello", "protocol": 1, "session": first["session"], "last_seq": 0}
    hello["secret"] = first["secret"]
    while not stop.is_set():
        async with http.ws_connect(url, headers=named(address), compress=0) as again:
            await again.send_json(hello)
            await until_type(again, "welcome")


async def connections(url: str, address: str, stop: asyncio.Event) -> None:
    """WebSockets that never say hello: as many as the server takes; refused ones retry."""

    async def hold(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                async with http.ws_connect(url, headers=named(address), compress=0) as ws:
                    await drain(ws)  # until the server's hello timeout closes it
            await asyncio.sleep(0.1)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(hold(http) for _ in range(600)))


KINDS: dict[str, Attack] = {
    "unknown_keys": unknown_keys,
    "resume": resume,
    "churn": churn,
    "runs": runs,
    "connections": connections,
    "unicode": unicode,
}


# -- the bench


@dataclass
class Row:
    kind: str
    attackers: int
    victim: Victim
    rss: float


async def level(url: str, pid: int, kind: str, attackers: int, rounds: int) -> Row:
    stop = asyncio.Event()
    attack = KINDS[kind]
    tasks = [
        asyncio.create_task(attack(url, f"10.{i // 250}.{i % 250}.{len(kind)}", stop))
        for i in range(attackers)
    ]
    victim = Victim()
    try:
        await asyncio.sleep(WARMUP if attackers else 0)
        async with aiohttp.ClientSession() as http:
            for _ in range(rounds):
                await victim_round(http, url, victim)
        rss = rss_mib(pid)
    finally:
        stop.set()
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()
    return Row(kind, attackers, victim, rss)


def p(values: list[float], q: float, scale: float = 1.0) -> str:
    """The q-quantile (nearest rank) of `values` times `scale`; "-" when there are none."""
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale:.2f}"


def line(row: Row) -> str:
    v = row.victim
    return (
        f"| {row.kind} | {row.attackers} | {p(v.welcome, 0.5, 1000)} | {p(v.welcome, 1, 1000)} "
        f"| {p(v.run, 0.5)} | {p(v.run, 1)} | {v.failures} | {row.rss:.0f} |"
    )


async def bench(args: argparse.Namespace) -> None:
    levels = [int(x) for x in args.levels.split(",")]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        "| attack | attackers | welcome p50 ms | welcome max ms | run p50 s | run max s "
        "| victim failures | server RSS MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind in ["alone", *args.kinds.split(",")]:
        port = free_port()
        with server_process(port) as proc:
            url = f"ws://127.0.0.1:{port}/ws"
            for attackers in [0] if kind == "alone" else levels:
                row = await level(
                    url, proc.pid, "runs" if kind == "alone" else kind, attackers, args.rounds
                )
                row.kind = kind
                print(line(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="victim runs per level")
    parser.add_argument("--levels", default="1,4,16", help="attacking clients per level")
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 16 x 600 sockets of our own
    uvloop.run(bench(args))


if __name__ == "__main__":
    main()
