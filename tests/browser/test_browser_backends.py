"""Backend states in children's words: one short sentence per reason, in German and English,
never an instance name, an address or the server's technical text.

Three states are driven for real: a text machine started on demand (`starting`), one whose
start never becomes ready (`start_failed`), a picture machine that crashes mid-render
(`unreachable`). The other reasons need failures the simulators cannot stage on cue in a
browser test (a timed-out check, a 5xx check, an open breaker), so the last test hands every
reason to the page's own message handler (`connection.receive`) from Playwright.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from server.engine.backends.config import ComfyUIBackendConfig, LLMBackendConfig
from server.protocol import BackendReason
from tests.backends_support import StartAtelier, free_port, sim_command
from tests.browser.conftest import OpenPage
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    connected,
    demo_page,
    screenshot,
    start_run,
    ui_strings,
)
from tests.pipeline_support import StartPipeline, demo_of

pytest_plugins = ["tests.backends_support"]
pytestmark = pytest.mark.browser

CHECKOUT = Path(__file__).resolve().parents[2]
#: A start command that waits for the test to create `$0`, then becomes the simulator: the
#: "starting" state lasts exactly as long as the test needs it to.
GATED = 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"'
#: A "server" that prints and never answers.
HANGS = "import time; print('loading', flush=True); time.sleep(60)"
#: What an instance is called and what an older server sent as free text: never shown.
INSTANCE = "gpu-box-3.lab.internal:8188"
RAW = "GET /system_stats: Cannot connect to host 127.0.0.1:19010 (see /var/log/comfy.log)"


def banner(page: Page) -> Locator:
    return page.locator("#backend-banner")


async def switch_language(page: Page, lang: str) -> None:
    await page.get_by_role("button", name=lang.upper(), exact=True).click()
    await expect(page.locator("html")).to_have_attribute("lang", lang)


def text_machine(tmp_path: Path, start_command: list[str], **fields: Any) -> LLMBackendConfig:
    return LLMBackendConfig(
        name="lazy",
        url=f"http://127.0.0.1:{fields.pop('port')}",
        start_command=tuple(start_command),
        workdir=CHECKOUT,
        log_file=tmp_path / "lazy.log",
        **fields,
    )


async def test_a_text_machine_being_started_says_so_with_its_time(
    start_atelier: StartAtelier, comfyui_sim: str, open_page: OpenPage, tmp_path: Path
) -> None:
    gate, port = tmp_path / "go", free_port()
    command = ["sh", "-c", GATED, str(gate), *sim_command("ollama", port)]
    server = await start_atelier(
        llm=[text_machine(tmp_path, command, port=port, ready_timeout=30)],
        comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)],
    )
    page = await open_page(server)
    await connected(page)
    run = await start_run(page, "a kite over a green hill")

    english = re.compile(r"^The text machine is starting, about \d+ s\.$")
    await expect(banner(page)).to_have_text(english, timeout=WAIT_MS)
    await screenshot(page, "backend_starting_en")
    await switch_language(page, "de")
    await expect(banner(page)).to_have_text(
        re.compile(r"^Die Textmaschine startet, noch etwa \d+ s\.$")
    )
    await screenshot(page, "backend_starting_de")
    await assert_nothing_technical(page)

    gate.touch()
    await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(banner(page)).to_be_hidden()


async def test_a_text_machine_that_cannot_be_started_says_tell_your_teacher(
    start_atelier: StartAtelier, comfyui_sim: str, open_page: OpenPage, tmp_path: Path
) -> None:
    never_ready = text_machine(
        tmp_path,
        [sys.executable, "-c", HANGS],
        port=free_port(),
        ready_timeout=0.5,
        restart_min_interval=600,
    )
    server = await start_atelier(
        llm=[never_ready], comfyui=[ComfyUIBackendConfig(name="img", url=comfyui_sim)]
    )
    page = await open_page(server)
    await connected(page)
    run = await start_run(page, "a kite over a green hill")

    await expect(run).to_have_attribute("data-status", "failed", timeout=WAIT_MS)
    await expect(banner(page)).to_have_text(
        "The text machine could not be switched on, please tell your teacher."
    )
    await expect(run.locator(".run-retry")).to_be_visible()  # once the teacher has fixed it
    await assert_nothing_technical(page)
    await screenshot(page, "backend_start_failed_en")
    await switch_language(page, "de")
    await expect(banner(page)).to_have_text(
        "Die Textmaschine konnte nicht eingeschaltet werden, bitte sag deiner Lehrkraft Bescheid."
    )
    await screenshot(page, "backend_start_failed_de")


async def test_a_picture_machine_that_crashed_mid_render_cannot_be_reached(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    # Frequent health checks: the check is what notices the crashed instance is gone.
    server = await start_pipeline(safety_level="adult", health_interval=0.2)
    comfyui = demo_of(server).comfyui
    held = comfyui.hold_after(2)
    page = await open_page(server, locale="de-DE")
    await connected(page)
    await start_run(page, "ein Leuchtturm im Sturm")
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()

    await comfyui.crash()
    await expect(banner(page)).to_have_text(
        "Die Bildmaschine ist gerade nicht erreichbar, wir versuchen es weiter.", timeout=WAIT_MS
    )
    await screenshot(page, "backend_unreachable_de")
    await switch_language(page, "en")
    await expect(banner(page)).to_have_text(
        "The picture machine cannot be reached right now, we keep trying."
    )
    await assert_nothing_technical(page)


async def receive(page: Page, **fields: Any) -> None:
    """Hand a `backend` message to the page's own message handler (seq 0: unnumbered)."""
    message = {"type": "backend", "seq": 0, "instance": INSTANCE, "eta": None, **fields}
    await page.evaluate("(m) => window.atelier.connection.receive(m)", message)


