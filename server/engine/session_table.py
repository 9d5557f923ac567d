"""Whose sessions are held: the bounds on sessions per person and per client address.

One client once filled the server's whole `max_sessions` in 24 s and every student after it
was refused (issue 15 item 4). So each session counts in its person's group (the identity's
owner key) and, for a client that has not joined (a guest, or a client without any cookie),
in its client address's group as well (an IPv6 address by its /64: `per_address.address_key`):
a guest can mint a new cookie at will, an address cannot be changed as easily. Members and
teachers are not counted by address: a whole class sits behind one school router.

A new session beyond a group's bound first displaces that group's oldest detached session
(a closed tab of the same person: its socket is gone already, only its chance to resume is
lost), so an abuser's closed sockets never hold sessions for `resume_grace`; if every session
of the group still has a socket, the new one is refused. Plain bookkeeping: no loop, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.errors import AtelierError
from server.engine.people.identity import Identity
from server.engine.people.per_address import address_key
from server.engine.session import Session, SessionState
from server.protocol import ErrorCode

#: Sessions of one person at once (tabs and devices), and of one client address for clients
#: that have not joined (the settings' defaults: `server/settings/_limits.py` reads them here).
DEFAULT_SESSIONS_PER_PERSON = 8
DEFAULT_SESSIONS_PER_ADDRESS = 64

_PERSON = "person:"
_ADDRESS = "address:"


class TooManySessions(AtelierError):
    """Every session the person (or the address) may hold has a socket open."""

    code = ErrorCode.TOO_MANY_SESSIONS


@dataclass(frozen=True, slots=True)
class SessionBounds:
    per_person: int = DEFAULT_SESSIONS_PER_PERSON
    per_address: int = DEFAULT_SESSIONS_PER_ADDRESS


@dataclass(frozen=True, slots=True)
class Group:
    """One count a session is part of: its name and the most sessions it may hold (None:
    counted, not bounded: a cookie-less client's own key is new for every session)."""

    name: str
    bound: int | None
    refusal: str


class SessionTable:
    """The sessions of each group, oldest first."""

    def __init__(self, bounds: SessionBounds) -> None:
        self.bounds = bounds
        self._held: dict[str, list[Session]] = {}
        self._groups_of: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        """Groups that hold a session: an emptied group is dropped, so this cannot grow with
        every address and cookie-less client ever seen."""
        return len(self._held)

    def groups(self, identity: Identity, address: str | None) -> tuple[Group, ...]:
        """The groups a new session of `identity` from `address` counts in."""
        person = Group(
            _PERSON + identity.key,
            None if identity.is_anonymous else self.bounds.per_person,
            "You have Atelier open in too many windows. Close one and try again.",
        )
        if not identity.is_guest or address is None:
            return (person,)
        crowd = Group(
            _ADDRESS + address_key(address),  # an IPv6 client by its /64, as `per_address`
            self.bounds.per_address,
            "Atelier is open in too many windows on this network. Close one and try again.",
        )
        return person, crowd

    def make_room(self, groups: tuple[Group, ...]) -> list[Session]:
        """The sessions to close so that one more fits in every group (oldest detached
        first); raises TooManySessions, choosing none, when a full group has none detached."""
        chosen: list[Session] = []
        for group in groups:
            if group.bound is None:
                continue
            held = [s for s in self._held.get(group.name, ()) if s not in chosen]
            if len(held) < group.bound:
                continue
            detached = [s for s in held if s.state is SessionState.DETACHED]
            if len(held) - len(detached) >= group.bound:
                raise TooManySessions(group.refusal)
            chosen.extend(detached[: len(held) - group.bound + 1])
        return chosen

    def add(self, session: Session, groups: tuple[Group, ...]) -> None:
        names = tuple(group.name for group in groups)
        self._groups_of[session.id] = names
        for name in names:
            self._held.setdefault(name, []).append(session)

    def remove(self, session: Session) -> None:
        for name in self._groups_of.pop(session.id, ()):
            held = self._held[name]
            held.remove(session)
            if not held:
                del self._held[name]

    def of_person(self, key: str) -> list[Session]:
        return list(self._held.get(_PERSON + key, ()))

    def at_address(self, address: str) -> list[Session]:
        """Sessions of clients that have not joined, counted for `address`'s network."""
        return list(self._held.get(_ADDRESS + address_key(address), ()))
