"""Whom a session's runs count for, and the network a client address counts by (issue 15)."""

from __future__ import annotations

from server.engine.people.identity import Identity, anonymous, guest
from server.engine.people.per_address import (
    NETWORK_PREFIX,
    address_key,
    fair_group,
    network_of,
    run_owner,
)
from server.protocol import Role

MEMBER = Identity(Role.STUDENT, "m-7", "Mika", 1, "4b")


def test_an_ipv4_address_counts_for_itself() -> None:
    assert network_of("203.0.113.7") == "203.0.113.7"
    assert network_of("::ffff:203.0.113.7") == "203.0.113.7"


def test_an_ipv6_address_counts_for_its_64_network() -> None:
    assert network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"


def test_what_is_not_an_address_counts_as_it_stands() -> None:
    assert network_of("unknown") == "unknown"


def test_an_address_key_names_the_network_but_not_the_address() -> None:
    key = address_key("203.0.113.7")
    assert key.startswith(NETWORK_PREFIX)
    # A keyed hash in hex: no dot, so no address (an octet's digits may turn up by chance).
    assert "." not in key
    assert "203.0.113" not in key
    int(key.removeprefix(NETWORK_PREFIX), 16)
    assert key == address_key("203.0.113.7")
    assert key != address_key("203.0.113.8")
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff")


def test_cookie_less_sessions_of_one_address_are_one_person() -> None:
    one, other = anonymous("nonce-1"), anonymous("nonce-2")
    assert one.key != other.key
    assert run_owner(one, "203.0.113.7") == run_owner(other, "203.0.113.7")
    assert run_owner(one, "203.0.113.7") != run_owner(other, "198.51.100.2")


def test_everyone_with_a_cookie_counts_as_themselves_whatever_their_address() -> None:
    assert run_owner(guest("g1"), "203.0.113.7") == "g-g1"
    assert run_owner(MEMBER, "203.0.113.7") == "m-7"
    assert run_owner(Identity(Role.TEACHER, "t-1", "ms-lee"), "203.0.113.7") == "t-1"


def test_a_cookie_less_session_without_an_address_is_its_own_person() -> None:
    one = anonymous("nonce-1")
    assert run_owner(one, None) == one.key


def test_every_guest_of_one_address_shares_one_place_in_the_fair_order() -> None:
    cookie, other_cookie, no_cookie = guest("g1"), guest("g2"), anonymous("nonce-1")
    places = {fair_group(who, "203.0.113.7") for who in (cookie, other_cookie, no_cookie)}
    assert places == {address_key("203.0.113.7")}
    assert fair_group(cookie, "198.51.100.2") != fair_group(cookie, "203.0.113.7")


def test_members_and_teachers_keep_their_own_place_behind_any_address() -> None:
    assert fair_group(MEMBER, "203.0.113.7") == "m-7"
    assert fair_group(Identity(Role.TEACHER, "t-1", "ms-lee"), "203.0.113.7") == "t-1"
    assert fair_group(guest("g1"), None) == "g-g1"  # no address known: the guest alone
