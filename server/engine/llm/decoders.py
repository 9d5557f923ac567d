"""Pure incremental decoders for the two streaming wire formats: NDJSON and Server-Sent Events.

Both take whatever bytes a network read returned (`decode(chunk)`) and give back the complete
items seen so far; `flush()` is called once at EOF. They split on bytes, never on decoded text,
so a multi-byte UTF-8 character cut in half by a read is simply carried over to the next chunk
(a newline byte can never occur inside a UTF-8 sequence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

DEFAULT_MAX_LINE = 16 * 1024 * 1024


class DecodeError(ValueError):
    """The byte stream is not valid NDJSON / SSE (bad JSON, bad UTF-8, line too long)."""


class NdjsonDecoder:
    """Splits a byte stream on `\\n` and parses each non-blank line as one JSON value."""

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE) -> None:
        self._buffer = bytearray()
        self._max_line = max_line_bytes

    def decode(self, chunk: bytes) -> list[Any]:
        if not self._buffer and chunk.find(b"\n") == len(chunk) - 1:
            # The common case of a streaming server: one whole line per read.
            return [_loads(chunk)] if chunk.strip() else []
        if b"\n" not in chunk:
            self._append(chunk)
            return []
        if self._buffer:
            self._buffer += chunk
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = chunk
        *lines, rest = data.split(b"\n")
        self._append(rest)
        return [_loads(line) for line in lines if line.strip()]

    def flush(self) -> list[Any]:
        """Parse a last line that had no newline (a lenient end; a cut-off line fails here)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return [_loads(rest)] if rest.strip() else []

    def _append(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > self._max_line:
            raise DecodeError(f"line longer than {self._max_line} bytes")


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"invalid JSON line: {line[:200]!r}") from exc


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: the `data:` lines joined by `\\n`, and its `event`/`id` fields."""

    data: str
    event: str = "message"
    id: str | None = None


class SseDecoder:
    """The WHATWG event-stream parser: lines end in LF, CRLF or CR; `:` lines are comments."""

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE) -> None:
        self._buffer = bytearray()
        self._max_line = max_line_bytes
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        #: Comment lines seen (`: ping - ...` keep-alives); they carry nothing else.
        self.comments = 0

    def decode(self, chunk: bytes) -> list[SseEvent]:
        self._buffer += chunk
        events: list[SseEvent] = []
        for line in self._take_lines():
            self._line(line, events)
        if len(self._buffer) > self._max_line:
            raise DecodeError(f"line longer than {self._max_line} bytes")
        return events

    def flush(self) -> list[SseEvent]:
        """At EOF: take a last unterminated line, and dispatch an event missing its blank line."""
        events: list[SseEvent] = []
        rest = bytes(self._buffer).rstrip(b"\r")
        self._buffer.clear()
        if rest:
            self._line(_text(rest), events)
        self._dispatch(events)
        return events

    def _take_lines(self) -> list[str]:
        buf = self._buffer
        if b"\r" not in buf:
            *lines, rest = bytes(buf).split(b"\n")
            buf[:] = rest
            return [_text(line) for line in lines]
        # A CR at the very end may be the first half of CRLF: keep it for the next chunk.
        keep_cr = buf.endswith(b"\r")
        data = bytes(buf[:-1] if keep_cr else buf).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, rest = data.split(b"\n")
        buf[:] = rest + (b"\r" if keep_cr else b"")
        return [_text(line) for line in lines]

    def _line(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            self.comments += 1
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # `retry` and unknown fields are ignored, as the standard says.

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._data:
            events.append(SseEvent("\n".join(self._data), self._event or "message", self._id))
        self._data = []
        self._event = ""


def _text(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"invalid UTF-8 in line: {line[:200]!r}") from exc
