"""The wire protocol: every message on the WebSocket, as pydantic models. Pure data, no I/O.

Client messages are parsed with `parse_client`, server messages are encoded with `encode`.
Both directions are discriminated unions on `type`. `docs/protocol.md` documents each model;
`tests/unit/test_protocol_doc.py` keeps the two in step. The parts live in private modules
(shared words, client messages, server messages, parsing, encoding); this is their one face.
"""

from __future__ import annotations

from server.protocol._client import (
    CLIENT_MODELS,
    CLIENT_TYPES,
    ClientMessage,
    Hello,
    RunCancel,
    RunStart,
)
from server.protocol._encode import encode, encode_event
from server.protocol._parse import ProtocolError, describe_validation, parse_client
from server.protocol._server import (
    SERVER_MODELS,
    Backend,
    Error,
    Heartbeat,
    Limits,
    Output,
    Preview,
    Progress,
    Queue,
    Resync,
    RunAccepted,
    RunDone,
    RunSnapshot,
    ServerEvent,
    ServerMessage,
    Stage,
    Token,
    Welcome,
    server_adapter,
)
from server.protocol._vocabulary import (
    PROTOCOL_VERSION,
    AccessMode,
    BackendKind,
    BackendReason,
    BackendState,
    CloseCode,
    ErrorCode,
    Lang,
    Message,
    Role,
    RunEndCode,
    RunId,
    RunStatus,
    SessionId,
    StageName,
    StageStatus,
)

__all__ = [
    "CLIENT_MODELS",
    "CLIENT_TYPES",
    "PROTOCOL_VERSION",
    "SERVER_MODELS",
    "AccessMode",
    "Backend",
    "BackendKind",
    "BackendReason",
    "BackendState",
    "ClientMessage",
    "CloseCode",
    "Error",
    "ErrorCode",
    "Heartbeat",
    "Hello",
    "Lang",
    "Limits",
    "Message",
    "Output",
    "Preview",
    "Progress",
    "ProtocolError",
    "Queue",
    "Resync",
    "Role",
    "RunAccepted",
    "RunCancel",
    "RunDone",
    "RunEndCode",
    "RunId",
    "RunSnapshot",
    "RunStart",
    "RunStatus",
    "ServerEvent",
    "ServerMessage",
    "SessionId",
    "Stage",
    "StageName",
    "StageStatus",
    "Token",
    "Welcome",
    "describe_validation",
    "encode",
    "encode_event",
    "parse_client",
    "server_adapter",
]
