"""A teacher's console beside a class: do the students' runs notice it?

One Atelier app in this process (the `codes` access mode, the demo simulators at a fast pace,
uvloop) with a teacher, one class and --students joined members, each on their own socket.
Every student starts --runs runs one after the other; per condition, alternated per round:

  none     - no console watches the class;
  reading  - the teacher's console watches it (`class.watch`) and reads everything it is sent;
  stopped  - the teacher's console watches it from a raw socket with a 4 KiB receive buffer
             that never reads after its `class.watch`: its kernel buffers fill, then its
             outbox or its send timeout, and the server drops it.

Prints, per condition: the students' run time (from `run.start` sent to `run.done` received)
p50/p99/max and the whole condition's, the events the students received (and any gap or
duplicate), what the reading console received, the server's outbox overflows and send
timeouts during the condition, when the console's socket was dropped, and how many consoles
with a socket watched the class as the runs began.

Run: PYTHONPATH=. .venv/bin/python bench/bench_teacher.py [--students 30] [--runs 2] [--rounds 2]
     [--conditions none,reading,stopped]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop
from aiohttp import web
from bench_slow_consumer import masked_frame, unread_socket

from server.app import create_app
from server.engine.session import SessionState
from server.handlers.keys import CLASSES, PEOPLE, REGISTRY, STATS
from server.harness.client import AtelierClient
from server.harness.demo import DemoSpeed
from server.logs import configure_logging
from server.settings import Settings
from server.wiring import DemoOptions

SPEED = DemoSpeed(tokens_per_second=60, first_token_delay=0.0, step_time=0.01, steps=8)
PASSWORD = "a long enough password"
PROMPT = "a lighthouse on a cliff above a stormy sea at night"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


class Server:
    """The app on a free port, and HTTP helpers for its teacher and students."""

    def __init__(self, students: int) -> None:
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="bench-teacher-")),
            demo="on",
            access="codes",
            safety_level="adult",
            join_attempts_per_minute=10 * students,
            max_class_members=max(40, students),
            max_sessions_per_person=8,
        )
        self.app = create_app(settings, demo_options=DemoOptions(SPEED))
        self.runner = web.AppRunner(self.app)
        self.port = 0

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def send(self, http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
        async with http.get(self.url("/api/me")) as me:
            csrf = (await me.json())["csrf"]
        headers = {"X-CSRF-Token": csrf}
        async with http.post(self.url(path), json=body, headers=headers) as response:
            assert response.status < 300, await response.text()
            return await response.json()


def id_cookie(http: aiohttp.ClientSession) -> str:
    value = next(m.value for m in http.cookie_jar if m.key == "atelier_id")
    return f"atelier_id={value}"


async def people(server: Server, students: int) -> tuple[str, int, list[str]]:
    """A teacher, their class and its members: the teacher's cookie, the class id, and one
    cookie per member."""
    await server.app[PEOPLE].add_teacher("ms-lee", PASSWORD)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as teacher:
        await server.send(teacher, "/api/teacher/login", {"name": "ms-lee", "password": PASSWORD})
        klass = await server.send(teacher, "/api/classes", {"name": "4b"})
        teacher_cookie = id_cookie(teacher)
    cookies = []
    for i in range(students):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await server.send(http, "/api/join", {"code": klass["code"], "nickname": f"kid{i}"})
            cookies.append(id_cookie(http))
    return teacher_cookie, int(klass["id"]), cookies


def _done(message: dict[str, Any], run: str) -> bool:
    return bool(message["type"] == "run.done" and message["run"] == run)


async def student(client: AtelierClient, runs: int, times: list[float]) -> None:
    for _ in range(runs):
        began = time.perf_counter()
        await client.send({"type": "run.start", "prompt": PROMPT, "interception": "bauhaus"})
        accepted = await client.wait_for(lambda m: m["type"] in ("run.accepted", "error"), 60)
        assert accepted["type"] == "run.accepted", accepted
        await client.wait_for(functools.partial(_done, run=str(accepted["run"])), 120)
        times.append(time.perf_counter() - began)


async def reading_console(url: str, cookie: str, class_id: int, got: list[int]) -> None:
    console = AtelierClient(url, headers={"Cookie": cookie})
    await console.connect()
    await console.send({"type": "class.watch", "class_id": class_id})
    try:
        while True:
            message = await console.recv(timeout=600)
            got[0] += 1
            got[1] += len(orjson.dumps(message))
    finally:
        await console.close()


def stopped_console(port: int, cookie: str, class_id: int) -> socket.socket:
    """A teacher's socket that says hello, watches the class and never reads again."""
    sock = unread_socket("127.0.0.1", port, cookie)
    watch = {"type": "class.watch", "class_id": class_id}
    sock.sendall(masked_frame(orjson.dumps(watch)))
    return sock


