"""The teacher's console's HTTP answers (moderation, the wall, export, readiness), beside the
people API's in `_http.py`; docs/http-api.md describes both (its doc test reads both tuples)."""

from __future__ import annotations

from typing import Literal

from server.protocol._http import Body
from server.protocol._vocabulary import BackendKind


class BlockedRun(Body):
    """One entry of a class's moderation log; `reason` is for the teacher only."""

    run: str
    member: int
    nickname: str
    created: float
    stage: str | None
    prompt: str
    perspective: str
    reason: str | None
    flagged: bool


class ModerationLog(Body):
    blocked: list[BlockedRun]


class ClassPictureInfo(Body):
    """One picture of a class, as its teacher's console lists it."""

    run: str
    member: int
    nickname: str
    perspective: str
    prompt: str
    created: float
    files: list[str]
    hidden: bool
    flagged: bool
    group: str | None


class ClassPictureList(Body):
    pictures: list[ClassPictureInfo]


class WallLinkInfo(Body):
    id: int
    created: float


class WallLinkCreated(Body):
    """The only answer that holds the link's token (in `url`'s fragment): it is stored hashed."""

    id: int
    url: str
    created: float


class WallLinkList(Body):
    links: list[WallLinkInfo]


class WallPicture(Body):
    """One picture on a class's wall: only what the projector shows (never a reason)."""

    run: str
    nickname: str
    perspective: str
    perspective_name: dict[str, str]
    icon: str
    color: str
    prompt: str
    created: float
    files: list[str]
    group: str | None


class WallPictures(Body):
    name: str
    pictures: list[WallPicture]


class PicturesDeleted(Body):
    deleted: int


class WarmUpProgress(Body):
    """The warm-up's progress: `done` of `total` models tried, `failed` of them not loaded."""

    state: Literal["idle", "running", "done", "failed"]
    done: int
    total: int
    failed: int


class ModelReadiness(Body):
    name: str
    warm: bool


class KindReadiness(Body):
    """One kind of backend, summed up over its instances (`classroom/readiness.py`)."""

    kind: BackendKind
    state: Literal["ready", "starting", "unhealthy", "down", "unknown", "missing"]
    instances: int
    healthy: int
    startable: bool
    models: list[ModelReadiness] | None


class BackendsReadiness(Body):
    kinds: list[KindReadiness]
    warmup: WarmUpProgress


CONSOLE_ANSWER_MODELS: tuple[type[Body], ...] = (
    BlockedRun,
    ModerationLog,
    ClassPictureInfo,
    ClassPictureList,
    WallLinkInfo,
    WallLinkCreated,
    WallLinkList,
    WallPicture,
    WallPictures,
    PicturesDeleted,
    WarmUpProgress,
    ModelReadiness,
    KindReadiness,
    BackendsReadiness,
)
