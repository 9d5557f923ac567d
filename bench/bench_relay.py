"""Relay cost: tokens from an LLM to a browser through Atelier, against a minimal aiohttp relay.

Both paths read the same token source (an Ollama-shaped NDJSON server in its own process whose
every token is the source's CLOCK_MONOTONIC at send time, in ns, as a whole word of letters:
"<ns> ") and the same client (aiohttp WebSocket, one socket per stream, in this process).
Atelier's word screen (server/engine/stream_screen.py) releases text up to the last word
boundary, so a token that ends in a space passes it at once; with `--words leading` (" <ns>",
as most models write) each word is held until the next token brings its boundary, and the
latency includes that hold. The client reads every word of a relayed text as one send time,
however the screen joined or split the tokens. The floor relay is what the reference
measured as "tuned": uvloop, one shared ClientSession, orjson, `send_frame(bytes, TEXT)`,
compression off, one frame per token. Atelier runs as `python -m server` (safety level adult
so no LLM verdict step, the model-free output on a ComfyUI simulator at 1 step).

Per concurrency level, in the same run, alternating floor / Atelier:
  paced  - every stream at --rate tokens/s: latency per token (client receipt minus source
           send, both CLOCK_MONOTONIC on one machine), time to first token (run.start sent to
           the first token received, per stream) and relay CPU per token (/proc utime+stime);
           a round starts once every stream's socket is open and greeted;
  burst  - the source unthrottled: delivered tokens per second.
Latency percentiles come twice: over every token, and "steady" (st.) without the first and last
--settle tokens of each stream, where every run's start-up and wrap-up work (admission, stages,
the image, the record) lands on the same loop at once.
Atelier streams the `bauhaus` interception (max_tokens 320), so --tokens is capped at 320: with
a lower max_tokens Atelier would relay fewer tokens per stream than the floor.

--gradio adds a third leg (bench/relay_gradio.py, `pip install .[bench]`): a gr.ChatInterface
on the same source, driven through Gradio's queue. Each round prints the load average.

Run: .venv/bin/python bench/bench_relay.py [--levels 1,10,100,500] [--tokens 200] [--rate 50]
     [--profile out.txt|.svg: py-spy on each relay during the paced rounds, to out-floor.txt
     and out-atelier.txt (.txt: collapsed stacks; .svg: flame graph)] [--watch-upstream:
     poll Atelier's /metrics during its paced rounds, print the most LLM streams open at once]
     .venv/bin/python bench/bench_relay.py emit [--tokens 100]  (in-process: Session.emit of
     --tokens x 1000 token events through a Connection, no sockets)
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import relay_gradio
import uvloop
from aiohttp import WSMsgType, web

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
MODEL = "llama3.2"
FLOOD_TOKENS = 320  # a run's max_tokens (haiku): what a real model stops at
#: listen() backlog of the source and the floor: a burst of 500 connections must not be
#: dropped and retried (the kernel caps it at net.core.somaxconn, 4096 here).
BACKLOG = 4096
LLM_ENTRIES = 8  # Atelier caps slots per LLM entry at 64; 8 entries x 64 hold 500 streams
LAST_TOKEN = [0.0]  # perf_counter of the latest token received
UPSTREAM_PEAK = [0.0]  # most upstream responses Atelier held open at once (--watch-upstream)
#: An interception whose max_tokens (320) is above --tokens, so Atelier relays as many tokens
#: per stream as the floor (haiku's 120 cut Atelier's streams short of the floor's 200).
INTERCEPTION = "bauhaus"
INTERCEPTION_MAX_TOKENS = 320  # workflows/interception/bauhaus.json


# -- the token source (its own process)

#: The send time is written in letters, as a word: digits would send every window of
#: Atelier's word screen through the leetspeak path (per word, in Python), which model text
#: rarely takes. No listed entry is made of these letters alone ("nsfw", "xxx", "lsd" are).
STAMP_LETTERS = "bcghjkmpqrtvz"


def stamp_word(ns: int) -> str:
    """`ns` in base 13, written with `STAMP_LETTERS`."""
    letters = []
    while ns:
        ns, digit = divmod(ns, len(STAMP_LETTERS))
        letters.append(STAMP_LETTERS[digit])
    return "".join(reversed(letters))


def stamp_time(word: str) -> int:
    """The send time `stamp_word` wrote."""
    ns = 0
    for letter in word:
        ns = ns * len(STAMP_LETTERS) + STAMP_LETTERS.index(letter)
    return ns


def source_app(tokens: int, rate: float, words: str = "trailing") -> web.Application:
    async def root(request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def tags(request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": MODEL, "model": MODEL}]})

    async def version(request: web.Request) -> web.Response:
        return web.json_response({"version": "0.12.0"})

    async def chat(request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        user = body["messages"][-1]["content"]
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        count = tokens if "RELAYBENCH" in user else 1
        pace, pad = rate, ""
        if "RELAYFLOOD" in user:  # bench_slow_consumer: a big unthrottled answer
            count, pace, pad = FLOOD_TOKENS, 0.0, "x" * 16_384
        start = time.monotonic()
        for i in range(count):
            if pace > 0:
                delay = start + i / pace - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i % 64 == 63:
                await asyncio.sleep(0)  # let the other streams' timers run
            stamp = f"{stamp_word(time.monotonic_ns())}{pad}"
            text = "ok" if count == 1 else f" {stamp}" if words == "leading" else f"{stamp} "
            line = {
                "model": MODEL,
                "message": {"role": "assistant", "content": text},
                "done": False,
            }
            await response.write(orjson.dumps(line) + b"\n")
        final = {
            "model": MODEL,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
        }
        await response.write(orjson.dumps(final) + b"\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", root)
    app.router.add_get("/api/tags", tags)
    app.router.add_get("/api/version", version)
    app.router.add_post("/api/chat", chat)
    return app


# -- the floor: a minimal tuned relay (its own process)


def floor_app(source: str) -> web.Application:
    async def session_ctx(app: web.Application) -> Any:
        connector = aiohttp.TCPConnector(limit=2000)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=60)
        app["http"] = aiohttp.ClientSession(connector=connector, timeout=timeout)
        yield
        await app["http"].close()

    async def relay(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        http: aiohttp.ClientSession = request.app["http"]
        async for msg in ws:
            start = orjson.loads(msg.data)
            body = {"model": MODEL, "messages": [{"role": "user", "content": start["prompt"]}]}
            async with http.post(f"{source}/api/chat", json=body) as upstream:
                async for line in upstream.content:
                    data = orjson.loads(line)
                    if data["done"]:
                        break
                    event = {"type": "token", "run": "r", "text": data["message"]["content"]}
                    await ws.send_frame(orjson.dumps(event), WSMsgType.TEXT)
            await ws.send_frame(orjson.dumps({"type": "run.done"}), WSMsgType.TEXT)
        return ws

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_get("/ws", relay)
    return app


# -- processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@contextlib.contextmanager
def processes(
    tokens: int, rate: float, gradio: bool = False, words: str = "trailing", baseline: str = ""
) -> Iterator[dict[str, Any]]:
    started: list[subprocess.Popen[bytes]] = []
    shape = ["--tokens", str(tokens), "--rate", str(rate), "--words", words]

    def start(
        cmd: list[str], port: int, env: dict[str, str] | None = None, cwd: Path = ROOT
    ) -> int:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=None if os.environ.get("BENCH_LOGS") else subprocess.DEVNULL,
        )
        started.append(proc)
        wait_port(port, proc)
        return proc.pid

    me = [sys.executable, str(Path(__file__).resolve())]
    try:
        src, flo, comfy, ate = free_port(), free_port(), free_port(), free_port()
        start(
            [*me, "source", "--port", str(src), *shape],
            src,
        )
        floor_pid = start(
            [*me, "floor", "--port", str(flo), "--source", f"http://127.0.0.1:{src}"], flo
        )
        harness = [sys.executable, "-m", "server.harness", "comfyui", "--port", str(comfy)]
        start([*harness, "--step-time", "0.001", "--steps", "1"], comfy)
        llm = [
            {"name": f"src{i}", "url": f"http://127.0.0.1:{src}", "slots": 64}
            for i in range(LLM_ENTRIES)
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {
            "ATELIER_PORT": str(ate),
            "ATELIER_LLM": orjson.dumps(llm).decode(),
            "ATELIER_COMFYUI_URL": f"http://127.0.0.1:{comfy}",
            "ATELIER_SAFETY_LEVEL": "adult",
            "ATELIER_LOG_LEVEL": "warning",
            "ATELIER_LOG_FORMAT": "json",
            "ATELIER_DATA_DIR": tempfile.mkdtemp(prefix="bench-relay-"),
            "ATELIER_MAX_WAITING_RUNS": "5000",
            "ATELIER_MAX_SESSIONS_PER_ADDRESS": "20000",  # every stream comes from 127.0.0.1
            # and names an address of its own: cookie-less runs count per address (issue 15)
            "ATELIER_TRUSTED_PROXIES": '["127.0.0.1"]',
            "ATELIER_MAX_CONNECTIONS_PER_ADDRESS": "4096",  # and is a connection of that address
            "ATELIER_MONITOR_TOKEN": MONITOR_TOKEN,  # /metrics is for operators only
        }
        atelier_pid = start([sys.executable, "-m", "server"], ate, env)
        targets = {
            "floor": (f"ws://127.0.0.1:{flo}/ws", floor_pid),
            "atelier": (f"ws://127.0.0.1:{ate}/ws", atelier_pid),
        }
        if gradio:
            gra = free_port()
            cmd = [*me, "gradio", "--port", str(gra), "--source", f"http://127.0.0.1:{src}"]
            targets["gradio"] = (f"http://127.0.0.1:{gra}", start(cmd, gra))
        if baseline:  # another tree's Atelier (say, before a change) in the same rounds
            bas = free_port()
            env |= {
                "ATELIER_PORT": str(bas),
                "ATELIER_DATA_DIR": tempfile.mkdtemp(prefix="bench-relay-"),
                "PYTHONPATH": baseline,
            }
            pid = start([sys.executable, "-m", "server"], bas, env, Path(baseline))
            targets["baseline"] = (f"ws://127.0.0.1:{bas}/ws", pid)
        yield targets
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            proc.wait(10)


# -- the client side


class Ready:
    """Counts greeted streams; the round starts once every one of them is (no fixed wait)."""

    def __init__(self, streams: int) -> None:
        self.left = streams
        self.all = asyncio.Event()

    def one(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.all.set()


@dataclass
class Figures:
    """One round's client-side figures, in µs."""

    lat: list[float] = field(default_factory=list)
    steady: list[float] = field(default_factory=list)
    #: Per stream: run.start sent -> its first token received.
    ttft: list[float] = field(default_factory=list)


