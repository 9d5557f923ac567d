"""Slow consumers: one client that stops reading beside 100 healthy ones.

Same processes as bench_relay.py (timestamped token source, Atelier as `python -m server`).
The healthy clients each run one paced stream (--rate tokens/s, --tokens tokens) and measure
each token's delay from the source's send to their receipt. Three conditions, alternated:

  alone    - the healthy clients only;
  reading  - plus one client with two runs that each stream a flood (320 tokens - the
             `bauhaus` interception's max_tokens; haiku's 120 made 4 MiB, which the kernel
             buffers held - of 16 KiB, unthrottled: 10 MiB, more than the kernel buffers
             hold) and who reads it all: the cost of the flood itself;
  stopped  - the same flood to a client that never reads (a raw socket with a 4 KiB receive
             buffer): its kernel buffers fill, then its outbox, and the server drops it.

The stopped reader's effect on the others is `stopped` against `reading`.

Run: .venv/bin/python bench/bench_slow_consumer.py [--healthy 100] [--rounds 2]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
from typing import Any

import aiohttp
import orjson
import uvloop
from bench_relay import INTERCEPTION, MONITOR_HEADERS, cpu_seconds, measure, pct, processes


def masked_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    head = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0xFE]) + size.to_bytes(2)
    return head + mask + body


def unread_socket(host: str, port: int, cookie: str | None = None) -> socket.socket:
    """A WebSocket with a 4 KiB receive buffer, upgraded and greeted with `hello`, whose
    frames are never read: every byte after the upgrade's headers stays unread."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    cookie_line = "" if cookie is None else f"Cookie: {cookie}\r\n"
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n{cookie_line}"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)  # byte by byte: leave every frame after the headers unread
    assert b" 101 " in answer.split(b"\r\n", 1)[0], answer
    sock.sendall(masked_frame(b'{"type":"hello","protocol":1}'))
    return sock


def stopped_reader(url: str) -> socket.socket:
    """A WebSocket that says hello, starts the flood and then never reads again."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    sock = unread_socket(host, int(port))
    start = {
        "type": "run.start",
        "prompt": "RELAYFLOOD",
        "interception": INTERCEPTION,
        "output": "model_free",
        "width": 16,
        "height": 16,
    }
    sock.sendall(masked_frame(orjson.dumps(start)) * 2)
    return sock


async def reading_flood(url: str, done: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(url, compress=0) as ws:
        await ws.send_str('{"type":"hello","protocol":1}')
        start = {
            "type": "run.start",
            "prompt": "RELAYFLOOD",
            "interception": INTERCEPTION,
            "output": "model_free",
            "width": 16,
            "height": 16,
        }
        for _ in range(2):
            await ws.send_str(orjson.dumps(start).decode())
        ended = 0
        async for msg in ws:
            ended += '"run.done"' in msg.data
            if done.is_set() or ended == 2:
                break


async def metrics(url: str) -> dict[str, float]:
    http_url = url.replace("ws://", "http://").replace("/ws", "/metrics")
    async with (
        aiohttp.ClientSession() as http,
        http.get(http_url, headers=MONITOR_HEADERS) as response,
    ):
        text = await response.text()
    wanted = ("atelier_outbox_overflows_total", "atelier_send_timeouts_total")
    return {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line.split(" ")[0] in wanted
    }


async def condition(name: str, url: str, pid: int, healthy: int) -> dict[str, Any]:
    done = asyncio.Event()
    extra: asyncio.Task[None] | None = None
    sock: socket.socket | None = None
    if name == "reading":
        extra = asyncio.create_task(reading_flood(url, done))
    elif name == "stopped":
        sock = await asyncio.to_thread(stopped_reader, url)
    await asyncio.sleep(0.5)  # the flood is under way before the healthy streams start
    cpu0 = cpu_seconds(pid)
    tokens, _, _, figures = await measure(url, pid, "atelier", healthy)
    lat = figures.lat
    done.set()
    if extra is not None:
        extra.cancel()
    if sock is not None:
        sock.close()
    lat_ms = [v / 1000 for v in lat]
    return {
        "tokens": tokens,
        "p50": pct(lat_ms, 50),
        "p99": pct(lat_ms, 99),
        "max": max(lat_ms),
        "cpu": cpu_seconds(pid) - cpu0,
    }


async def bench(args: argparse.Namespace) -> None:
    with processes(args.tokens, args.rate) as targets:
        url, pid = targets["atelier"]
        await measure(url, pid, "atelier", 2)  # warm up
        print(
            f"{args.healthy} healthy clients x {args.tokens} tokens at {args.rate}/s; "
            "delay source send -> client receipt"
        )
        print(
            f"{'condition':9} {'tokens':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
            f"{'server CPU s':>12}"
        )
        for _ in range(args.rounds):
            for name in ("alone", "reading", "stopped"):
                before = await metrics(url)
                row = await condition(name, url, pid, args.healthy)
                after = await metrics(url)
                drops = {
                    k.removeprefix("atelier_").removesuffix("_total"): after[k] - before[k]
                    for k in after
                }
                print(
                    f"{name:9} {row['tokens']:>7} {row['p50']:>7.2f} {row['p99']:>7.2f} "
                    f"{row['max']:>7.2f} {row['cpu']:>12.2f}  {drops}",
                    flush=True,
                )
                await asyncio.sleep(6)  # the flood run ends / the dropped socket is aborted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--healthy", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=2)
    uvloop.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
