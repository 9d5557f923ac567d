"""Driving browser-like sessions: each one connects, starts its runs with pauses between them,
may cancel some, may lose and resume its connection, and waits until every run has ended.

All sessions run in one event loop with one monotonic clock, so latencies measured across
sessions (the queue-update probe) compare like with like. Randomness comes from one seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from server.harness.client import AtelierClient, ClientClosed, Message
from server.harness.load.ledger import QueueProbes, RunRecord, SessionLedger
from server.harness.load.metrics import metrics_url, scrape, settle
from server.harness.load.report import MUST_BE_ZERO, Traffic, build_report

PROMPTS = (
    "ein Fuchs im Schnee",
    "a lighthouse at night",
    "a cat on a red roof",
    "ein Schloss auf einem Berg",
    "a ship in a storm",
)


@dataclass(frozen=True)
class LoadPlan:
    url: str  # ws://host:port/ws
    sessions: int = 10
    runs_per_session: int = 2
    interception: str = "bauhaus"
    pause: tuple[float, float] = (0.5, 2.0)  # seconds between a session's run.starts
    ramp: float = 1.0  # sessions connect spread over this many seconds
    cancel_rate: float = 0.0  # share of runs cancelled (while they wait, when they do)
    drop_rate: float = 0.0  # share of runs during which the connection is cut and resumed
    reconnect_delay: tuple[float, float] = (0.05, 0.5)
    run_timeout: float = 120.0  # longest a session waits for its runs to end
    settle_timeout: float = 15.0  # longest to wait for the server's gauges to return to 0
    seed: int = 1
    origin: str | None = None
    #: The server's `monitor_token`, sent to read /metrics (None: the server serves it so).
    monitor_token: str | None = None


def student_address(index: int) -> str:
    """The client address simulated student `index` names: one in 10.0.0.0/8 each."""
    return f"10.{index // 65_536 % 256}.{index // 256 % 256}.{index % 256}"


class LoadClient(AtelierClient):
    """An AtelierClient whose every received message is also fed to a ledger."""

    def __init__(
        self, url: str, ledger: SessionLedger, origin: str | None, address: str | None = None
    ) -> None:
        # Each simulated student names an address of its own (heeded from a trusted proxy):
        # cookie-less sockets of one address are one person to the run limits (issue 15).
        headers = {"X-Forwarded-For": address} if address else None
        super().__init__(url, origin=origin, headers=headers)
        self.ledger = ledger
        self.received = 0

    def _account(self, message: Message) -> None:
        super()._account(message)
        self.received += 1
        self.ledger.observe(message, time.monotonic())
        self.messages.clear()  # the ledger keeps what we need; a long load would pile up


class SessionDriver:
    def __init__(self, plan: LoadPlan, index: int, probes: QueueProbes, everyone: list[RunRecord]):
        self.plan = plan
        self.index = index
        self.rng = random.Random(plan.seed * 1_000_003 + index)
        self.ledger = SessionLedger(probes)
        self.client = LoadClient(plan.url, self.ledger, plan.origin, student_address(index))
        self.everyone = everyone  # every run of the whole load, for the queue probe
        self.connected = asyncio.Event()
        self.drop_at: list[int] = []  # message counts at which to cut the connection
        self.unanswered: dict[str, Message] = {}  # starts sent, not yet accepted or refused

    async def run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.plan.ramp))
        await self.client.connect()
        self.connected.set()
        reader = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(self.plan.run_timeout):
                await self._start_runs()
                await self._until_settled()
        except TimeoutError:
            pass  # the report counts runs without run.done as lost
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await self.client.close()

    async def _start_runs(self) -> None:
        cancels: list[asyncio.Task[None]] = []
        for n in range(self.plan.runs_per_session):
            if n:
                await asyncio.sleep(self.rng.uniform(*self.plan.pause))
            record = await self._start(f"s{self.index}-{n}")
            if self.rng.random() < self.plan.drop_rate:
                self.drop_at.append(self.client.received + self.rng.randint(1, 30))
            if self.rng.random() < self.plan.cancel_rate:
                cancels.append(asyncio.create_task(self._cancel_when_waiting(record)))
        await asyncio.gather(*cancels)

    async def _start(self, ref: str) -> RunRecord:
        message = {
            "type": "run.start",
            "prompt": self.rng.choice(PROMPTS),
            "interception": self.plan.interception,
            "seed": self.rng.randrange(2**31),
            "ref": ref,
        }
        record = self.ledger.start_sent(ref, time.monotonic())
        self.everyone.append(record)
        await self._send(message)
        self.unanswered[ref] = message
        return record

    async def _send(self, message: Message) -> None:
        """Send, waiting out a reconnect; a start lost with the socket is sent again."""
        while True:
            await self.connected.wait()
            try:
                await self.client.send(message)
                return
            except (ConnectionClosed, ClientClosed, OSError):
                self.connected.clear()
                await asyncio.sleep(0.01)

    async def _cancel_when_waiting(self, record: RunRecord) -> None:
        """Cancel while the run waits in a line if it does within a moment, else anyway."""
        for _ in range(200):
            if record.resolved or (record.run is not None and record.waiting is not None):
                break
            await asyncio.sleep(0.01)
        if record.run is None or record.resolved:
            return
        self.ledger.cancel_sent(record.run, time.monotonic(), self.everyone)
        await self._send({"type": "run.cancel", "run": record.run})

    async def _until_settled(self) -> None:
        # The ledger is fed from inside the client's receive path; polling it keeps that pure.
        while not self.ledger.settled:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    async def _read(self) -> None:
        while True:
            try:
                await self.client.recv(timeout=3600)
            except (ClientClosed, ConnectionClosed, OSError):
                await self._resume()
                continue
            if self.drop_at and self.client.received >= self.drop_at[0]:
                self.drop_at.pop(0)
                await self._resume(drop=True)

    async def _resume(self, drop: bool = False) -> None:
        self.connected.clear()
        if drop:
            self.client.drop()
        await asyncio.sleep(self.rng.uniform(*self.plan.reconnect_delay))
        await self.client.reconnect()
        # The replay came before `welcome`: a start still unanswered never reached the server.
        for ref, message in list(self.unanswered.items()):
            record = self.ledger.by_ref[ref]
            if record.run is None and not record.resolved:
                await self.client.send(message)
            else:
                del self.unanswered[ref]
        self.connected.set()


async def run_load(plan: LoadPlan) -> dict[str, Any]:
    """Drive the whole load and return the report (see report.build_report)."""
    url = metrics_url(plan.url)
    before = await scrape(url, token=plan.monitor_token)
    probes = QueueProbes()
    everyone: list[RunRecord] = []
    drivers = [SessionDriver(plan, i, probes, everyone) for i in range(plan.sessions)]
    started = time.monotonic()
    await asyncio.gather(*(d.run() for d in drivers))
    seconds = time.monotonic() - started
    after = await settle(url, MUST_BE_ZERO, plan.settle_timeout, plan.monitor_token)
    traffic = Traffic(
        seconds=seconds,
        reconnects=sum(d.client.reconnects for d in drivers),
        replayed=sum(d.client.replayed for d in drivers),
        client_gaps=sum(d.client.gaps for d in drivers),
        client_duplicates=sum(d.client.duplicates for d in drivers),
    )
    return build_report([d.ledger for d in drivers], traffic, before, after, probes.delays)
