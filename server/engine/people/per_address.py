"""What one client address may cost in the `open` access mode, before anyone has joined.

Every per-person bound (runs in flight and queued, the fair order, sessions) counts by an
identity's owner key. In `open` mode two kinds of identity cost a script nothing to make
(issue 15): a guest cookie, which `GET /api/me` hands to any browser without one, and a socket
with no cookie at all (`a-`, a person of its own for every session). An address cannot be
changed as easily, so both are bounded by the client address (`client_address.py`: the peer,
or what a trusted proxy names), as the session table already bounds their sessions:

- new guest cookies per address and hour (`guest_cookies_per_hour`, `server/handlers/auth.py`);
  a browser that holds one keeps it, however many others its address made;
- the runs of cookie-less sessions count as one person per address (`run_owner`), for
  `max_runs_in_flight`, `max_queued_runs` and the scheduler's fair order;
- the runs of every guest of one address, cookie or not, take ONE place in the scheduler's
  fair order (`fair_group`): each guest keeps their own limits, but an address that mints
  sixty guest cookies an hour is still one place in line beside a student at home.

A whole class behind one school router is one address: that is why browsers get guest cookies
(each its own person), and why the cookie bound must let a class's worth of them through
(docs/configuration.md, "Who may use the server"). The price of `fair_group` is paid by such a
class in `open` mode: beside guests from other addresses it has one address's place in line
(inside it, its runs go in start order, each guest within their own limits); a class that
joins (`classes` mode) is a person per student and pays nothing.

An IPv6 client usually holds a whole /64, so an IPv6 address counts by its /64 network.

Addresses are held in memory only, and only as a keyed hash (`address_key`, with a key drawn
at start-up): nothing here is stored or logged, and the key is gone with the process.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets

from server.engine.people.identity import Identity

#: The owner key of an address's cookie-less runs: "n-<keyed hash of the address>".
NETWORK_PREFIX = "n-"
#: The prefix length an IPv6 address counts by: one subscriber's network.
IPV6_PREFIX = 64
#: Seconds of the guest-cookie window (`guest_cookies_per_hour`).
GUEST_WINDOW = 3600.0
#: Addresses whose guest cookies are followed at once (the attempt window's table bound:
#: beyond it, stale ones are dropped, then new addresses get no cookie until room is made).
MAX_GUEST_ADDRESSES = 10_000

_KEY = secrets.token_bytes(16)  # per process: a hash is no address tomorrow
_DIGEST_BYTES = 12


def network_of(address: str) -> str:
    """The network `address` counts for: itself (IPv4, or not an address at all, such as
    "unknown"), or its /64 (IPv6)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))


def address_key(address: str) -> str:
    """A stable stand-in for `address`'s network in this process, that names no address."""
    digest = hashlib.blake2b(
        network_of(address).encode(), key=_KEY, digest_size=_DIGEST_BYTES
    ).hexdigest()
    return NETWORK_PREFIX + digest


def run_owner(identity: Identity, address: str | None) -> str:
    """The person a session's runs count for: a cookie-less session's address (one budget
    and one place in the fair order for all of them); anyone else: their own key."""
    if not identity.is_anonymous or address is None:
        return identity.key
    return address_key(address)


def fair_group(identity: Identity, address: str | None) -> str:
    """Whom a session's runs count for in the fair order: a guest's address (every guest
    of it together, cookie or not); a member, a teacher, or a guest of no known address:
    the run owner."""
    if not identity.is_guest or address is None:
        return identity.key
    return address_key(address)
