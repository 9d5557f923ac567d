"""Password rules and the dummy hash unknown login names are verified against."""

from __future__ import annotations

import pytest

from server.engine.people.errors import WeakPassword
from server.engine.people.passwords import (
    DUMMY_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_rules,
    needs_rehash,
)


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    # A new argon2-cffi with other defaults fails here: make a new DUMMY_HASH with them.
    assert not needs_rehash(DUMMY_HASH)
    assert needs_rehash("$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")


@pytest.mark.parametrize("length", [MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH])
def test_a_password_within_its_bounds_is_accepted(length: int) -> None:
    check_password_rules("x" * length)


@pytest.mark.parametrize("length", [0, MIN_PASSWORD_LENGTH - 1, MAX_PASSWORD_LENGTH + 1])
def test_a_password_out_of_its_bounds_is_refused(length: int) -> None:
    with pytest.raises(WeakPassword):
        check_password_rules("x" * length)