def sent_times(text: str) -> list[int]:
    """The source's send times in a relayed text: each whole word is one token's
    CLOCK_MONOTONIC in ns (the flood pads it with x's). The word screen may join tokens
    or split them at word boundaries; every word still arrives whole, and once."""
    return [stamp_time(word.split("x", 1)[0]) for word in text.split()]


async def one_stream(
    http: aiohttp.ClientSession,
    url: str,
    kind: str,
    gate: asyncio.Event,
    ready: Ready,
    figures: Figures,
    settle: int,
    prompt: str,
    address: str,
) -> int:
    mine: list[float] = []
    if kind == "gradio":
        return await gradio_stream(http, url, gate, ready, figures, settle, prompt)
    headers = {"X-Forwarded-For": address}  # one student each (`ATELIER_TRUSTED_PROXIES`)
    async with http.ws_connect(url, compress=0, max_msg_size=0, headers=headers) as ws:
        if kind in ("atelier", "baseline"):
            await ws.send_str('{"type":"hello","protocol":1}')
            while orjson.loads((await ws.receive()).data)["type"] != "welcome":
                pass
        ready.one()
        await gate.wait()
        start = {
            "type": "run.start",
            "prompt": prompt,
            "interception": INTERCEPTION,
            "output": "model_free",
            "width": 16,
            "height": 16,
        }
        started = time.monotonic_ns()
        await ws.send_str(orjson.dumps(start).decode())
        async for msg in ws:
            now = time.monotonic_ns()
            event = orjson.loads(msg.data)
            kind_ = event["type"]
            if event.get("text") == "ok":  # the 1-token answers of fixed-cost runs
                continue
            if kind_ == "token" and event.get("stage", "interception") == "interception":
                sent = sent_times(event["text"])
                if sent and not mine:
                    figures.ttft.append((now - started) / 1e3)
                mine.extend((now - t) / 1e3 for t in sent)
                LAST_TOKEN[0] = max(LAST_TOKEN[0], time.perf_counter())
            elif kind_ == "run.done" or kind_ == "error":
                break
    figures.lat.extend(mine)
    figures.steady.extend(mine[settle : len(mine) - settle])
    return len(mine)


