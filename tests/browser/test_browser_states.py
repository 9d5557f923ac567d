"""The students' page at a laptop's, a tablet's and a phone's size, through a lesson's states.

One page walks idle -> German -> the perspective cards -> running -> done -> English, resized
to each size at each state (cheaper than a page per size, and the same CSS): the idea first
(the prompt box and "Make a picture" inside the viewport without scrolling, the page at its
top; scrolled to its end, the connection indicator still in view), axe-core with no
violation, and a screenshot in test-artifacts/browser/states-<size>-<state>.png. Before that,
the first paint: the HTML alone (every script refused) shows the page's shape and "loading"
in both languages.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, ViewportSize, expect

from server.harness.demo import DemoBackends
from tests.axe_support import assert_accessible
from tests.browser.conftest import OpenPage
from tests.browser_support import WAIT_MS, connected, screenshot, stage, start_run, ui_strings
from tests.pipeline_support import StartPipeline, demo_of

pytestmark = pytest.mark.browser

SIZES: dict[str, ViewportSize] = {
    "laptop": {"width": 1366, "height": 768},
    "tablet": {"width": 768, "height": 1024},
    "phone": {"width": 390, "height": 844},
}
#: A projector or a big screen: the fold is checked there too (idle).
WIDE: ViewportSize = {"width": 1920, "height": 1080}

#: Each word of each card title whose letters land on more than one line: a mid-word break.
SPLIT_WORDS = """() => {
  const split = [];
  for (const title of document.querySelectorAll(".card-name")) {
    const text = title.firstChild;
    for (const word of text?.data.matchAll(/\\S+/g) ?? []) {
      const range = document.createRange();
      range.setStart(text, word.index);
      range.setEnd(text, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map((box) => Math.round(box.top)));
      if (lines.size > 1) split.push(word[0]);
    }
  }
  return split;
}"""


async def test_the_idea_comes_first_and_every_state_is_accessible_at_three_sizes(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    server = await start_pipeline(safety_level="adult")
    demo = demo_of(server)
    page = await open_page(server, viewport=SIZES["phone"])
    await first_paint(page)
    await connected(page)
    await expect(page.locator("#boot")).to_be_hidden()
    await every_size(page, "idle", sizes={**SIZES, "wide": WIDE})
    await page.get_by_role("button", name="DE", exact=True).click()
    await expect(page.locator("#pick-toggle")).to_have_text("Andere wählen")
    await every_size(page, "idle-de")
    await choose_by_keyboard(page)
    await run_while_typing(page, demo)
    await run_and_find_the_picture(page)
    # On a phone the language row scrolls away under the sticky connection row (scrolled up
    # to, it came back to 30-60 px below the top, half hidden): switch on the tablet, where
    # the whole header stays.
    await page.set_viewport_size(SIZES["tablet"])
    english = page.get_by_role("button", name="EN", exact=True)
    await expect(english).to_be_in_viewport()
    await english.click()
    await expect(page.locator("#pick-toggle")).to_have_text("Choose another")
    await every_size(page, "done-en")
    await page.locator("#pick-toggle").click()
    for size, viewport in SIZES.items():  # the English titles (the German ones: cards-de)
        await page.set_viewport_size(viewport)
        assert await page.evaluate(SPLIT_WORDS) == [], f"a card title breaks mid-word ({size})"
    await page.keyboard.press("Escape")
    await expect(page.locator("#card-panel")).to_be_hidden()
    await expect(page.locator("#pick-toggle")).to_be_focused()


async def first_paint(page: Page) -> None:
    """Slow Wi-Fi: before any script arrives the HTML shows the title, the tagline and the
    composer's shape, in both languages (the script chooses one)."""
    await page.route("**/static/js/**", lambda route: route.abort())
    await page.reload()
    boot = page.locator("#boot")
    await expect(boot).to_be_visible()
    await expect(page.locator(".brand h1")).to_have_text("Atelier")
    await expect(boot.locator(".boot-pick")).to_be_visible()
    await screenshot(page, "states-phone-first-paint")
    await page.unroute("**/static/js/**")
    await page.reload()
    strings = await ui_strings(page)
    for lang in ("en", "de"):
        tagline = boot.locator(f'.tagline [lang="{lang}"]')
        await expect(tagline).to_have_text(strings[lang]["app.tagline"])
    fold: dict[str, dict[str, str]] = await page.evaluate(
        "import('/static/js/strings-fold.js').then((module) => module.FOLD_STRINGS)"
    )
    assert fold["en"].keys() == fold["de"].keys(), "strings-fold.js: English and German differ"


