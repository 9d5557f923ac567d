"""Client -> server messages: `hello`, `run.start`, `run.cancel`, the teacher's `class.watch`
and `class.unwatch` (in `_classroom`), and their union."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from server.protocol._classroom import ClassUnwatch, ClassWatch
from server.protocol._vocabulary import Lang, Message, RunId, SessionId


class ClientMessageBase(Message):
    """A message from a client: strict types, so `"7"` or `true` is no number and `1` no
    string; what a client means must be what it sends (the fuzz tests hold every field to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Hello(ClientMessageBase):
    type: Literal["hello"]
    protocol: int
    session: SessionId | None = None
    secret: Annotated[str, Field(max_length=128)] | None = None
    last_seq: Annotated[int, Field(ge=0)] = 0


class RunStart(ClientMessageBase):
    type: Literal["run.start"]
    # Lengths are checked against the server's settings after parsing; these are hard caps.
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)]
    interception: Annotated[str, Field(min_length=1, max_length=64)]
    output: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    meta_prompt: Annotated[str, Field(max_length=20_000)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**53 - 1)] | None = None
    width: Annotated[int, Field(ge=16, le=8192)] | None = None
    height: Annotated[int, Field(ge=16, le=8192)] | None = None
    lang: Lang = "en"
    ref: Annotated[str, Field(max_length=64)] | None = None
    #: An upload's id (`POST /api/uploads`): the run starts from that picture.
    image: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class CompareStart(ClientMessageBase):
    """One prompt through several perspectives at once: one run each, sharing a `group`.
    How many may be compared is the engine's bound (`compare.MAX_COMPARE`); this is a hard cap."""

    type: Literal["compare.start"]
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)]
    perspectives: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=16)
    ]
    output: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**53 - 1)] | None = None
    lang: Lang = "en"
    ref: Annotated[str, Field(max_length=64)] | None = None


class RunCancel(ClientMessageBase):
    type: Literal["run.cancel"]
    run: RunId


ClientMessage = Annotated[
    Hello | RunStart | RunCancel | ClassWatch | ClassUnwatch | CompareStart,
    Field(discriminator="type"),
]
client_adapter: TypeAdapter[
    Hello | RunStart | RunCancel | ClassWatch | ClassUnwatch | CompareStart
] = TypeAdapter(ClientMessage)
CLIENT_TYPES: frozenset[str] = frozenset(
    {"hello", "run.start", "run.cancel", "class.watch", "class.unwatch", "compare.start"}
)
CLIENT_MODELS: tuple[type[Message], ...] = (
    Hello,
    RunStart,
    RunCancel,
    ClassWatch,
    ClassUnwatch,
    CompareStart,
)
