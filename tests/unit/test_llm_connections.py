"""How big an LLM instance's work pool is, and which failures mean "the server closed the
pooled connection under the request" (retried once on a fresh connection)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from server.engine.backends.config import LLMBackendConfig
from server.engine.llm import LLMInstanceConfig
from server.engine.llm.transport import CHECK_CONNECTIONS, lost_before_answer
from server.engine.llm.types import POOL_HEADROOM, UNSIZED_POOL


def test_the_work_pool_has_a_connection_per_slot_plus_headroom() -> None:
    assert LLMBackendConfig(name="gpu", slots=64).pool_size == 64 + POOL_HEADROOM
    assert LLMBackendConfig(name="gpu").pool_size == 1 + POOL_HEADROOM


def test_an_explicit_connection_limit_wins_over_the_slots() -> None:
    assert LLMBackendConfig(name="gpu", slots=64, max_connections=8).pool_size == 8


def test_a_client_without_slots_keeps_a_fixed_pool() -> None:
    assert LLMInstanceConfig(name="bare").pool_size == UNSIZED_POOL


def connector_error() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("127.0.0.1", 1, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))


@pytest.mark.parametrize(
    ("exc", "stale"),
    [
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), True),
        (aiohttp.ClientOSError(32, "Can not write request body"), True),
        (connector_error(), False),  # never connected: not a pooled connection's fault
        (aiohttp.ClientPayloadError("cut"), False),
        (aiohttp.ClientResponseError(None, (), status=500), False),  # type: ignore[arg-type]
    ],
)
def test_only_a_connection_lost_under_the_request_counts_as_stale(
    exc: aiohttp.ClientError, stale: bool
) -> None:
    assert lost_before_answer(exc) is stale


def test_the_configuration_doc_states_the_pool_and_check_connections() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    text = " ".join(doc.split())  # line breaks fall anywhere
    assert f"the pool has `slots` + {POOL_HEADROOM} " in text
    assert f"**Checks** (the health check, the model list): {CHECK_CONNECTIONS} connections" in text
