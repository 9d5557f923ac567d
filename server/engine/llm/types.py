"""Request, result and settings models shared by every LLM client, and the `LLMClient` protocol.

The pipeline talks to any LLM server through these types only; which wire dialect sits behind
an instance (Ollama NDJSON or OpenAI-compatible SSE) is a matter of its `LLMInstanceConfig`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

ThinkLevel = Literal["low", "medium", "high"]
#: `json_schema`: OpenAI's `response_format` (llama-server, vLLM, Ollama's /v1, gateways);
#: `json_object`: `{"type": "json_object", "schema": ...}`, the only form llama-cpp-python
#: 0.3 takes (it answers `json_schema` with 500); `off`: send none, the parser alone reads.
StructuredOutput = Literal["json_schema", "json_object", "off"]

#: Work connections of a client that knows no slots (a bare client: tests, benches).
UNSIZED_POOL = 32
#: Work connections beyond an instance's slots: warm-up requests run outside any slot.
POOL_HEADROOM = 4


class Dialect(enum.StrEnum):
    """The wire dialect an LLM server speaks; the value is what configuration files say."""

    OLLAMA = "ollama"
    OPENAI = "openai"


class DeltaKind(enum.StrEnum):
    """What a streamed piece of text is: part of the answer, or a thinking model's reasoning."""

    CONTENT = "content"
    THINKING = "thinking"


class ChatImage(BaseModel):
    """A picture a message shows a vision model: its type and its bytes, base64-encoded."""

    model_config = ConfigDict(frozen=True)

    mime: str = Field(pattern=r"^image/[a-z0-9.+-]+$")
    data: str = Field(min_length=1)

    def data_url(self) -> str:
        """The OpenAI dialect's `image_url`: a data URL."""
        return f"data:{self.mime};base64,{self.data}"


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    #: Pictures for a vision model (the vision check); empty for every text message.
    images: tuple[ChatImage, ...] = ()


class ChatRequest(BaseModel):
    """A chat completion request, independent of the dialect that will carry it."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(min_length=1)
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    #: Always bounded: a server without a limit may generate until its context is full.
    max_tokens: int = Field(default=1024, ge=1)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    #: Nucleus sampling; None leaves the server's default.
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    #: None leaves the server's default; thinking text is reported apart from the answer.
    think: bool | ThinkLevel | None = None
    #: A JSON schema the answer must follow, where the server can constrain its output
    #: (Ollama `format`, OpenAI `response_format`); its `title` names it. None: free text.
    response_schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """One streamed piece of text."""

    kind: DeltaKind
    text: str


@dataclass(frozen=True, slots=True)
class ChatResult:
    """How a completed chat ended. Token counts are None when the server does not report them."""

    text: str
    thinking: str
    finish_reason: str | None
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    #: Measured by the client from sending the request (includes queueing and model load).
    time_to_first_token_s: float | None
    duration_s: float


class LLMInstanceConfig(BaseModel):
    """Settings of one LLM server instance. `api_key` is a SecretStr so it never shows in reprs."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    url: str = "http://127.0.0.1:11434"
    dialect: Dialect = Dialect.OLLAMA
    api_key: SecretStr | None = None
    #: TCP connect bound.
    connect_timeout: float = Field(default=10.0, gt=0)
    #: From sending the request to the first token: Ollama sends no headers before it, and
    #: it includes queueing for a slot and loading the model.
    first_token_timeout: float = Field(default=600.0, gt=0)
    #: Longest silence between two reads once tokens flow.
    idle_timeout: float = Field(default=120.0, gt=0)
    #: Bound for small requests (model list, version, health).
    request_timeout: float = Field(default=30.0, gt=0)
    #: After the final event, how long to wait for the body's end before dropping the socket.
    drain_timeout: float = Field(default=2.0, gt=0)
    #: Connections for chats; None sizes the pool from the instance's slots (`pool_size`).
    max_connections: int | None = Field(default=None, ge=1)
    #: Longest NDJSON line / SSE event accepted before the stream is declared broken.
    max_line_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: OpenAI dialect: ask for a usage chunk (`stream_options.include_usage`).
    include_usage: bool = True
    #: OpenAI dialect: how a response schema is asked for (`openai.response_format`).
    structured_output: StructuredOutput = "json_schema"

    @property
    def pool_size(self) -> int:
        """Work connections: `max_connections` when set; an instance's config (which knows its
        slots) gives one per slot plus headroom, so no run holding a slot waits unseen."""
        return self.max_connections or UNSIZED_POOL

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/")


class ChatStream(Protocol):
    """An open streamed completion: an async context manager and an async iterator of text."""

    @property
    def result(self) -> ChatResult: ...

    async def __aenter__(self) -> ChatStream: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...

    def batches(self) -> AsyncIterator[list[str]]: ...

    def deltas(self) -> AsyncIterator[ChatDelta]: ...


class LLMClient(Protocol):
    """One LLM server instance, whatever its dialect."""

    @property
    def name(self) -> str: ...

    @property
    def instance(self) -> str: ...

    @property
    def open_responses(self) -> int: ...

    def stream_chat(self, request: ChatRequest) -> ChatStream: ...

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    async def list_models(self) -> list[str]: ...

    async def version(self) -> str: ...

    async def health(self) -> bool: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...
