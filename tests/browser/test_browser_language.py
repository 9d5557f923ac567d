"""The language switch: every visible string changes, `lang` follows, runs carry the language."""

from __future__ import annotations

import re

import orjson
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, start_run, ui_strings
from tests.pipeline_support import StartPipeline

pytestmark = pytest.mark.browser


def fixed_parts(template: str) -> list[str]:
    """The literal pieces of a template long enough to be recognisable in the page text."""
    return [part.strip() for part in re.split(r"\{\w+\}", template) if len(part.strip()) >= 6]


async def visible_text(page: Page) -> str:
    text: str = await page.evaluate("document.body.innerText")
    return text


async def test_switching_language_translates_every_visible_string(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    page = await open_page(server)
    await connected(page)
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    run = await start_run(page, "a fox in the snow")
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await page.locator("#meta summary").click()
    strings = await ui_strings(page)
    english = await visible_text(page)
    card_names = await page.locator(".card-name").all_text_contents()
    instructions = await page.locator("#meta-prompt").input_value()

    await page.get_by_role("button", name="DE", exact=True).click()
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator("#start")).to_have_text("Bild erzeugen")
    await expect(page.locator(".card-name").nth(1)).not_to_have_text(card_names[1])
    await expect(page.locator(".run-status")).to_have_text("fertig")
    german = await visible_text(page)

    shown_before = [
        (key, part)
        for key, template in strings["en"].items()
        if template != strings["de"][key]
        for part in fixed_parts(template)
        if part in english
    ]
    assert len(shown_before) >= 15, shown_before  # the check below covers the whole page
    still_english = [(key, part) for key, part in shown_before if part in german]
    assert not still_english, still_english
    for key in ("compose.perspective", "compose.prompt", "runs.title", "stage.interception"):
        assert strings["de"][key] in german
    assert "Deine Idee" in german  # the catalog's descriptions came back in German
    # The perspective's instructions in the editor are German too, not 800 English characters.
    editor = page.locator("#meta-prompt")
    await expect(editor).not_to_have_value(instructions)
    assert not re.search(r"\b(the|and|with|your|of)\b", await editor.input_value())
    assert re.search(r"\b(the|and|with|your|of)\b", instructions)  # the check can fail

    # After a reload the page keeps its language, rebuilds its runs from the server's replay,
    # and its next run.start asks for German.
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    await page.reload()
    await connected(page)
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator(".run")).to_have_count(1)
    await expect(page.locator(".run-prompt")).to_have_text("a fox in the snow")
    await expect(page.locator(".run-status")).to_have_text("fertig")
    await start_run(page, "ein Fuchs im Schnee")
    await expect(page.locator(".run").first).to_have_attribute(
        "data-status", "completed", timeout=WAIT_MS
    )
    starts = [orjson.loads(frame) for frame in sent if '"run.start"' in frame]
    assert [start["lang"] for start in starts] == ["de"]
    assert "meta_prompt" not in starts[0]  # the German instructions as shown are no edit
    # Translated once, labelled for a child, and all of it English (the demo's translator).
    translation = page.locator('.run .stage[data-stage="translation"]').first
    await expect(translation.locator(".stage-label")).to_have_text(
        "Auf Englisch, für die Bildmaschine:"
    )
    await expect(translation.locator(".stage-text")).to_contain_text("A fox in the snow, ")
    english = await translation.locator(".stage-text").inner_text()
    assert not re.search(r"\b(ein|der|die|das|und|im)\b", english), english
