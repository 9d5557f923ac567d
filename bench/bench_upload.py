"""Slow upload: one picture sent at 400 kbit/s while 20 other sessions stream their runs.

A classroom's shared DSL line makes a child's photo take many seconds to arrive. The upload
is an HTTP request whose body trickles in; the server must read it without holding anything
up. This bench starts `python -m server` with the demo backends (the LLM and ComfyUI
simulators in the server's own process: a token they stream and an upload it reads share one
event loop) and measures the 20 sessions' token delivery in two conditions, alternated:

  alone   - the 20 sessions only;
  upload  - the same, while one guest sends pictures back to back through a raw socket that
            writes the multipart body at 400 kbit/s (1250 bytes every 25 ms), so the server
            also decodes, cleans and stores each one that arrives, then deletes it.

Figures per condition: the gap between consecutive tokens of one stage as each session
receives them (p50, p99, max), and each run's time from `run.accepted` to `run.done`.

Run: .venv/bin/python bench/bench_upload.py [--sessions 20] [--rounds 2] [--kib 600]
     [--uploaders 1] (several guests of the class's one address, each at 400 kbit/s)
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import uvloop
from bench_idle_sessions import spawn
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
#: 400 kbit/s: 50,000 bytes a second, written as 1250 bytes every 25 ms.
CHUNK, PACE = 1250, 0.025
BOUNDARY = "----atelier-bench-upload"


@dataclass
class Streams:
    """What the sessions received: token gaps (ms) and run times (s)."""

    gaps: list[float] = field(default_factory=list)
    runs: list[float] = field(default_factory=list)
    failed: int = 0


@dataclass
class Uploads:
    sent: int = 0
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {
        "ATELIER_PORT": str(port),
        "ATELIER_DEMO": "on",
        "ATELIER_SAFETY_LEVEL": "adult",
        "ATELIER_LOG_LEVEL": "warning",
        "ATELIER_LOG_FORMAT": "json",
        "ATELIER_DATA_DIR": tempfile.mkdtemp(prefix="bench-upload-"),
        "ATELIER_TRUSTED_PROXIES": '["127.0.0.1"]',  # each session names its own address
        "ATELIER_MAX_WAITING_RUNS": "5000",
    }
    return spawn(env, port)


def noise_png(kib: int) -> bytes:
    """A PNG of random pixels (they do not compress) of about `kib` KiB."""
    side = int((kib * 1024 / 3) ** 0.5)
    rng = random.Random(7)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


async def one_run(
    http: aiohttp.ClientSession, url: str, index: int, perspective: str, into: Streams
) -> None:
    """One student: hello, one run, every token's arrival time until `run.done`."""
    headers = {"X-Forwarded-For": f"10.20.{index // 200}.{index % 200 + 1}"}
    async with http.ws_connect(url, compress=0, headers=headers) as ws:
        await ws.send_str('{"type":"hello","protocol":1}')
        start = {"type": "run.start", "prompt": "a fox in the snow", "interception": perspective}
        await ws.send_str(orjson.dumps({**start, "lang": "en", "ref": f"b-{index}"}).decode())
        last: dict[str, float] = {}
        accepted = 0.0
        async for msg in ws:
            now = time.perf_counter()
            m = orjson.loads(msg.data)
            if m["type"] == "run.accepted":
                accepted = now
            elif m["type"] == "token":
                if m["stage"] in last:
                    into.gaps.append((now - last[m["stage"]]) * 1000)
                last[m["stage"]] = now
            elif m["type"] == "run.done":
                into.runs.append(now - accepted)
                into.failed += m["status"] != "completed"
                return


