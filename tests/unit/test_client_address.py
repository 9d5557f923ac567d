"""The client address: a trusted proxy may name the client, nobody else may."""

from __future__ import annotations

from multidict import CIMultiDict

from server.handlers.client_address import UNKNOWN, parse_networks, resolve

CLOUDFLARED = parse_networks(["127.0.0.1/32"])


def headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({name.replace("_", "-"): value for name, value in values.items()})


def test_an_untrusted_peer_is_the_client_whatever_its_headers_say() -> None:
    spoofed = headers(CF_Connecting_IP="10.9.9.9", X_Forwarded_For="10.8.8.8")
    assert resolve("203.0.113.7", spoofed, CLOUDFLARED) == "203.0.113.7"


def test_localhost_is_not_trusted_unless_configured() -> None:
    assert resolve("127.0.0.1", headers(CF_Connecting_IP="198.51.100.2"), ()) == "127.0.0.1"


def test_a_trusted_proxy_names_the_client_in_cf_connecting_ip() -> None:
    assert resolve("127.0.0.1", headers(CF_Connecting_IP="198.51.100.2"), CLOUDFLARED) == (
        "198.51.100.2"
    )


def test_forwarded_for_gives_the_right_most_untrusted_hop() -> None:
    chain = headers(X_Forwarded_For="6.6.6.6, 198.51.100.2, 127.0.0.1")
    assert resolve("127.0.0.1", chain, CLOUDFLARED) == "198.51.100.2"


def test_a_header_that_is_no_address_is_ignored() -> None:
    junk = headers(CF_Connecting_IP="<script>", X_Forwarded_For="not-an-ip")
    assert resolve("127.0.0.1", junk, CLOUDFLARED) == "127.0.0.1"


def test_a_peer_without_an_address_is_unknown() -> None:
    assert resolve(None, headers(), CLOUDFLARED) == UNKNOWN