async def gradio_stream(
    http: aiohttp.ClientSession,
    base: str,
    gate: asyncio.Event,
    ready: Ready,
    figures: Figures,
    settle: int,
    prompt: str,
) -> int:
    """One chat through Gradio's queue, measured as `one_stream` measures a socket."""
    mine: list[float] = []
    ready.one()  # nothing to greet: Gradio's session starts with the request
    await gate.wait()
    started = time.monotonic_ns()

    def on_text(text: str, now: int) -> None:
        sent = [] if text == "ok" else sent_times(text)
        if sent and not mine:
            figures.ttft.append((now - started) / 1e3)
        mine.extend((now - t) / 1e3 for t in sent)
        if sent:
            LAST_TOKEN[0] = max(LAST_TOKEN[0], time.perf_counter())

    await relay_gradio.stream(http, base, prompt, on_text)
    figures.lat.extend(mine)
    figures.steady.extend(mine[settle : len(mine) - settle])
    return len(mine)


async def all_ready(ready: Ready, tasks: list[asyncio.Task[int]]) -> None:
    """Wait until every stream is greeted; a stream that failed first raises its error."""
    waiter = asyncio.create_task(ready.all.wait())
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if not ready.all.is_set():
        waiter.cancel()
        await next(task for task in tasks if task.done())
        raise SystemExit("a stream ended before the round started")