async def every_size(
    page: Page,
    name: str,
    *,
    fold: bool = True,
    sizes: dict[str, ViewportSize] = SIZES,
) -> None:
    """The state `name` at each size in turn (the same page, resized): the fold, axe, a picture."""
    for size, viewport in sizes.items():
        await page.set_viewport_size(viewport)
        if fold:
            await assert_idea_first(page, viewport, f"{size}, {name}")
        else:
            await assert_indicator_stays(page, f"{size}, {name}")
        if name.startswith("cards"):
            assert await page.evaluate(SPLIT_WORDS) == [], f"a card title breaks mid-word ({size})"
        await assert_accessible(page, f"{size}, {name}")
        await page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-picture
        await screenshot(page, f"states-{size}-{name}")
    await page.set_viewport_size(SIZES["phone"])


async def assert_idea_first(page: Page, viewport: ViewportSize, where: str) -> None:
    await page.evaluate("window.scrollTo(0, 0)")
    for selector in ("#prompt", "#start"):
        box = await page.locator(selector).bounding_box()
        assert box is not None, f"{selector} is not shown ({where})"
        inside = box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        inside = inside and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
        assert inside, f"{selector} at {box} is outside the {viewport} viewport ({where})"


async def assert_indicator_stays(page: Page, where: str) -> None:
    """Scrolled to the end of the page, the connection indicator is still in view."""
    at = await page.evaluate("window.scrollY")
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    conn = page.locator("#conn")
    box = await conn.bounding_box()
    assert box is not None, f"no connection indicator ({where})"
    assert box["y"] >= 0, f"the connection indicator scrolled away ({where})"
    await page.evaluate(f"window.scrollTo(0, {at})")


async def choose_by_keyboard(page: Page) -> None:
    """Tab and Enter/Space only: the cards open (no title breaks inside a word), the second one
    is chosen, they close again and the focus is back on the button."""
    toggle = page.locator("#pick-toggle")
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#card-panel")).to_be_visible()
    await every_size(page, "cards-de", fold=False)
    await toggle.focus()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    second = page.locator(".card").nth(1)
    await expect(second).to_be_focused()
    await page.keyboard.press("Space")
    await expect(page.locator("#card-panel")).to_be_hidden()
    await expect(toggle).to_be_focused()
    await expect(second).to_have_attribute("aria-pressed", "true")
    name = await second.locator(".card-name").text_content()
    await expect(page.locator("#pick-current .pick-name")).to_have_text(name or "")


async def run_while_typing(page: Page, demo: DemoBackends) -> None:
    """A run held mid-picture (running), then let go while the student types on the phone:
    the focus stays in the text box and a "see your picture" button appears instead of a
    scroll; pressed, it shows the picture and puts the focus on it."""
    held = demo.comfyui.hold_after(2)
    run = await start_run(page, "ein Leuchtturm auf einer Klippe", "fairy_tale")
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(stage(run, "generation").locator("progress")).to_be_visible()
    await every_size(page, "running-de", fold=False)
    await page.locator("#prompt").focus()
    demo.comfyui.release()
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    cue = page.locator("#see-picture")
    await expect(cue).to_be_visible()
    await expect(page.locator("#prompt")).to_be_focused()
    await assert_accessible(page, "phone, done-de with the cue")
    await screenshot(page, "states-phone-done-de-cue")
    await cue.click()
    picture = run.locator(".run-picture")
    await expect(picture).to_be_in_viewport(ratio=0.5)
    assert await picture.evaluate("(el) => el.contains(document.activeElement)")
    await expect(cue).to_be_hidden()
    await every_size(page, "done-de", fold=False)


async def run_and_find_the_picture(page: Page) -> None:
    """On a tablet, nobody typing: the finished picture scrolls into view by itself."""
    await page.set_viewport_size(SIZES["tablet"])
    await page.evaluate("window.scrollTo(0, 0)")
    run = await start_run(page, "ein Fuchs im Schnee", "fairy_tale")
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(run.locator(".run-picture")).to_be_in_viewport(ratio=0.5)
    await expect(page.locator("#see-picture")).to_be_hidden()
    await page.set_viewport_size(SIZES["phone"])
