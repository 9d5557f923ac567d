"""What both dialects' stream interpreters share: a decoder, the end state, feed and finish.

Each dialect only says how one decoded item becomes deltas (`_interpret`) and what marks a
complete stream (`end_marker`, named in the truncation error).
"""

from __future__ import annotations

from typing import ClassVar, Generic, Protocol, TypeVar

from server.engine.llm.errors import StreamTruncated
from server.engine.llm.types import ChatDelta

Item = TypeVar("Item")


class Decoder(Protocol[Item]):
    def decode(self, chunk: bytes) -> list[Item]: ...

    def flush(self) -> list[Item]: ...


class ChatInterpreterBase(Generic[Item]):
    #: What a complete stream ends with, as the truncation error names it.
    end_marker: ClassVar[str]

    def __init__(self, decoder: Decoder[Item], model: str) -> None:
        self._decoder = decoder
        self.done = False
        #: The server's in-stream error message; the deltas before it are still delivered.
        self.failure: str | None = None
        self.finish_reason: str | None = None
        self.model = model
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None

    def feed(self, chunk: bytes) -> list[ChatDelta]:
        return self._interpret(self._decoder.decode(chunk))

    def finish(self) -> list[ChatDelta]:
        deltas = self._interpret(self._decoder.flush())
        if not self.done and self.failure is None:
            raise StreamTruncated(f"the stream ended without {self.end_marker}")
        return deltas

    def _interpret(self, items: list[Item]) -> list[ChatDelta]:
        raise NotImplementedError
