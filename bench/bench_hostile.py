"""Hostile clients beside a victim: the victim's `welcome` and run time alone and beside 1, 4
and 16 attacking clients of each kind, and the server's memory.

Starts `python -m server` (demo backends: simulated LLM and ComfyUI in the server process, a
constant baseline; every other setting at its default) as its own process, once per kind, with
127.0.0.1 as a trusted proxy: every client names its own address in `X-Forwarded-For`, so
each attacker is one address (one client, as behind cloudflared) and the victim another. The
kinds, each as fast as the server lets one client go (issue 15's trial):

  unknown_keys  `run.start` with ~7,000 unknown keys (64 KiB) at the socket's message rate;
  resume        one session with a run, then resume `hello`s with `last_seq` 0, over and
                over (after a refusal, again a second later);
  churn         new sessions: connect, `hello`, close, again;
  runs          8 sessions, each sending `run.start` at the message rate;
  mint          8 sockets, each with a new guest cookie every second (`GET /api/me` in a
                fresh cookie jar) sending `run.start` at the message rate: a new person per
                cookie, as many as the server gives one address (`guest_cookies_per_hour`);
  connections   WebSockets that never say `hello`, as many at once as the server accepts;
  unicode       `run.start` whose prompt is 2,000 U+FDFA (NFKC: 18 characters each).

For each level the attackers start; once each is under way (greeted; `resume`: its run
done) they get 2 s more, then the victim (one client, its own address) connects (`welcome`
time: connect + hello to welcome) and runs one prompt (run time: `run.start` to `run.done`),
`--rounds` times; then the attackers stop.
The attackers run in a process of their own (the victim's figures must not include the
bench's event loop serving their sockets), but on the same two cores as the server: what
they cost the machine is part of the figures. RSS is the server's (/proc VmRSS) at the end
of each level, CPU its share of one core while the victim ran.

Without cookies (the default) every socket of an attacker is its own anonymous person, the
worst case of open access mode; `--guests` gives every client a guest cookie first
(GET /api/me, as the page does), so an attacker's sockets are one person.

Run: .venv/bin/python bench/bench_hostile.py [--rounds 5] [--levels 1,4,16] [--kinds ...]
     [--guests]
Prints a table, with the victim's worst run against its worst alone (the goal: within 1.5x);
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
HELLO = '{"type":"hello","protocol":1}'
Stop = asyncio.Event
TICK = os.sysconf("SC_CLK_TCK")
#: The socket's default message rate (`messages_per_second`): an attacker keeps to it.
RATE = 20.0
#: Seconds the attackers get, once each is under way, before the victim's first round.
WARMUP = 2.0
VICTIM = "198.51.100.2"
#: A victim round that takes longer counts as a failure (the page would say "busy" long before).
VICTIM_TIMEOUT = 60.0


class EventLike(Protocol):
    """A multiprocessing event, as far as the bench uses it."""

    def set(self) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


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


@dataclass(frozen=True)
class Client:
    """One client address; with `guest`, a browser's guest cookie (GET /api/me) on every socket
    (one person in the per-person bounds); without, every socket is its own anonymous one."""

    url: str
    address: str
    guest: bool
    #: Set by an attacker once it is under way.
    ready: asyncio.Event = field(default_factory=asyncio.Event, compare=False)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[aiohttp.ClientSession]:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as http:
            if self.guest:
                me = self.url.replace("ws://", "http://").replace("/ws", "/api/me")
                async with http.get(me, headers=self.headers) as answer:
                    answer.raise_for_status()
            yield http

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Forwarded-For": self.address}

    async def open(self, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        return await http.ws_connect(self.url, headers=self.headers, compress=0)

    async def greeted(self, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        ws = await self.open(http)
        await ws.send_str(HELLO)
        await until_type(ws, "welcome")
        return ws


# -- the victim


@dataclass
class Victim:
    welcome: list[float] = field(default_factory=list)
    run: list[float] = field(default_factory=list)
    failures: int = 0


async def victim_round(client: Client, victim: Victim) -> None:
    try:
        async with asyncio.timeout(VICTIM_TIMEOUT), client.session() as http:
            t0 = time.perf_counter()
            async with await client.greeted(http) as ws:
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


async def paced(ws: aiohttp.ClientWebSocketResponse, text: str, stop: Stop) -> None:
    """Send `text` at the message rate, reading whatever comes back, until stopped or closed."""
    reader = asyncio.create_task(drain(ws))
    try:
        while not stop.is_set() and not ws.closed and not reader.done():
            await ws.send_str(text)
            await asyncio.sleep(1 / RATE)
    finally:
        reader.cancel()


async def sending(client: Client, stop: Stop, text: str, sockets: int = 1) -> None:
    async def one(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                async with await client.greeted(http) as ws:
                    client.ready.set()
                    await paced(ws, text, stop)
            await asyncio.sleep(0.05)

    async with client.session() as http:
        await asyncio.gather(*(one(http) for _ in range(sockets)))


def unknown_keys_message(size: int = 64_000) -> str:
    """A `run.start` of about `size` bytes (under the 64 KiB message limit) that is nearly all
    unknown keys: about 7,000 of them."""
    keys: dict[str, int] = {}
    while 30 + 9 * len(keys) < size:
        keys[f"{len(keys):x}"] = 0
    text = orjson.dumps({"type": "run.start", **keys}).decode()
    if len(text) >= 64 * 1024:
        raise ValueError(f"{len(text)} bytes: above the message limit")
    return text


async def unknown_keys(client: Client, stop: Stop) -> None:
    await sending(client, stop, unknown_keys_message())


async def unicode(client: Client, stop: Stop) -> None:
    start = {"type": "run.start", "prompt": "\ufdfa" * 2000, "interception": "bauhaus"}
    await sending(client, stop, orjson.dumps(start).decode())


async def runs(client: Client, stop: Stop) -> None:
    start = {"type": "run.start", "prompt": "a dog", "interception": "bauhaus"}
    await sending(client, stop, orjson.dumps(start).decode(), sockets=8)


@contextlib.asynccontextmanager
async def minted(client: Client) -> AsyncIterator[aiohttp.ClientSession]:
    """A fresh cookie jar with whatever `GET /api/me` gives it: a new guest cookie, or none
    once the address has had its `guest_cookies_per_hour` (429 `guests_limited`)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        me = client.url.replace("ws://", "http://").replace("/ws", "/api/me")
        async with http.get(me, headers=client.headers):
            pass
        yield http


