"""Helpers for the browser tests: driving the classroom page the way a student does."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, expect

from server.engine.session import Session
from server.handlers.keys import REGISTRY
from tests.pipeline_support import StartPipeline

#: Long enough for anything the simulators do at test speed; never a fixed sleep.
WAIT_MS = 15_000
#: Where screenshots of the page go (the fixture adds one of each page's final state).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"

#: What a child must never read: a run id, a loopback address, a URL, or a snake_case word
#: (error and reason codes, perspective ids: the words the server speaks to the page).
TECHNICAL = re.compile(
    r"\br-[A-Za-z0-9_-]{6,}|127\.0\.0\.1|localhost|https?://|\b[a-z0-9]+(?:_[a-z0-9]+)+\b"
)


async def demo_page(
    start_pipeline: StartPipeline, open_page: Callable[..., Awaitable[Page]], **settings: Any
) -> tuple[TestServer, Page]:
    """A server with the demo backends at level `adult`, and a page connected to it."""
    server = await start_pipeline(safety_level="adult", **settings)
    page = await open_page(server)
    await connected(page)
    return server, page


async def connected(page: Page) -> None:
    await expect(page.locator("#conn")).to_have_attribute(
        "data-state", "connected", timeout=WAIT_MS
    )
    await expect(page.locator(".card")).not_to_have_count(0)


async def start_run(page: Page, prompt: str, perspective: str = "bauhaus") -> Locator:
    """Choose a perspective card, type the prompt, press start; returns the new run's view."""
    before = await page.locator(".run").count()
    await choose_perspective(page, perspective)
    await page.locator("#prompt").fill(prompt)
    await page.locator("#start").click()
    runs = page.locator(".run")
    await expect(runs).to_have_count(before + 1, timeout=WAIT_MS)
    return runs.first  # newest first


async def choose_perspective(page: Page, perspective: str) -> None:
    """Choose a perspective in the compact picker: open its cards (unless open), press one.
    Nothing to do when it is the chosen one already (a class offering one has no button)."""
    card = page.locator(f'.card[value="{perspective}"]')
    if await card.get_attribute("aria-pressed") == "true":
        return
    if not await card.is_visible():
        await page.locator("#pick-toggle").click()
    await card.click()


async def ui_strings(page: Page) -> dict[str, dict[str, str]]:
    """The page's own strings.js, language -> key -> template."""
    strings: dict[str, dict[str, str]] = await page.evaluate(
        "import('/static/js/strings.js').then((module) => module.STRINGS)"
    )
    return strings


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of a state the final screenshot would not show."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


async def assert_nothing_technical(page: Page) -> None:
    text: str = await page.evaluate("document.body.innerText")
    found = [match.group(0) for match in TECHNICAL.finditer(text)]
    assert not found, f"technical text on the page: {found}\n{text}"


def stage(run: Locator, name: str) -> Locator:
    return run.locator(f'.stage[data-stage="{name}"]')


async def session_of(page: Page, server: TestServer) -> Session:
    """The server-side session behind this page (ids from the page's sessionStorage)."""
    saved: Any = await page.evaluate("sessionStorage.getItem('atelier.session')")
    session = server.app[REGISTRY].get(orjson.loads(saved)["session"])
    assert session is not None
    return session


def logged_messages(session: Session) -> list[dict[str, Any]]:
    """Every message the server numbered for this session, as the page should have seen it."""
    raw = session.log.since(0)
    assert raw is not None, "the event log no longer reaches back to the start"
    return [orjson.loads(data) for data in raw]


def final_stage_text(session: Session, run: str, stage_name: str) -> str:
    for message in logged_messages(session):
        if (message["type"], message.get("run"), message.get("stage")) == (
            "stage",
            run,
            stage_name,
        ) and message["status"] in ("done", "skipped"):
            return str(message["text"])
    raise AssertionError(f"no final {stage_name} text for {run} in the server's log")


async def record_changes(
    page: Page, selector: str, name: str, attribute: str | None = None
) -> None:
    """Record every value an element's text (or attribute) takes, into window[name].

    Polling with expect() can miss a short-lived state (a half-streamed text, a brief
    "reconnecting"); a MutationObserver sees each one.
    """
    await page.evaluate(
        """([selector, name, attribute]) => {
          window[name] = [];
          const read = () => {
            const el = document.querySelector(selector);
            if (!el) return;
            const value = attribute ? el.getAttribute(attribute) : el.textContent;
            const seen = window[name];
            if (seen[seen.length - 1] !== value) seen.push(value);
          };
          new MutationObserver(read).observe(document.body,
            { subtree: true, childList: true, characterData: true, attributes: true });
          read();
        }""",
        [selector, name, attribute],
    )


async def recorded(page: Page, name: str) -> list[str]:
    values: list[str] = await page.evaluate(f"window[{name!r}]")
    return values
