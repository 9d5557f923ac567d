"""`BaseLLMClient`: what both dialects share: the instance's connections (`LLMTransport`),
opening a streamed request under the first-token deadline, when it last delivered a token, and
translating aiohttp failures into the project's `BackendError` hierarchy at this boundary."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from typing import Any

import aiohttp
import orjson
import structlog
from yarl import URL

from server.engine.errors import (
    BackendError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
)
from server.engine.llm.errors import error_for_status
from server.engine.llm.stream import HttpChatStream, StreamInterpreter
from server.engine.llm.transport import LLMTransport
from server.engine.llm.types import ChatRequest, ChatResult, Dialect, LLMInstanceConfig

log = structlog.get_logger(__name__)

#: An error body larger than this is cut; only its start is useful in a message.
_ERROR_BODY_LIMIT = 64 * 1024


class BaseLLMClient(ABC):
    """One LLM server instance. Subclasses say how a dialect encodes and decodes a chat."""

    dialect: Dialect
    chat_path: str

    def __init__(self, config: LLMInstanceConfig) -> None:
        self.config = config
        self.transport = LLMTransport(config)
        self._open_responses = 0
        #: Loop time of the last token any stream of this client received (None: never).
        self.last_delivery: float | None = None
        #: Streams sent and still waiting for their first token (the server evaluates them).
        self.awaiting_first_token = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(instance={self.instance!r}, url={self.config.url!r})"

    @property
    def name(self) -> str:
        """The backend kind, as it appears in errors and logs ("ollama" or "openai")."""
        return self.dialect.value

    @property
    def instance(self) -> str:
        return self.config.name

    @property
    def open_responses(self) -> int:
        """Upstream responses currently held open; returns to 0 when every stream is done."""
        return self._open_responses

    @abstractmethod
    def chat_payload(self, request: ChatRequest) -> dict[str, Any]: ...

    @abstractmethod
    def interpreter(self, request: ChatRequest) -> StreamInterpreter: ...

    @abstractmethod
    async def list_models(self) -> list[str]: ...

    @abstractmethod
    async def version(self) -> str: ...

    async def start(self) -> None:
        self.transport.open()

    async def close(self) -> None:
        await self.transport.close()

    def stream_chat(self, request: ChatRequest) -> HttpChatStream:
        return HttpChatStream(self, request, self.interpreter(request))

    async def complete(self, request: ChatRequest) -> ChatResult:
        """The whole answer at once, over the same streaming path (for short checks)."""
        async with self.stream_chat(request) as stream:
            async for _ in stream:
                pass
        return stream.result

    async def reachable(self, timeout: float) -> None:
        """Open and close a TCP connection to the server, sending nothing: the check for a
        server busy working for us (llama-cpp-python, by default, cuts the answer it streams
        short when another request waits for its model lock, and a health check is one)."""
        url = URL(self.config.url)
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(url.host, url.port)
                writer.close()
                await writer.wait_closed()
        except TimeoutError as exc:
            message = f"connect timeout: no connection to {url} in {timeout:.0f} s"
            raise self.error(BackendTimeout, message, exc) from exc
        except OSError as exc:
            raise self.error(BackendUnavailable, f"cannot connect to {url}: {exc}", exc) from exc

    async def health(self) -> bool:
        try:
            await self.version()
        except BackendError as exc:
            log.info("llm_health_failed", instance=self.instance, error=str(exc))
            return False
        return True

    def error(
        self, kind: type[BackendError], message: str, cause: BaseException | None = None
    ) -> BackendError:
        return kind(message, backend=self.name, instance=self.instance, cause=cause)

    def response_closed(self) -> None:
        self._open_responses -= 1

    async def open_stream(self, request: ChatRequest, deadline: float) -> aiohttp.ClientResponse:
        """POST the chat and wait for a 200 (Ollama: until the first token) before `deadline`."""
        url = self.config.url + self.chat_path
        body = orjson.dumps(self.chat_payload(request))
        response = await self._send(url, self.transport.work(url, body), deadline, "first token")
        if response.status != 200:
            raise await self._status_error(response, request.model)
        self._open_responses += 1
        return response

    async def get_json(self, path: str) -> Any:
        """GET a small JSON document under `request_timeout`."""
        return (await self.get_document(path))[0]

    async def get_document(self, path: str) -> tuple[Any, str]:
        """A small JSON document and the response's `Server` header ("" when absent)."""
        deadline = asyncio.get_running_loop().time() + self.config.request_timeout
        url = self.config.url + path
        response = await self._send(url, self.transport.check(url), deadline, "request")
        if response.status != 200:
            raise await self._status_error(response, "")
        try:
            async with asyncio.timeout(self.config.request_timeout):
                data = await response.read()
            return orjson.loads(data), response.headers.get("Server", "")
        except TimeoutError as exc:
            raise self.error(BackendTimeout, f"request timeout reading {path}", exc) from exc
        except (aiohttp.ClientError, orjson.JSONDecodeError) as exc:
            raise self.error(BackendProtocolError, f"bad answer from {path}: {exc!r}", exc) from exc
        finally:
            response.close()

    async def _send(
        self,
        url: str,
        sending: Coroutine[Any, Any, aiohttp.ClientResponse],
        deadline: float,
        bound: str,
    ) -> aiohttp.ClientResponse:
        try:
            async with asyncio.timeout_at(deadline):
                return await sending
        except aiohttp.ConnectionTimeoutError as exc:
            message = f"connect timeout: no connection to {url} in {self.config.connect_timeout}s"
            raise self.error(BackendTimeout, message, exc) from exc
        except TimeoutError as exc:
            raise self.error(BackendTimeout, f"{bound} timeout: no answer from {url}", exc) from exc
        except aiohttp.ClientConnectorError as exc:
            raise self.error(BackendUnavailable, f"cannot connect to {url}: {exc}", exc) from exc
        except aiohttp.ClientConnectionError as exc:
            message = f"connection to {url} lost before an answer: {exc!r}"
            raise self.error(BackendUnavailable, message, exc) from exc
        except aiohttp.ClientError as exc:
            raise self.error(BackendProtocolError, f"bad answer from {url}: {exc!r}", exc) from exc

    async def _status_error(self, response: aiohttp.ClientResponse, model: str) -> BackendError:
        try:
            async with asyncio.timeout(self.config.request_timeout):
                body = await response.content.read(_ERROR_BODY_LIMIT)
        except (TimeoutError, aiohttp.ClientError):
            body = b""
        finally:
            response.close()
        error = error_for_status(
            response.status, body, model=model, backend=self.name, instance=self.instance
        )
        log.warning(
            "llm_http_error", instance=self.instance, status=response.status, error=str(error)
        )
        return error