def multipart(png: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + png + f"\r\n--{BOUNDARY}--\r\n".encode()


async def guest(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    """A guest cookie and its CSRF token, as the page gets them from GET /api/me."""
    async with http.get(f"{base}/api/me") as response:
        me = await response.json()
    cookie = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
    return cookie, str(me["csrf"])


async def paced_upload(port: int, cookie: str, csrf: str, body: bytes) -> tuple[int, bytes]:
    """POST /api/uploads through a raw socket, the body written at 400 kbit/s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        f"X-CSRF-Token: {csrf}\r\nAccept: application/json\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    try:
        for offset in range(0, len(body), CHUNK):
            writer.write(body[offset : offset + CHUNK])
            await writer.drain()
            await asyncio.sleep(PACE)
    except ConnectionError:
        pass  # the server answered early (a refusal) and closed
    answer = await reader.read()
    writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer.split(b"\r\n\r\n", 1)[-1]


async def slow_uploads(port: int, body: bytes, stop: asyncio.Event, into: Uploads) -> None:
    """Pictures back to back until `stop`; each one that arrived is deleted again."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        cookie, csrf = await guest(http, base)
        while not stop.is_set():
            t0 = time.perf_counter()
            into.sent += 1
            status, data = await paced_upload(port, cookie, csrf, body)
            into.statuses.append(status)
            into.seconds.append(time.perf_counter() - t0)
            if status == 201:
                headers = {"X-CSRF-Token": csrf}
                await http.delete(f"{base}/api/uploads/{orjson.loads(data)['id']}", headers=headers)


async def condition(
    port: int, sessions: int, perspective: str, body: bytes | None, uploaders: int = 1
) -> tuple[Streams, Uploads]:
    streams, uploads, stop = Streams(), Uploads(), asyncio.Event()
    senders = [] if body is None else range(uploaders)
    tasks = [asyncio.create_task(slow_uploads(port, body or b"", stop, uploads)) for _ in senders]
    if tasks:
        await asyncio.sleep(1.0)  # the first pictures are on their way
    url = f"ws://127.0.0.1:{port}/ws"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(
            *(one_run(http, url, i, perspective, streams) for i in range(sessions))
        )
    stop.set()
    await asyncio.gather(*tasks)  # the pictures under way finish: their decode is measured too
    return streams, uploads


def row(name: str, streams: Streams, uploads: Uploads) -> str:
    gaps, runs = streams.gaps, streams.runs
    sent = f"{uploads.sent} ({','.join(map(str, sorted(set(uploads.statuses))))})"
    per = f"{pct(uploads.seconds, 50):.1f}" if uploads.seconds else "-"
    return (
        f"{name:7} {len(gaps):>6} {pct(gaps, 50):>7.1f} {pct(gaps, 99):>7.1f} "
        f"{max(gaps, default=0):>7.1f} {pct(runs, 50):>7.2f} {max(runs, default=0):>7.2f} "
        f"{streams.failed:>6} {sent:>10} {per:>8}"
    )


async def bench(args: argparse.Namespace) -> None:
    port = free_port()
    proc = start_server(port)
    body = multipart(noise_png(args.kib))
    try:
        await condition(port, 2, args.perspective, None)  # warm up
        load = os.getloadavg()
        print(f"load average {load[0]:.2f} {load[1]:.2f}; {os.cpu_count()} cores")
        print(
            f"{args.sessions} sessions, one run each ({args.perspective}, demo simulators); "
            f"{args.uploaders} guest(s) uploading, each body "
            f"{len(body) / 1024:.0f} KiB at 400 kbit/s = {len(body) / 50_000:.1f} s"
        )
        print(
            f"{'cond':7} {'gaps':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'run p50':>7} "
            f"{'run max':>7} {'failed':>6} {'uploads':>10} {'upload s':>8}"
        )
        for _ in range(args.rounds):
            for name in ("alone", "upload"):
                picture = body if name == "upload" else None
                streams, uploads = await condition(
                    port, args.sessions, args.perspective, picture, args.uploaders
                )
                print(row(name, streams, uploads), flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--perspective", default="haiku", help="a short one: 2 demo LLM slots")
    parser.add_argument("--uploaders", type=int, default=1, help="guests uploading at once")
    parser.add_argument("--kib", type=int, default=600, help="size of each uploaded picture")
    uvloop.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
