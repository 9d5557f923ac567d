"""A student's own picture as a run's starting point (image-to-image, issue 20).

An upload arrives over HTTP (`server/handlers/uploads.py`), is checked and cleaned by
`clean.py` (nothing in it is trusted: only real PNG/JPEG/WebP by content, bombs refused before
decoding, metadata stripped, re-encoded as PNG) and held by `UploadStore` under the person who
sent it until a `run.start` claims it. The claimed image travels on the run as `InputImage`;
the generation stage hands its bytes to ComfyUI.
"""

from __future__ import annotations

from dataclasses import dataclass


def upload_url(upload_id: str) -> str:
    return f"/api/uploads/{upload_id}"


@dataclass(frozen=True, slots=True)
class InputImage:
    """A cleaned upload claimed by a run: `data` is the re-encoded PNG, nothing of the file
    the student sent survives but its pixels."""

    id: str
    data: bytes
    width: int
    height: int

    @property
    def url(self) -> str:
        """Where its owner (and their teacher) read it: `GET /api/uploads/{id}`."""
        return upload_url(self.id)

    def __repr__(self) -> str:  # the bytes are no use in a log line or a traceback
        return f"InputImage({self.id!r}, {self.width}x{self.height}, {len(self.data)} bytes)"
