"""Reading the server's own counters from /metrics (Prometheus text) before and after a load.

`parse_metrics` is pure. `settle` polls until the gauges that must return to zero do, bounded
in time: runs end and sockets close asynchronously after the last client message.
"""

from __future__ import annotations

import asyncio

import aiohttp

#: The gauges the report shows; labelled ones are flattened as name{label="value"}.
WATCHED = (
    "atelier_sessions",
    "atelier_sockets",
    "atelier_runs_active",
    "atelier_slots_held",
    "atelier_upstream_open",
    "atelier_tasks",
    "atelier_replayed_events_total",
    "atelier_resumes_total",
    "atelier_outbox_overflows_total",
    "atelier_send_timeouts_total",
    "atelier_messages_out_total",
    "atelier_backend_transitions_total",
)


def parse_metrics(text: str, watched: tuple[str, ...] = WATCHED) -> dict[str, float]:
    """Samples whose metric name is in `watched`, keyed by name plus labels as written."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name = key.split("{", 1)[0]
        if name in watched:
            values[key] = float(value)
    return values


def transitions_during(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Backend health changes between two scrapes, summed over instances, by state entered."""
    changes: dict[str, int] = {}
    for key, value in after.items():
        if key.startswith("atelier_backend_transitions_total{"):
            state = key.rsplit('state="', 1)[1].split('"', 1)[0]
            changes[state] = changes.get(state, 0) + int(value - before.get(key, 0.0))
    return dict(sorted(changes.items()))


def metrics_url(ws_url: str) -> str:
    """ws://host:port/ws -> http://host:port/metrics"""
    scheme, rest = ws_url.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{'https' if scheme == 'wss' else 'http'}://{host}/metrics"


def monitor_headers(token: str | None) -> dict[str, str]:
    """The header that lets a monitor read /metrics (the server's `monitor_token`)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


async def scrape(url: str, timeout: float = 10.0, token: str | None = None) -> dict[str, float]:
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with (
        aiohttp.ClientSession(timeout=client_timeout) as http,
        http.get(url, headers=monitor_headers(token)) as response,
    ):
        response.raise_for_status()
        return parse_metrics(await response.text())


def leaked(values: dict[str, float], zero: tuple[str, ...]) -> list[str]:
    return [name for name in zero if values.get(name)]


async def settle(
    url: str, zero: tuple[str, ...], timeout: float, token: str | None = None
) -> dict[str, float]:
    """Scrape until every gauge in `zero` reads 0, or `timeout` passes; the last scrape."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        values = await scrape(url, token=token)
        if not leaked(values, zero) or loop.time() >= deadline:
            return values
        await asyncio.sleep(0.1)
