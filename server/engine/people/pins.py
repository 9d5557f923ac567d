"""One-time PINs that let a student back into a taken nickname (another device, a new browser).

A teacher issues one for a member; it is six digits, lives `ttl` seconds, works once, and dies
after `MAX_PIN_TRIES` wrong tries. It is stored as a salted SHA-256: six digits are protected
by that short life, one use and few tries, not by a slow hash (argon2 would make every join
attempt cost the server tens of milliseconds of CPU).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from server.engine.people.codes import PIN_LENGTH, new_pin
from server.engine.people.sqlite import Transaction

MAX_PIN_TRIES = 5
#: The longest a PIN may live: a lesson is over by then.
MAX_PIN_TTL = 24 * 3600.0


def _digest(salt: bytes, pin: str) -> bytes:
    return hmac.new(salt, pin.encode(), hashlib.sha256).digest()


async def store_pin(tx: Transaction, member_id: int, now: float, ttl: float) -> str:
    """A fresh PIN for the member, replacing any earlier one."""
    if not 0 < ttl <= MAX_PIN_TTL:
        raise ValueError(f"a PIN lives between 0 and {MAX_PIN_TTL:.0f} seconds, not {ttl}")
    pin, salt = new_pin(), secrets.token_bytes(16)
    await tx.run(
        "INSERT OR REPLACE INTO pins (member_id, salt, digest, expires, tries)"
        " VALUES (?, ?, ?, ?, 0)",
        (member_id, salt, _digest(salt, pin), now + ttl),
    )
    return pin


async def use_pin(tx: Transaction, member_id: int, typed: str, now: float) -> bool:
    """True (and the PIN is gone) when `typed` is the member's valid PIN; a wrong try counts."""
    row = await tx.one(
        "SELECT salt, digest, expires, tries FROM pins WHERE member_id = ?", (member_id,)
    )
    if row is None:
        return False
    typed = typed.strip()[: 2 * PIN_LENGTH]
    matches = hmac.compare_digest(_digest(row["salt"], typed), row["digest"])
    valid = matches and now < row["expires"]
    if valid or now >= row["expires"] or row["tries"] + 1 >= MAX_PIN_TRIES:
        await tx.run("DELETE FROM pins WHERE member_id = ?", (member_id,))
    else:
        await tx.run("UPDATE pins SET tries = tries + 1 WHERE member_id = ?", (member_id,))
    return valid
