"""The ComfyUI backend: client, frame parsing and typed job events."""

from __future__ import annotations

from server.engine.comfyui.client import ComfyUIClient
from server.engine.comfyui.config import ComfyUIConfig
from server.engine.comfyui.errors import PromptLost
from server.engine.comfyui.events import (
    Failed,
    Finished,
    JobEvent,
    JobState,
    Output,
    Preview,
    Progress,
    Queued,
    Started,
)
from server.engine.comfyui.handle import ComfyUIRun
from server.engine.comfyui.results import Capabilities
from server.engine.comfyui.upload import UploadedImage

__all__ = [
    "Capabilities",
    "ComfyUIClient",
    "ComfyUIConfig",
    "ComfyUIRun",
    "Failed",
    "Finished",
    "JobEvent",
    "JobState",
    "Output",
    "Preview",
    "Progress",
    "PromptLost",
    "Queued",
    "Started",
    "UploadedImage",
]
