"""Idle capacity: how many greeted sessions one server process holds, and memory per session.

Starts `python -m server` (demo backends: a constant baseline) as its own process, then opens
sessions from this process (aiohttp WebSocket clients, no compression, like the page's
`hello`/`welcome`) in steps up to each level, and reads the server's RSS (/proc VmRSS) and CPU.
Memory per session = (RSS at the level - RSS before the first socket) / sessions.

Run: .venv/bin/python bench/bench_idle_sessions.py [--levels 1000,5000,10000] [--hold 5]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_server(port: int, sessions: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {
        "ATELIER_PORT": str(port),
        "ATELIER_DEMO": "on",
        "ATELIER_LOG_LEVEL": "warning",
        "ATELIER_LOG_FORMAT": "json",
        "ATELIER_MAX_SESSIONS": str(sessions + 1000),
        "ATELIER_MAX_SESSIONS_PER_ADDRESS": str(sessions + 1000),  # all from 127.0.0.1
        "ATELIER_MAX_CONNECTIONS": str(sessions + 1000),
        "ATELIER_MAX_CONNECTIONS_PER_ADDRESS": str(sessions + 1000),
        "ATELIER_DATA_DIR": tempfile.mkdtemp(prefix="bench-idle-"),
    }
    return spawn(env, port)


def spawn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """`python -m server` with `env`, once its `port` answers (SystemExit if it never does)."""
    proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=env)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


async def open_session(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url, compress=0, autoping=True)
    await ws.send_str('{"type":"hello","protocol":1}')
    while True:
        msg = await ws.receive()
        if msg.type is aiohttp.WSMsgType.TEXT and '"welcome"' in msg.data:
            return ws


async def bench(levels: list[int], hold: float, batch: int) -> None:
    port = free_port()
    proc = start_server(port, max(levels))
    url = f"ws://127.0.0.1:{port}/ws"
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await (await open_session(http, url)).close()  # warm the handler path once
            await asyncio.sleep(1.0)
            base = rss_kib(proc.pid)
            print(f"server RSS before any session: {base / 1024:.1f} MiB")
            print(
                f"{'sessions':>8} {'connect s':>9} {'RSS MiB':>8} {'KiB/session':>11} "
                f"{'idle CPU %':>10}"
            )
            for level in levels:
                t0 = time.perf_counter()
                while len(sockets) < level:
                    n = min(batch, level - len(sockets))
                    sockets += await asyncio.gather(*(open_session(http, url) for _ in range(n)))
                connect = time.perf_counter() - t0
                await asyncio.sleep(1.0)  # let the server finish what the handshakes started
                cpu0 = cpu_seconds(proc.pid)
                await asyncio.sleep(hold)
                idle = (cpu_seconds(proc.pid) - cpu0) / hold * 100
                rss = rss_kib(proc.pid)
                print(
                    f"{level:>8} {connect:>9.2f} {rss / 1024:>8.1f} "
                    f"{(rss - base) / level:>11.1f} {idle:>10.1f}",
                    flush=True,
                )
            await asyncio.gather(*(ws.close() for ws in sockets))
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1000,5000,10000")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds idle before measuring")
    parser.add_argument("--batch", type=int, default=200, help="handshakes in flight at once")
    args = parser.parse_args()
    levels = [int(v) for v in args.levels.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, max(levels) + 1000)), hard))
    uvloop.run(bench(levels, args.hold, args.batch))


if __name__ == "__main__":
    main()
