"""DNS rebinding: a request addressed to a name that is not this server's gets 421.

The rules are checked on the pure `AllowedHosts`; then over a real 127.0.0.1 port for HTTP and
for the WebSocket upgrade, with the `Host` header a rebinding page's browser would send.
"""

from __future__ import annotations

import aiohttp
import pytest

from server.handlers.hostcheck import MAX_HOST_CHARS, AllowedHosts, split_host
from tests.conftest import StartServer, make_settings, ws_url

PUBLIC = "https://atelier.school.example"


def allowed(**overrides: object) -> AllowedHosts:
    return AllowedHosts.of(make_settings(**overrides))


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.1", "10.0.0.5:80"],
)
def test_loopback_names_and_ip_addresses_are_served_on_any_port(host: str) -> None:
    assert allowed().allows(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8080",
        "evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io:8080",
        "atelier.school.example",  # no public_url configured: not ours
        "",
        None,
        "localhost:",
        "localhost:99999",
        "localhost:-1",
        "user@localhost",
        "localhost/path",
        "[::1",
        "l" * (MAX_HOST_CHARS + 1),
    ],
)
def test_other_names_and_malformed_hosts_are_refused(host: str | None) -> None:
    assert not allowed().allows(host)


def test_public_host_is_served_with_its_port_only() -> None:
    hosts = allowed(public_url=PUBLIC)
    assert hosts.allows("atelier.school.example")
    assert hosts.allows("Atelier.School.Example:443")
    assert not hosts.allows("atelier.school.example:8443")
    assert not hosts.allows("evil.example")
    assert hosts.allows("localhost:8080")  # the teacher's own machine still works


def test_public_url_with_its_own_port_needs_that_port() -> None:
    hosts = allowed(public_url="http://atelier.lan:8080")
    assert hosts.allows("atelier.lan:8080")
    assert not hosts.allows("atelier.lan")  # that is port 80


def test_configured_host_is_served_unless_it_is_a_wildcard() -> None:
    assert allowed(host="atelier.lan").allows("atelier.lan:8080")
    assert not allowed(host="0.0.0.0").allows("atelier.lan:8080")
    assert not allowed(host="::").allows("atelier.lan:8080")


def test_the_monitor_listeners_host_is_served_too() -> None:
    hosts = allowed(host="0.0.0.0", monitor_host="metrics.lan", monitor_port=9100)
    assert hosts.allows("metrics.lan:9100")
    assert not hosts.allows("atelier.lan:8080")


def test_split_host_gives_the_name_without_brackets_and_the_port() -> None:
    assert split_host("[::1]:8080") == ("::1", 8080)
    assert split_host("Example.ORG.") == ("example.org", None)


async def test_http_request_for_another_host_gets_421(start_server: StartServer) -> None:
    server = await start_server()
    url = f"http://127.0.0.1:{server.port}/healthz"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Host": f"evil.example:{server.port}"}) as refused:
            assert refused.status == 421
            assert await refused.text() == "unknown host"
        async with http.get(url) as served:  # Host 127.0.0.1:port, as every test sends
            assert served.status == 200
        async with http.get(url, headers={"Host": f"localhost:{server.port}"}) as local:
            assert local.status == 200


async def test_websocket_upgrade_for_another_host_gets_421(start_server: StartServer) -> None:
    server = await start_server()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(ws_url(server), headers={"Host": "evil.example"})
        assert refused.value.status == 421
        async with http.ws_connect(ws_url(server)) as ws:  # the real name still upgrades
            await ws.send_str('{"type": "hello", "protocol": 1}')
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"


async def test_public_host_is_served_over_a_real_socket(start_server: StartServer) -> None:
    server = await start_server(public_url=PUBLIC)
    url = f"http://127.0.0.1:{server.port}/healthz"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Host": "atelier.school.example"}) as served:
            assert served.status == 200
        async with http.get(url, headers={"Host": "atelier.school.example:8443"}) as refused:
            assert refused.status == 421