async def measure(
    url: str,
    pid: int,
    kind: str,
    streams: int,
    prompt: str = "RELAYBENCH a fox",
    settle: int = 0,
    watch: bool = False,
) -> tuple[int, float, float, Figures]:
    figures = Figures()
    gate = asyncio.Event()
    ready = Ready(streams)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [
            asyncio.create_task(
                one_stream(
                    http,
                    url,
                    kind,
                    gate,
                    ready,
                    figures,
                    settle,
                    prompt,
                    f"10.{n // 256}.{n % 256}.1",
                )
            )
            for n in range(streams)
        ]
        await all_ready(ready, tasks)  # every socket connected and greeted
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        gate.set()
        UPSTREAM_PEAK[0] = 0.0
        watcher = asyncio.create_task(watch_upstream(url)) if watch else None
        tokens = sum(await asyncio.gather(*tasks))
        if watcher is not None:
            watcher.cancel()
        cpu = cpu_seconds(pid) - cpu0
        wall = max(LAST_TOKEN[0] - t0, 1e-9)  # to the last token: runs end later (the image)
    return tokens, wall, cpu, figures


#: The spawned Atelier's monitor token: /metrics is served to operators only.
MONITOR_TOKEN = secrets.token_urlsafe(32)
MONITOR_HEADERS = {"Authorization": f"Bearer {MONITOR_TOKEN}"}


async def watch_upstream(ws_url: str) -> None:
    """Poll Atelier's /metrics for `atelier_upstream_open` (its streams to the LLM servers):
    with a pool smaller than the slots, runs holding a slot wait here unseen."""
    metrics = ws_url.replace("ws://", "http://").removesuffix("/ws") + "/metrics"
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(metrics, headers=MONITOR_HEADERS) as response:
                for line in (await response.text()).splitlines():
                    if line.startswith("atelier_upstream_open "):
                        UPSTREAM_PEAK[0] = max(UPSTREAM_PEAK[0], float(line.split()[1]))
            await asyncio.sleep(0.25)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, int(q / 100 * len(ordered) + 0.5) - 1))]


