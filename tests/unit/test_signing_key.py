"""The signing key file: created once, 0600, kept across starts, refused when it cannot be one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.handlers.signing_key import KEY_FILE, SigningKeyError, key_path, load_or_create
from server.settings import Settings


def test_the_key_is_created_0600_and_kept_across_starts(tmp_path: Path) -> None:
    path = tmp_path / "data" / KEY_FILE
    first = load_or_create(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == first


def test_a_file_too_short_to_be_a_key_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(b"short")
    with pytest.raises(SigningKeyError, match="holds 5 bytes"):
        load_or_create(path)
    assert path.read_bytes() == b"short"  # never replaced: that would sign everyone out


def test_the_key_lives_in_data_dir_unless_a_file_is_named(tmp_path: Path) -> None:
    assert key_path(Settings(data_dir=tmp_path)) == tmp_path / KEY_FILE
    named = tmp_path / "elsewhere.key"
    assert key_path(Settings(data_dir=tmp_path, secret_key_file=named)) == named


def test_a_key_being_created_elsewhere_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(b"k" * 32)  # another server won the race
    assert load_or_create(path) == b"k" * 32
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]  # no temporary file left