def sentence(strings: dict[str, str], kind: str, reason: str, eta: str | None) -> str:
    key = "starting_unknown" if reason == "starting" and eta is None else reason
    machine = strings[f"backend.{kind}"]
    return strings[f"backend.{key}"].replace("{kind}", machine).replace("{eta}", eta or "")


#: A state each reason comes with; the sentence must follow the reason, not the state.
STATE_OF = {"starting": "starting", "unreachable": "down", "start_failed": "down"}


async def test_every_backend_reason_reads_as_one_sentence_in_both_languages(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    _, page = await demo_page(start_pipeline, open_page)
    strings = await ui_strings(page)
    reasons = [reason.value for reason in BackendReason]
    cases = [(kind, reason) for reason in reasons for kind in ("comfyui", "llm")]

    for lang in ("en", "de"):
        await switch_language(page, lang)
        for kind, reason in cases:
            state = STATE_OF.get(reason, "unhealthy")
            await receive(page, kind=kind, state=state, reason=reason, message=RAW)
            expected = sentence(strings[lang], kind, reason, None)
            await expect(banner(page)).to_have_text(expected)
            await receive(page, kind=kind, state="healthy", reason=None)
            await expect(banner(page)).to_be_hidden()
        await receive(page, kind="comfyui", state="starting", reason="starting", eta=20)
        await expect(banner(page)).to_have_text(
            sentence(
                strings[lang],
                "comfyui",
                "starting",
                strings[lang]["time.seconds"].replace("{n}", "20"),
            )
        )
        await screenshot(page, f"backend_reasons_{lang}")
        await receive(page, kind="comfyui", state="healthy", reason=None)

    await expect(banner(page)).to_be_hidden()
    # The design's own example, word for word.
    assert sentence(strings["en"], "comfyui", "starting", "20 s") == (
        "The picture machine is starting, about 20 s."
    )
    assert sentence(strings["de"], "comfyui", "starting", "20 s") == (
        "Die Bildmaschine startet, noch etwa 20 s."
    )


async def test_backend_notes_follow_the_kind_not_each_instance(
    start_pipeline: StartPipeline, open_page: OpenPage
) -> None:
    _, page = await demo_page(start_pipeline, open_page)
    down = {"kind": "comfyui", "state": "down", "reason": "unreachable"}
    await receive(page, **down, instance="gpu-1")
    await receive(page, **down, instance="gpu-2")
    await expect(banner(page).locator("p")).to_have_count(1)  # one sentence for two machines
    await receive(page, kind="comfyui", instance="gpu-3", state="healthy", reason=None)
    await expect(banner(page)).to_be_hidden()  # another picture machine serves meanwhile
    await receive(page, kind="vision", instance="v-1", state="down", reason="no_answer")
    await expect(banner(page)).to_have_text(
        "One of the machines is not answering right now, we keep trying."
    )
    await receive(page, kind="vision", instance="v-1", state="down", reason="melted")
    await expect(banner(page)).to_have_text(  # a reason newer than the page: a plain problem
        "One of the machines has a problem right now, we keep trying."
    )
    await assert_nothing_technical(page)