async def console_dropped(server: Server, since: float) -> float:
    """Seconds from the console's connect until the server no longer holds a socket of the
    teacher (polled: the registry has no event for it)."""
    registry = server.app[REGISTRY]
    while any(s.state is SessionState.ATTACHED for s in registry.sessions_of("t-1")):  # noqa: ASYNC110 - see above
        await asyncio.sleep(0.25)
    return time.perf_counter() - since


async def condition(
    name: str, server: Server, people_: tuple[str, int, list[str]], runs: int
) -> dict[str, Any]:
    teacher_cookie, class_id, cookies = people_
    stats = server.app[STATS]
    before = (stats.outbox_overflows, stats.send_timeouts)
    console: asyncio.Task[None] | None = None
    sock: socket.socket | None = None
    got = [0, 0]  # messages, bytes
    if name == "reading":
        console = asyncio.create_task(reading_console(server.ws_url, teacher_cookie, class_id, got))
    elif name == "stopped":
        sock = await asyncio.to_thread(stopped_console, server.port, teacher_cookie, class_id)
    await asyncio.sleep(0.3)  # the console watches before the runs start
    watch_drop = asyncio.create_task(console_dropped(server, time.perf_counter() - 0.3))
    watchers = sum(s.connection is not None for s in server.app[CLASSES].live(class_id).watchers)
    clients = [AtelierClient(server.ws_url, headers={"Cookie": c}) for c in cookies]
    for client in clients:
        await client.connect()
    times: list[float] = []
    began = time.perf_counter()
    await asyncio.gather(*(student(c, runs, times) for c in clients))
    wall = time.perf_counter() - began
    events = sum(len(c.messages) for c in clients)
    gaps = sum(c.gaps + c.duplicates for c in clients)
    for client in clients:
        await client.close()
    if console is not None:
        console.cancel()
    after = (stats.outbox_overflows, stats.send_timeouts)
    dropped = watch_drop.result() if watch_drop.done() else None
    watch_drop.cancel()
    if sock is not None:
        sock.close()
    return {
        "watchers": watchers,
        "dropped": "-" if name == "none" else ("no" if dropped is None else f"{dropped:.0f} s"),
        "p50": pct(times, 50),
        "p99": pct(times, 99),
        "max": max(times),
        "wall": wall,
        "events": events,
        "gaps": gaps,
        "console": got,
        "overflows": after[0] - before[0],
        "timeouts": after[1] - before[1],
    }


async def bench(args: argparse.Namespace) -> None:
    server = Server(args.students)
    await server.start()
    try:
        people_ = await people(server, args.students)
        await condition("none", server, people_, 1)  # warm up
        print(
            f"{args.students} students x {args.runs} runs each; run time = run.start sent "
            "-> run.done received"
        )
        print(
            f"{'condition':9} {'p50 s':>6} {'p99 s':>6} {'max s':>6} {'wall s':>6} "
            f"{'events':>7} {'gaps':>4} {'console msgs':>12} {'KiB':>6} {'overflows':>9} "
            f"{'send timeouts':>13} {'console dropped':>15} {'watchers':>8}"
        )
        for _ in range(args.rounds):
            for name in args.conditions.split(","):
                row = await condition(name, server, people_, args.runs)
                messages, size = row["console"]
                print(
                    f"{name:9} {row['p50']:>6.2f} {row['p99']:>6.2f} {row['max']:>6.2f} "
                    f"{row['wall']:>6.2f} {row['events']:>7} {row['gaps']:>4} {messages:>12} "
                    f"{size / 1024:>6.0f} {row['overflows']:>9} {row['timeouts']:>13} "
                    f"{row['dropped']:>15} {row['watchers']:>8}",
                    flush=True,
                )
                await asyncio.sleep(6)  # a dropped console's send timeout has passed
    finally:
        await server.runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--conditions", default="none,reading,stopped")
    configure_logging("json", "warning")  # as a server in production logs: not per run
    uvloop.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
