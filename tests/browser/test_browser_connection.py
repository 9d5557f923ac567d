"""The connection indicator tells the truth: it leaves "connected" when the browser goes
offline (at once, long before any silence check) and when the link goes silent for two
heartbeat intervals (a dead link the browser has not noticed), and the page opens a new socket."""

from __future__ import annotations

import pytest
from playwright.async_api import WebSocketRoute, expect

from tests.axe_support import assert_accessible
from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, demo_page, record_changes, recorded
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser

#: Seconds between the server's idle heartbeats in the silence test; the page gives up on a
#: socket after two of them (2 s).
HEARTBEAT = 1.0
#: How long the silence test waits for the indicator: two intervals plus 3 s for a loaded
#: machine, and still under the old bound (two intervals + 5 s) that the issue measured.
SILENCE_WAIT_MS = int((2 * HEARTBEAT + 3) * 1000)


async def test_going_offline_says_offline_at_once_and_coming_back_reconnects(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    # The default heartbeat (25 s) puts the silence check at 50 s: only the browser's
    # `offline` event can move the indicator within the wait below.
    _, page = await demo_page(start_pipeline, open_page)
    await record_changes(page, "#conn", "states", "data-state")
    await page.context.set_offline(True)
    await expect(page.locator("#conn")).to_have_attribute("data-state", "offline", timeout=WAIT_MS)
    await assert_accessible(page, "offline")  # the indicator's colours too
    await page.context.set_offline(False)
    await connected(page)
    states = await recorded(page, "states")
    assert states[:2] == ["connected", "offline"], states  # never "connected" while offline
    assert states[-1] == "connected"


async def test_a_silent_link_leaves_connected_and_the_page_opens_a_new_socket(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult", heartbeat_idle=HEARTBEAT)
    sockets: list[WebSocketRoute] = []
    muted: set[int] = set()  # indexes into sockets

    def relay(route: WebSocketRoute) -> None:
        """Pass everything through, except the server's messages on a muted socket."""
        index = len(sockets)
        sockets.append(route)
        upstream = route.connect_to_server()
        upstream.on_message(lambda message: None if index in muted else route.send(message))

    page = await open_page(server)
    await connected(page)
    await page.route_web_socket("**/ws", relay)
    await page.reload()  # from now on every socket of the page goes through relay()
    await connected(page)
    await record_changes(page, "#conn", "states", "data-state")
    muted.add(len(sockets) - 1)  # this socket stays open, but nothing reaches the page
    # The recorder, not a poll of the attribute: the new socket can be up within half a second.
    await page.wait_for_function(
        "() => window.states.some((state) => state !== 'connected')", timeout=SILENCE_WAIT_MS
    )
    await connected(page)  # through a new socket: the muted one stays silent
    assert len(sockets) >= 2, "the silent socket was not replaced by a new one"
    states = await recorded(page, "states")
    assert states[0] == "connected"
    assert states[-1] == "connected"
    assert len(states) >= 3, states
