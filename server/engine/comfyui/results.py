"""Turning a /history entry into outputs or a readable failure, and /object_info into
capabilities (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.engine.comfyui.errors import format_execution_error

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class OutputFile:
    node: str
    filename: str
    subfolder: str
    type: str

    def view_params(self) -> dict[str, str]:
        return {"filename": self.filename, "subfolder": self.subfolder, "type": self.type}

    def local_name(self) -> str:
        """A flat, safe file name: ComfyUI's name is data, never a path we open as given."""
        base = _UNSAFE.sub("_", self.filename.rsplit("/", 1)[-1]).strip("._") or "output"
        return f"{_UNSAFE.sub('_', self.node)}_{base}"


@dataclass(frozen=True)
class HistoryOutcome:
    """What the prompt's own history entry says: success with files, or an error text."""

    success: bool
    files: tuple[OutputFile, ...]
    error: str = ""
    code: str = ""


def outcome_from_history(entry: dict[str, Any]) -> HistoryOutcome:
    files = tuple(_files(entry.get("outputs")))
    raw_status = entry.get("status")
    status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
    if status.get("status_str", "success") == "success":
        return HistoryOutcome(True, files)
    raw_messages = status.get("messages")
    messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
    for item in reversed(messages):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict)):
            continue
        kind, data = item
        if kind == "execution_error":
            return HistoryOutcome(
                False, files, format_execution_error(data), "backend_execution_error"
            )
        if kind == "execution_interrupted":
            text = f"interrupted at node {data.get('node_id', '?')} ({data.get('node_type', '?')})"
            return HistoryOutcome(False, files, text, "backend_interrupted")
    return HistoryOutcome(False, files, "ComfyUI reported an error", "backend_execution_error")


def _files(outputs: object) -> list[OutputFile]:
    found: list[OutputFile] = []
    if not isinstance(outputs, dict):
        return found
    for node, output in outputs.items():
        images = output.get("images") if isinstance(output, dict) else None
        for image in images if isinstance(images, list) else []:
            if isinstance(image, dict) and image.get("type", "output") == "output":
                found.append(
                    OutputFile(
                        str(node),
                        str(image.get("filename", "")),
                        str(image.get("subfolder", "")),
                        "output",
                    )
                )
    return found


#: The model files of one kind an instance lists; None when it did not say (an input of a
#: shape we do not know). `()` is a real answer: the folder is empty, or no node loads them.
FileList = tuple[str, ...] | None


@dataclass(frozen=True)
class Capabilities:
    """What an instance can run: node classes and the model files it lists."""

    node_classes: frozenset[str]
    checkpoints: FileList
    unets: FileList
    loras: FileList
    clips: FileList


def capabilities_from_object_info(info: dict[str, Any]) -> Capabilities:
    return Capabilities(
        node_classes=frozenset(info),
        checkpoints=combo_options(info, "CheckpointLoaderSimple", "ckpt_name"),
        unets=combo_options(info, "UNETLoader", "unet_name"),
        loras=combo_options(info, "LoraLoader", "lora_name"),
        clips=combo_options(info, "CLIPLoader", "clip_name"),
    )


def combo_options(info: dict[str, Any], cls: str, name: str) -> FileList:
    """Options of a combo input in either shape: `[[a, b], {}]` or `["COMBO", {options}]`.

    A fresh ComfyUI lists an empty model folder as `[[], {...}]`: that is `()`, known and
    empty, as is a class the instance does not have. An input we cannot read is None.
    """
    node = info.get(cls)
    if node is None:
        return ()
    try:
        spec = node["input"]["required"][name]
    except (KeyError, TypeError):
        return None
    if isinstance(spec, list) and spec and isinstance(spec[0], list):
        return tuple(str(x) for x in spec[0])
    combo = isinstance(spec, list) and len(spec) > 1 and spec[0] == "COMBO"
    if combo and isinstance(spec[1], dict) and isinstance(spec[1].get("options"), list):
        return tuple(str(x) for x in spec[1]["options"])
    return None