async def mint(client: Client, stop: Stop) -> None:
    """Every socket a new person: a new guest cookie for each, a second of `run.start`s at
    the message rate (enough to fill that person's runs), then the next cookie."""
    start = orjson.dumps({"type": "run.start", "prompt": "a dog", "interception": "bauhaus"})

    async def one() -> None:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError, TimeoutError):
                async with minted(client) as http, await client.greeted(http) as ws:
                    client.ready.set()
                    async with asyncio.timeout(1.0):
                        await paced(ws, start.decode(), stop)
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one() for _ in range(8)))


async def churn(client: Client, stop: Stop) -> None:
    async with client.session() as http:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                await (await client.greeted(http)).close()
                client.ready.set()
            await asyncio.sleep(0)


async def resume(client: Client, stop: Stop) -> None:
    """One session with a run in its log (the kind's warm-up covers that run), then resumes
    of it from seq 0, again after a second whenever one is refused (close 4013)."""
    async with client.session() as http:
        hello: dict[str, object] | None = None
        while hello is None and not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                hello = await session_with_a_run(client, http)
        client.ready.set()
        while hello is not None and not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                await resuming(client, http, hello, stop)
            await asyncio.sleep(1.0)


async def session_with_a_run(client: Client, http: aiohttp.ClientSession) -> dict[str, object]:
    """The resume `hello` (seq 0) of a fresh session that has one whole run in its log."""
    async with await client.open(http) as ws:
        await ws.send_str(HELLO)
        first = await until_type(ws, "welcome")
        await ws.send_json({"type": "run.start", "prompt": "a fox", "interception": "bauhaus"})
        await until_type(ws, "run.done")
    return {"type": "hello", "protocol": 1, "session": first["session"], "last_seq": 0} | {
        "secret": first["secret"]
    }


async def resuming(
    client: Client, http: aiohttp.ClientSession, hello: dict[str, object], stop: Stop
) -> None:
    while not stop.is_set():
        async with await client.open(http) as again:
            await again.send_json(hello)
            await until_type(again, "welcome")


