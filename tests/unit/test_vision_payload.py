"""Pictures in a chat, in both dialects: Ollama's `images`, OpenAI's `image_url` parts."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from server.engine.llm import ChatImage, ChatMessage, ChatRequest
from server.engine.llm.ollama import ollama_chat_payload
from server.engine.llm.openai import openai_chat_payload
from server.engine.stages.vision import image_type
from server.harness.vision_marker import images_in

PICTURE = b"\x89PNG\r\n\x1a\n-not-really"
IMAGE = ChatImage(mime="image/png", data=base64.b64encode(PICTURE).decode())


def request(*images: ChatImage) -> ChatRequest:
    messages = (
        ChatMessage(role="system", content="judge it"),
        ChatMessage(role="user", content="attached", images=images),
    )
    return ChatRequest(model="qwen2.5vl:3b", messages=messages)


def test_ollama_sends_bare_base64_in_images() -> None:
    messages = ollama_chat_payload(request(IMAGE))["messages"]
    assert messages[0] == {"role": "system", "content": "judge it"}
    assert messages[1] == {"role": "user", "content": "attached", "images": [IMAGE.data]}


def test_openai_sends_a_data_url_part_after_the_text() -> None:
    messages = openai_chat_payload(request(IMAGE))["messages"]
    assert messages[1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "attached"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{IMAGE.data}"}},
        ],
    }


def test_text_messages_are_sent_as_before() -> None:
    for payload in (ollama_chat_payload(request()), openai_chat_payload(request())):
        assert payload["messages"][1] == {"role": "user", "content": "attached"}


@pytest.mark.parametrize("build", [ollama_chat_payload, openai_chat_payload])
def test_the_simulators_find_the_picture_in_either_dialect(build: object) -> None:
    payload = build(request(IMAGE))  # type: ignore[operator]
    assert images_in(payload["messages"]) == [PICTURE]


@pytest.mark.parametrize("mime", ["text/html", "image/png;x", "", "IMAGE/PNG"])
def test_an_image_type_must_be_an_image_type(mime: str) -> None:
    with pytest.raises(ValidationError):
        ChatImage(mime=mime, data="AAAA")


@pytest.mark.parametrize(
    ("mime", "told"),
    [
        ("image/png", "image/png"),
        ("Image/PNG; charset=binary", "image/png"),
        (" image/webp ", "image/webp"),
        ("video/mp4", None),
        ("application/octet-stream", None),
        ("image/", None),
        ("image/png<script>", None),
        ("", None),
    ],
)
def test_only_a_picture_type_is_sent_to_the_vision_model(mime: str, told: str | None) -> None:
    """Anything else blocks the run, fail-closed (`check_picture`)."""
    assert image_type(mime) == told
