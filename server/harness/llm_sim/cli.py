"""`python -m server.harness {ollama,openai} [options]`: a simulator as its own process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence

from server.harness.llm_sim.base import SimulatorBase
from server.harness.llm_sim.common import SimSettings, default_responder
from server.harness.llm_sim.ollama import OllamaSimulator
from server.harness.llm_sim.openai import OpenAISimulator


def parse_args(argv: list[str]) -> argparse.Namespace:
    kind = argv[0] if argv else "ollama"
    parser = argparse.ArgumentParser(prog=f"python -m server.harness {kind}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434 if kind == "ollama" else 8080)
    parser.add_argument("--tokens-per-second", type=float, default=50.0, help="0: unthrottled")
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--max-parallel", type=int, default=1)
    parser.add_argument("--max-queue", type=int, default=512)
    parser.add_argument("--ping-interval", type=float, default=15.0)
    parser.add_argument("--flavor", choices=["llama-server", "llama-cpp-python"])
    parser.add_argument("--accept-any-model", action="store_true")
    parser.add_argument(
        "--close-after-stream",
        type=float,
        metavar="SECONDS",
        help="openai: like llama-server, close a connection this long after a streamed answer",
    )
    parser.add_argument(
        "--models-wait-for-generation",
        action="store_true",
        help="openai: like llama-cpp-python, answer /v1/models only when a slot is free",
    )
    parser.add_argument(
        "--interrupt-requests",
        action="store_true",
        help="openai: like llama-cpp-python's default, cut an answer short when a request waits",
    )
    parser.add_argument("--fail-after", type=int, help="fault: error after N tokens")
    parser.add_argument("--truncate-after", type=int, help="fault: EOF after N tokens")
    parser.add_argument("--hang-after", type=int, help="fault: stall after N tokens")
    parser.add_argument(
        "--answer-repeat", type=int, default=1, help="repeat the default answer N times (load)"
    )
    parser.add_argument(
        "--garbage-answers",
        action="store_true",
        help="fault: a model that follows no format (every answer is garbage, schema or not)",
    )
    return parser.parse_args(argv[1:])


def build(kind: str, args: argparse.Namespace) -> SimulatorBase:
    settings = SimSettings(
        tokens_per_second=args.tokens_per_second,
        first_token_delay=args.first_token_delay,
        max_parallel=args.max_parallel,
        max_queue=args.max_queue,
        ping_interval=args.ping_interval,
        flavor=args.flavor or "llama-server",
        accept_any_model=args.accept_any_model,
        close_after_stream=args.close_after_stream,
        models_wait_for_generation=args.models_wait_for_generation,
        interrupt_requests=args.interrupt_requests,
    )
    repeat = max(1, args.answer_repeat)

    def responder(messages: Sequence[dict[str, str]]) -> str:
        return " ".join([default_responder(messages)] * repeat)

    simulator = OllamaSimulator if kind == "ollama" else OpenAISimulator
    sim: SimulatorBase = simulator(settings, responder)
    sim.faults.fail_after_tokens = args.fail_after
    sim.faults.truncate_after_tokens = args.truncate_after
    sim.faults.hang_after_tokens = args.hang_after
    sim.faults.garbage_answers = args.garbage_answers
    return sim


async def serve(sim: SimulatorBase, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    url = await sim.start(host, port)
    print(f"{sim.kind} simulator listening on {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def run_cli(argv: list[str]) -> None:
    kind = argv[0] if argv else ""
    if kind not in ("ollama", "openai"):
        raise SystemExit("usage: python -m server.harness {ollama,openai} [options]")
    args = parse_args(argv)
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    runner(serve(build(kind, args), args.host, args.port))