async def connections(client: Client, stop: Stop) -> None:
    """WebSockets that never say hello: as many as the server takes; refused ones retry."""

    async def hold(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            with contextlib.suppress(aiohttp.ClientError, RuntimeError):
                async with await client.open(http) as ws:
                    await drain(ws)  # until the server's hello timeout closes it
            await asyncio.sleep(0.1)

    async with client.session() as http:
        client.ready.set()
        await asyncio.gather(*(hold(http) for _ in range(600)))


Attack = Callable[[Client, Stop], Coroutine[None, None, None]]
KINDS: dict[str, Attack] = {
    "unknown_keys": unknown_keys,
    "resume": resume,
    "churn": churn,
    "runs": runs,
    "mint": mint,
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
    cpu: float


@dataclass(frozen=True)
class Level:
    """One line of the table: which attack, how many attackers, how the clients look."""

    url: str
    pid: int
    kind: str
    attackers: int
    guests: bool


def attackers_process(at: Level, ready: EventLike, stop: EventLike) -> None:
    """The attackers, in a process of their own: the victim's figures must not include the
    bench's own event loop serving thousands of attacking sockets."""
    uvloop.run(attack_all(at, ready, stop))


async def all_ready(clients: list[Client]) -> None:
    await asyncio.gather(*(client.ready.wait() for client in clients))


async def attack_all(at: Level, ready: EventLike, stop: EventLike) -> None:
    stopping = asyncio.Event()
    attack = KINDS[at.kind]
    clients = [Client(at.url, f"10.{i // 250}.{i % 250}.1", at.guests) for i in range(at.attackers)]
    tasks = [asyncio.create_task(attack(client, stopping)) for client in clients]
    under_way = asyncio.create_task(all_ready(clients))
    pending: list[asyncio.Task[None]] = [under_way, *tasks]
    done, _ = await asyncio.wait(pending, timeout=180, return_when=asyncio.FIRST_COMPLETED)
    for task in done - {under_way}:
        task.result()  # an attacker that ended before it got under way: its error, in full
    if under_way not in done:
        raise SystemExit("the attackers did not get under way in 180 s")
    ready.set()
    await asyncio.to_thread(stop.wait)
    stopping.set()
    await asyncio.wait(tasks, timeout=15)
    for task in tasks:
        task.cancel()


async def level(at: Level, rounds: int) -> Row:
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    attackers = context.Process(target=attackers_process, args=(at, ready, stop), daemon=True)
    if at.attackers:
        attackers.start()
    victim = Victim()
    try:
        if at.attackers:
            if not await asyncio.to_thread(ready.wait, 240):
                raise SystemExit(f"the {at.kind} attackers did not get under way")
            await asyncio.sleep(WARMUP)
        cpu0, t0 = cpu_seconds(at.pid), time.perf_counter()
        for _ in range(rounds):
            await victim_round(Client(at.url, VICTIM, at.guests), victim)
        cpu = (cpu_seconds(at.pid) - cpu0) / (time.perf_counter() - t0) * 100
        rss = rss_mib(at.pid)
    finally:
        stop.set()
        if at.attackers:
            await asyncio.to_thread(attackers.join, 30)
            attackers.kill()
    return Row(at.kind, at.attackers, victim, rss, cpu)


def p(values: list[float], q: float, scale: float = 1.0) -> str:
    """The q-quantile (nearest rank) of `values` times `scale`; "-" when there are none."""
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale:.2f}"


#: The goal: the victim's worst run within this factor of its worst run alone.
GOAL = 1.5


def versus(row: Row, alone: float) -> str:
    """The victim's worst run against its worst alone, and whether that meets `GOAL`
    (a failed round never does)."""
    if row.victim.failures or not row.victim.run:
        return "missed (failures)"
    ratio = max(row.victim.run) / alone
    return f"{ratio:.2f}x {'met' if ratio <= GOAL else 'missed'}"


def line(row: Row, alone: float) -> str:
    v = row.victim
    return (
        f"| {row.kind} | {row.attackers} | {p(v.welcome, 0.5, 1000)} | {p(v.welcome, 1, 1000)} "
        f"| {p(v.run, 0.5)} | {p(v.run, 1)} | {v.failures} | {row.rss:.0f} | {row.cpu:.0f} "
        f"| {versus(row, alone)} |"
    )


async def bench(args: argparse.Namespace) -> None:
    levels = [int(x) for x in args.levels.split(",")]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        f"; clients: {'guest cookies' if args.guests else 'no cookies'}"
    )
    print(
        "| attack | attackers | welcome p50 ms | welcome max ms | run p50 s | run max s "
        "| victim failures | server RSS MiB | server CPU % | run max vs alone |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    alone = 0.0
    for kind in ["alone", *args.kinds.split(",")]:
        port = free_port()
        with server_process(port) as proc:
            url = f"ws://127.0.0.1:{port}/ws"
            for attackers in [0] if kind == "alone" else levels:
                row = await level(Level(url, proc.pid, kind, attackers, args.guests), args.rounds)
                alone = alone or max(row.victim.run, default=0.0)
                print(line(row, alone or 1.0), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="victim runs per level")
    parser.add_argument("--levels", default="1,4,16", help="attacking clients per level")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument(
        "--guests", action="store_true", help="every client holds a guest cookie, as a browser"
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 16 x 600 sockets of our own
    uvloop.run(bench(args))


if __name__ == "__main__":
    main()
