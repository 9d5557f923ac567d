"""The session table's bookkeeping without sockets: which groups a session counts in, and
which sessions a new one displaces."""

from __future__ import annotations

import pytest

from server.engine.people.identity import Identity, anonymous, guest
from server.engine.people.per_address import address_key
from server.engine.session import Session, SessionState
from server.engine.session_table import Group, SessionBounds, SessionTable, TooManySessions
from server.engine.stats import SocketStats
from server.protocol import Role

MEMBER = Identity(Role.STUDENT, "m-7", "Fuchs", 1, "4b")
BOUNDS = SessionBounds(per_person=2, per_address=3)


def session(identity: Identity, name: str, state: SessionState) -> Session:
    held = Session(name, "secret", log_limit=16, stats=SocketStats(), identity=identity)
    held.state = state  # the table reads states only; attaching needs a socket
    return held


def fill(
    table: SessionTable, identity: Identity, address: str | None, *states: SessionState
) -> list[Session]:
    groups = table.groups(identity, address)
    held = [session(identity, f"s{i}", state) for i, state in enumerate(states)]
    for one in held:
        table.add(one, groups)
    return held


def names(groups: tuple[Group, ...]) -> list[tuple[str, int | None]]:
    return [(group.name, group.bound) for group in groups]


def test_members_count_per_person_and_guests_per_person_and_address() -> None:
    table = SessionTable(BOUNDS)
    assert names(table.groups(MEMBER, "10.0.0.1")) == [("person:m-7", 2)]
    assert names(table.groups(guest("g1"), "10.0.0.1")) == [
        ("person:g-g1", 2),
        ("address:" + address_key("10.0.0.1"), 3),
    ]
    # A cookie-less client's key is new for every session: only its address bounds it.
    assert names(table.groups(anonymous("n1"), "10.0.0.1")) == [
        ("person:a-n1", None),
        ("address:" + address_key("10.0.0.1"), 3),
    ]


def test_a_full_group_displaces_its_oldest_detached_session() -> None:
    table = SessionTable(BOUNDS)
    attached, older, newer = fill(
        table, MEMBER, None, SessionState.ATTACHED, SessionState.DETACHED, SessionState.DETACHED
    )
    assert table.make_room(table.groups(MEMBER, None)) == [older, newer]  # back under 2
    table.remove(older)
    assert table.make_room(table.groups(MEMBER, None)) == [newer]
    assert table.of_person("m-7") == [attached, newer]


def test_a_group_with_every_session_attached_refuses_and_displaces_nothing() -> None:
    table = SessionTable(BOUNDS)
    fill(table, MEMBER, None, SessionState.ATTACHED, SessionState.ATTACHED)
    with pytest.raises(TooManySessions) as refused:
        table.make_room(table.groups(MEMBER, None))
    assert refused.value.code == "too_many_sessions"
    assert "too many windows" in str(refused.value)
    assert len(table.of_person("m-7")) == 2


def test_one_displaced_session_makes_room_in_both_of_its_groups() -> None:
    table = SessionTable(SessionBounds(per_person=1, per_address=1))
    visitor = guest("g1")
    [old] = fill(table, visitor, "10.0.0.1", SessionState.DETACHED)
    assert table.make_room(table.groups(visitor, "10.0.0.1")) == [old]


def test_the_address_refuses_when_the_guests_own_group_has_room() -> None:
    table = SessionTable(BOUNDS)
    for n in range(3):
        fill(table, anonymous(f"n{n}"), "10.0.0.1", SessionState.ATTACHED)
    with pytest.raises(TooManySessions):
        table.make_room(table.groups(anonymous("n9"), "10.0.0.1"))
    assert table.make_room(table.groups(anonymous("n9"), "10.0.0.2")) == []


def test_an_ipv6_client_counts_by_its_64_network_whichever_address_it_picks() -> None:
    table = SessionTable(BOUNDS)
    for n in range(3):  # one subscriber's /64 holds addresses enough for every session
        fill(table, anonymous(f"n{n}"), f"2001:db8:1:2::{n + 1}", SessionState.ATTACHED)
    with pytest.raises(TooManySessions):
        table.make_room(table.groups(anonymous("n9"), "2001:db8:1:2:ffff::9"))
    assert len(table.at_address("2001:db8:1:2::77")) == 3
    assert table.make_room(table.groups(anonymous("n9"), "2001:db8:1:3::1")) == []


def test_removed_sessions_leave_no_empty_groups() -> None:
    table = SessionTable(BOUNDS)
    held = fill(table, guest("g1"), "10.0.0.1", SessionState.DETACHED)
    table.remove(held[0])
    table.remove(held[0])  # twice is harmless: a session may be forgotten before it closes
    assert (table.of_person("g-g1"), table.at_address("10.0.0.1")) == ([], [])
    assert len(table) == 0  # no group is kept for nobody