@contextlib.contextmanager
def profiled(path: str, pid: int) -> Iterator[None]:
    """py-spy on a relay process while the block runs (raw collapsed stacks for .txt).

    py-spy pauses the process for each sample (its --nonblocking mode truncated the coroutine
    stacks here), so the latency figures of a profiled round are not the relay's own."""
    if not path:
        yield
        return
    fmt = "raw" if path.endswith(".txt") else "flamegraph"
    spy = Path(sys.executable).parent / "py-spy"
    cmd = [
        str(spy),
        "record",
        "-r",
        "200",
        "-f",
        fmt,
        "-o",
        path,
        "--pid",
        str(pid),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(2)  # py-spy writes its output on SIGINT
        proc.wait(30)


HEADER = (
    f"{'streams':>7} {'path':8} {'tokens':>7} {'tok/s':>8} {'CPU µs/tok':>10} {'marginal':>8} "
    f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'st.p50':>7} {'st.p99':>7} "
    f"{'ttft50':>7} {'ttft99':>7}"
)


def row(
    streams: int, kind: str, tokens: int, wall: float, cpu: float, marginal: float, figures: Figures
) -> str:
    lat = [v / 1000 for v in figures.lat] or [float("nan")]
    steady = [v / 1000 for v in figures.steady]
    ttft = [v / 1000 for v in figures.ttft]
    return (
        f"{streams:>7} {kind:8} {tokens:>7} {tokens / wall:>8.0f} "
        f"{cpu / max(tokens, 1) * 1e6:>10.1f} {marginal:>8.1f} {pct(lat, 50):>7.2f} "
        f"{pct(lat, 99):>7.2f} {max(lat):>7.2f} {pct(steady, 50):>7.2f} {pct(steady, 99):>7.2f} "
        f"{pct(ttft, 50):>7.2f} {pct(ttft, 99):>7.2f}"
    )


async def fixed_costs(targets: dict[str, Any], streams: int) -> dict[str, float]:
    """A run's fixed cost (accept, stages, the 1-token LLM calls, the image, the record) per
    path, measured with 1-token runs, so the per-token figure can exclude it."""
    fixed = {}
    runs = max(streams, 20)
    for kind, (url, pid) in targets.items():
        _, _, cpu, _ = await measure(url, pid, kind, runs, "no bench")
        fixed[kind] = cpu / runs
    return fixed


async def bench(args: argparse.Namespace) -> None:
    with processes(args.tokens, args.rate, args.gradio, args.words, args.baseline) as targets:
        for kind, (url, pid) in targets.items():  # warm up every path
            await measure(url, pid, kind, 2)
        print(HEADER)
        for streams in args.levels:
            legs = {k: v for k, v in targets.items() if k != "gradio" or streams <= args.gradio_max}
            fixed = await fixed_costs(legs, streams)
            print(
                f"{streams:>7} fixed CPU per run: "
                + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in fixed.items()),
                flush=True,
            )
            for round_ in range(args.rounds):
                load = os.getloadavg()
                rows = {}
                for kind, (url, pid) in legs.items():
                    spy = args.profile.replace(".", f"-{kind}.", 1) if args.profile else ""
                    with profiled(spy, pid):
                        watch = args.watch_upstream and kind == "atelier"
                        tokens, wall, cpu, figures = await measure(
                            url, pid, kind, streams, settle=args.settle, watch=watch
                        )
                    rows[kind] = (cpu - fixed[kind] * streams) / max(tokens, 1) * 1e6
                    print(
                        row(streams, kind, tokens, wall, cpu, rows[kind], figures)
                        + (f" upstream_open {UPSTREAM_PEAK[0]:.0f}" if watch else ""),
                        flush=True,
                    )
                ratios = ", ".join(
                    f"{kind}/floor {rows[kind] / rows['floor']:.2f}"
                    for kind in rows
                    if kind != "floor" and rows["floor"] > 0
                )
                print(
                    f"{'':>7} round {round_ + 1}: marginal CPU per token {ratios}; "
                    f"load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
                    f"after {os.getloadavg()[0]:.2f}",
                    flush=True,
                )


# -- in-process: the engine's own cost per token, without sockets


