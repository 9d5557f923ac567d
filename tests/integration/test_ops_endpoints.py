"""Health, readiness, metrics and the page, over a real port."""

from __future__ import annotations

from aiohttp import ClientSession

from server.harness.client import AtelierClient
from tests.conftest import MONITOR_HEADERS, MONITOR_TOKEN, StartServer, ws_url


async def test_healthz_and_readyz_answer(start_server: StartServer) -> None:
    server = await start_server()
    async with ClientSession() as http:
        health = await http.get(server.make_url("/healthz"))
        ready = await http.get(server.make_url("/readyz"))
        assert (health.status, await health.json()) == (200, {"status": "ok"})
        assert ready.status == 200
        assert (await ready.json())["status"] == "ready"


async def test_metrics_count_sessions_sockets_and_messages(start_server: StartServer) -> None:
    server = await start_server(monitor_token=MONITOR_TOKEN)
    client = AtelierClient(ws_url(server))
    await client.connect()
    await client.send_raw("{oops")
    await client.wait_for(lambda m: m["type"] == "error")
    async with ClientSession() as http:
        response = await http.get(server.make_url("/metrics"), headers=MONITOR_HEADERS)
        text = await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = set(text.splitlines())
    assert 'atelier_sessions{state="attached"} 1.0' in lines
    assert 'atelier_sessions{state="detached"} 0.0' in lines
    assert "atelier_sockets 1.0" in lines
    assert "atelier_messages_in_total 2.0" in lines
    assert "atelier_sessions_created_total 1.0" in lines
    for name in ("outbox_overflows", "resumes", "replayed_events", "resyncs"):
        assert f"atelier_{name}_total 0.0" in lines


async def test_index_page_is_served_with_its_modules(start_server: StartServer) -> None:
    server = await start_server()
    async with ClientSession() as http:
        page = await http.get(server.make_url("/"))
        module = await http.get(server.make_url("/static/js/connection.js"))
        escape = await http.get(server.make_url("/static/../server/app.py"))
        assert page.status == 200
        assert "/static/js/main.js" in await page.text()
        assert module.status == 200
        assert "javascript" in module.headers["Content-Type"]
        assert escape.status in (403, 404)
