"""The key that signs identity cookies: 32 random bytes in a file only the server may read.

Created at first start (`data_dir/secret.key`, or the `secret_key_file` setting), mode 0600,
without ever replacing a key that is there: a new key would sign every student out. Its bytes
are never logged; a file that is too short stops start-up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

import structlog

from server.engine.people.tokens import KEY_BYTES
from server.settings import Settings

log = structlog.get_logger(__name__)

KEY_FILE = "secret.key"


class SigningKeyError(Exception):
    """The key file exists but cannot be a key (too short, unreadable)."""


def key_path(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / KEY_FILE


def load_or_create(path: Path) -> bytes:
    """The key in `path`, created first if there is none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        _create(path)
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise SigningKeyError(f"{path} holds {len(key)} bytes; a signing key has {KEY_BYTES}")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("signing_key_readable_by_others", path=str(path))
    return key


def _create(path: Path) -> None:
    """Write a new key whole, then link it into place: failing if the file exists, so two
    servers starting at once keep one key and neither ever reads a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    log.info("signing_key_created", path=str(path))