class _NullSocket:
    """A transport whose writes always succeed at once (and can be written directly)."""

    async def send(self, data: bytes) -> None:
        pass

    def send_now(self, data: bytes) -> bool:
        return True

    async def close(self, code: int, message: str) -> None:
        pass

    def abort(self) -> None:
        pass


async def emit_cost(tokens: int) -> None:
    """`Session.emit(Token, ...)` through a Connection, yielding to the loop after each token
    as the LLM read does: encode, event log, outbox and writer (or the direct write)."""
    from server.engine.connection import Connection
    from server.engine.people.identity import anonymous
    from server.engine.session import Session, WelcomeInfo
    from server.engine.stats import SocketStats
    from server.protocol import CloseCode, Limits, StageName, Token

    stats = SocketStats()
    conn = Connection(
        _NullSocket(),
        outbox_limit=tokens + 10,
        send_timeout=5,
        heartbeat_idle=3600,
        on_idle=lambda: None,
        stats=stats,
    )
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0)
    session = Session("bench", "secret", log_limit=1000, stats=stats, identity=anonymous("bench"))
    limits = Limits(
        max_message_bytes=1,
        max_prompt_chars=1,
        max_meta_prompt_chars=1,
        max_runs_in_flight=1,
        messages_per_second=1.0,
    )
    session.attach(conn, None, WelcomeInfo(limits, 25.0, demo=False))
    for _round in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(tokens):
            session.emit(Token, run="r-abcdefghijkl", stage=StageName.INTERCEPTION, text=f" {i}")
            await asyncio.sleep(0)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"emit: {wall / tokens * 1e6:.2f} µs per token ({cpu / tokens * 1e6:.2f} CPU)")
    conn.close(CloseCode.NORMAL, "bye")
    await writer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "role",
        nargs="?",
        default="bench",
        choices=["bench", "source", "floor", "gradio", "emit"],
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--source", default="")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="tokens/s per stream; 0: burst")
    parser.add_argument("--levels", default="1,10,100,500")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", default="", help="py-spy output for the paced rounds")
    parser.add_argument(
        "--watch-upstream",
        action="store_true",
        help="poll Atelier's /metrics during its paced rounds for the most open LLM streams",
    )
    parser.add_argument(
        "--gradio",
        action="store_true",
        help="a third leg: a gr.ChatInterface on the same source (the `bench` extra)",
    )
    parser.add_argument(
        "--gradio-max",
        type=int,
        default=100,
        help="the most streams the Gradio leg runs (past its one core it falls minutes behind)",
    )
    parser.add_argument(
        "--baseline",
        default="",
        help="a directory holding another tree of Atelier (`git archive REV | tar -x`): "
        "measured as a fourth leg in the same rounds",
    )
    parser.add_argument(
        "--words",
        choices=["trailing", "leading"],
        default="trailing",
        help="the source's tokens as 'ns ' (each passes the word screen at once) or ' ns' "
        "(as most models write: the screen holds each word until the next token's space)",
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=25,
        help="tokens left out at each end of every stream for the steady-state percentiles",
    )
    args = parser.parse_args()
    args.levels = [int(v) for v in args.levels.split(",")]
    if args.role == "bench" and args.tokens > INTERCEPTION_MAX_TOKENS:
        parser.error(
            f"--tokens above {INTERCEPTION_MAX_TOKENS}: Atelier would stop its streams early"
        )
    # Every process of the bench freezes its start-up heap, as `python -m server` does, so a
    # full collection in the source, the floor or the client does not land in either path's
    # latency figures (they were 9-22 ms each here).
    gc.freeze()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.role == "source":
        web.run_app(
            source_app(args.tokens, args.rate, args.words),
            port=args.port,
            backlog=BACKLOG,
            print=None,
            access_log=None,
            loop=uvloop.new_event_loop(),
        )
    elif args.role == "floor":
        web.run_app(
            floor_app(args.source),
            port=args.port,
            backlog=BACKLOG,
            print=None,
            access_log=None,
            loop=uvloop.new_event_loop(),
        )
    elif args.role == "gradio":
        relay_gradio.serve(args.port, args.source, MODEL)
    elif args.role == "emit":
        uvloop.run(emit_cost(args.tokens * 1000))
    else:
        uvloop.run(bench(args))


if __name__ == "__main__":
    main()
