"""The teacher's console in real Chromium, as a lesson uses it: a teacher and three students in
separate browsers, joined with the class's code. The console shows each student's run live; the
teacher pauses the queue (a student reads that it is paused), cancels a run (the simulated GPU
gets the interrupt), hides a picture (it leaves the wall within a second) and exports the class
(the ZIP holds every visible picture and a CSV row per run); a compare run with three
perspectives appears side by side on the wall."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Locator, Page, expect

from server.engine.people.codes import show_code
from server.harness.demo import DemoSpeed
from tests.browser.conftest import TABLET
from tests.browser.test_browser_join import join
from tests.browser.test_browser_teacher import WATCH_CSP, csp_violations, font_pixels, sign_in
from tests.browser_support import (
    WAIT_MS,
    assert_nothing_technical,
    connected,
    screenshot,
    start_run,
)
from tests.people_support import PASSWORD, add_teacher, people_of
from tests.pipeline_support import StartPipeline, demo_of, until

pytestmark = pytest.mark.browser

NICKNAMES = ("Mika", "Noor", "Ada")
#: A nickname in the live view on a projector, readable from the back of a room.
PROJECTOR_NAME_PIXELS = 28
#: Text streams slowly enough for the console to show it while it comes; pictures are quick.
SPEED = DemoSpeed(tokens_per_second=80, first_token_delay=0, step_time=0.005, steps=4)


@dataclass
class Lesson:
    server: TestServer
    teacher: Page
    students: dict[str, Page]
    class_id: int
    errors: list[str]

    def student(self, nickname: str) -> Locator:
        """A student's row in the console's live view."""
        return self.teacher.locator(
            ".student", has=self.teacher.locator(".student-name", has_text=nickname)
        )


async def new_page(browser: Browser, lesson_errors: list[str], url: str) -> Page:
    """A page in a browser context of its own (its own cookies: one person each)."""
    context = await browser.new_context(viewport=TABLET, locale="en-US")  # type: ignore[arg-type]
    await context.add_init_script(WATCH_CSP)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda exc: lesson_errors.append(str(exc)))
    await page.goto(url)
    return page


@pytest.fixture
async def lesson(
    start_pipeline: StartPipeline, browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[Lesson]:
    """The teacher signed in with the console of class 4b open, three students joined (at
    once) and connected. The console's last state is kept as a screenshot; a JavaScript error
    or a Content-Security-Policy violation on the console fails the test."""
    server = await start_pipeline(safety_level="adult", access="codes", speed=SPEED)
    teacher_id = await add_teacher(server)
    errors: list[str] = []
    teacher = await new_page(browser, errors, str(server.make_url("/teacher")))
    await sign_in(teacher, PASSWORD)
    await teacher.get_by_label("Name of a new class").fill("4b")
    await teacher.get_by_role("button", name="Create class").click()
    await expect(teacher.locator(".class-card h3")).to_have_text("4b")
    (row,) = await people_of(server).classes_of(teacher_id)

    async def student(nickname: str) -> Page:
        page = await new_page(browser, errors, str(server.make_url("/")))
        await join(page, show_code(row.code), nickname)
        await connected(page)
        return page

    students = dict(zip(NICKNAMES, await asyncio.gather(*map(student, NICKNAMES)), strict=True))
    await teacher.get_by_role("link", name="Open the class").click()
    await expect(teacher.get_by_role("heading", name="4b", level=2)).to_be_focused()
    await expect(teacher.locator(".student")).to_have_count(len(NICKNAMES), timeout=WAIT_MS)
    yield Lesson(server, teacher, students, row.id, errors)
    await screenshot(teacher, f"{request.node.name}-console")
    assert not errors, f"JavaScript errors on a page: {errors}"
    assert await csp_violations(teacher) == []


async def test_the_console_shows_each_run_live_pauses_and_cancels(lesson: Lesson) -> None:
    teacher, demo = lesson.teacher, demo_of(lesson.server)
    for nickname in NICKNAMES:
        await expect(lesson.student(nickname).locator(".student-online")).to_have_text("online")
    held = demo.comfyui.hold_after(2)
    mika = await start_run(lesson.students["Mika"], "a lighthouse on a cliff")
    mika_live = lesson.student("Mika").locator(".live-run")
    await expect(mika_live.locator(".live-prompt")).to_have_text("a lighthouse on a cliff")
    await expect(mika_live.locator(".live-text")).not_to_be_empty()  # re-imagined as it streams
    async with asyncio.timeout(WAIT_MS / 1000):
        await held.wait()
    await expect(mika_live.locator(".live-stage")).to_have_text(
        "Picture: working…", timeout=WAIT_MS
    )
    await expect(mika_live.locator(".live-progress")).to_be_visible()
    # The re-imagined text stays shown while the picture renders.
    await expect(mika_live.locator(".live-text")).not_to_be_empty()

    await start_run(lesson.students["Noor"], "a quiet forest", "fairy_tale")
    noor_live = lesson.student("Noor").locator(".live-run")
    await expect(noor_live.locator(".live-place")).to_contain_text(
        "1st of 1 in line", timeout=WAIT_MS
    )
    await expect(teacher.locator("#class-queue li")).to_have_text(["Noor: Picture"])
    await screenshot(teacher, "console-live")
    await assert_nothing_technical(teacher)

    pause = teacher.get_by_role("button", name="Pause the queue")
    await pause.click()
    await expect(teacher.get_by_role("button", name="Resume the queue")).to_be_focused()
    await expect(teacher.locator("#console-state")).to_contain_text("paused")
    ada = await start_run(lesson.students["Ada"], "a red kite over the sea", "bauhaus")
    await expect(ada.locator(".run-wait")).to_contain_text(
        "Paused by your teacher", timeout=WAIT_MS
    )
    await screenshot(lesson.students["Ada"], "student-paused")

    await mika_live.get_by_role("button", name="Cancel run").click()
    await mika_live.get_by_role("button", name="Yes").click()
    async with asyncio.timeout(WAIT_MS / 1000):  # the cancel reached the GPU as an interrupt
        await demo.comfyui.state.interrupt_requested.wait()
    demo.comfyui.release()
    await expect(mika).to_have_attribute("data-status", "cancelled", timeout=WAIT_MS)
    await expect(mika_live.locator(".live-stage")).to_have_text("cancelled", timeout=WAIT_MS)
    await expect(mika_live).to_be_focused()  # its button went away: the focus stays in its place
    await until(lambda: demo.comfyui.running == 0)
    assert demo.comfyui.interrupted == 1

    await teacher.get_by_role("button", name="Resume the queue").click()
    await expect(ada).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    await expect(lesson.student("Ada").locator(".live-stage")).to_have_text(
        "finished", timeout=WAIT_MS
    )
    await expect(noor_live.locator(".live-stage")).to_have_text("finished", timeout=WAIT_MS)

    name = ".student:first-child .student-name"
    on_tablet = await font_pixels(teacher, name)
    await teacher.set_viewport_size({"width": 1920, "height": 1080})  # a projector
    assert await font_pixels(teacher, name) >= max(PROJECTOR_NAME_PIXELS, on_tablet + 1)
    await screenshot(teacher, "console-projector")


async def start_compare(page: Page, prompt: str, perspectives: tuple[str, ...]) -> Locator:
    """A compare run from the student's page: "Compare perspectives" on, the perspectives
    ticked, the prompt typed; the compare's row in the run list."""
    await page.locator("#compare-on").check()
    for perspective in perspectives:
        await page.locator(f'input[name="compare"][value="{perspective}"]').check()
    await page.locator("#prompt").fill(prompt)
    await page.locator("#start").click()
    runs = page.locator(".run")
    await expect(runs).to_have_count(len(perspectives), timeout=WAIT_MS)
    return runs


async def open_panel(page: Page, summary: str) -> Locator:
    """Opens one of the console's panels (a <details>) by its summary, with the keyboard."""
    panel = page.locator("details", has=page.get_by_role("heading", name=summary))
    await panel.locator("summary").focus()
    await page.keyboard.press("Enter")
    await expect(panel).to_have_attribute("open", "")
    return panel


async def test_a_compare_run_on_the_wall_a_hidden_picture_leaves_it_and_the_export(
    lesson: Lesson,
) -> None:
    teacher = lesson.teacher
    perspectives = ("bauhaus", "fairy_tale", "haiku")
    compare = await start_compare(lesson.students["Mika"], "a cat on a roof", perspectives)
    noor = await start_run(lesson.students["Noor"], "a boat in the fog", "cave_painting")
    for run in (*[compare.nth(i) for i in range(len(perspectives))], noor):
        await expect(run).to_have_attribute("data-status", "completed", timeout=WAIT_MS)
    noor_run = await noor.get_attribute("data-run")
    assert noor_run is not None
    # The console shows the compare as one row of three, like the student's page and the wall.
    in_console = lesson.student("Mika").locator(".live-compare .live-run")
    await expect(in_console).to_have_count(len(perspectives))
    await expect(in_console.locator(".live-stage")).to_have_text(
        ["finished"] * len(perspectives), timeout=WAIT_MS
    )

    wall = await teacher.context.new_page()  # the teacher's cookie opens the wall
    wall.on("pageerror", lambda exc: lesson.errors.append(str(exc)))
    href = await teacher.get_by_role("link", name="Open the wall").get_attribute("href")
    assert href == f"/wall/{lesson.class_id}"
    await wall.goto(str(lesson.server.make_url(href)))
    await expect(wall.locator(".wall-card")).to_have_count(len(perspectives) + 1, timeout=WAIT_MS)
    await wall.get_by_role("button", name="Compare").click()
    group = wall.locator(".wall-group")
    await expect(group).to_have_count(1)
    await expect(group.locator(".wall-card")).to_have_count(len(perspectives))
    boxes = [
        await group.locator(".wall-card").nth(i).bounding_box() for i in range(len(perspectives))
    ]
    assert all(box is not None for box in boxes)
    assert len({round(box["y"]) for box in boxes if box}) == 1, boxes  # side by side: one row
    await screenshot(wall, "wall-compare")
    await wall.get_by_role("button", name="All pictures").click()
    await screenshot(wall, "wall")

    pictures = await open_panel(teacher, "The class's pictures")
    await expect(pictures.locator(".picture-group.compare .console-picture")).to_have_count(
        len(perspectives)
    )
    figure = pictures.locator(f'.console-picture[data-run="{noor_run}"]')
    hide = figure.get_by_role("button", name="Hide from the wall")
    await hide.click()
    await expect(figure).to_have_attribute("data-hidden", "true")
    await expect(figure.get_by_role("button", name="Show on the wall")).to_be_focused()
    # The wall hears it at once: within a second the picture is gone from the projector.
    await expect(wall.locator(f'.wall-card[data-run="{noor_run}"]')).to_have_count(0, timeout=1000)
    await expect(wall.locator(".wall-card")).to_have_count(len(perspectives))
    await screenshot(teacher, "console-pictures")

    await open_panel(teacher, "Take it home")
    archive = await export_of(teacher)
    rows = csv_rows(archive)
    images = [name for name in archive.namelist() if name.endswith(".png")]
    assert len(rows) == len(perspectives) + 1  # a row per run, the hidden one's too
    assert {row["run"]: row["hidden"] for row in rows}[noor_run] == "yes"
    visible = [row for row in rows if row["run"] != noor_run]
    assert sorted(images) == sorted(row["pictures"] for row in visible)
    assert all(archive.read(name).startswith(b"\x89PNG") for name in images)
    (group_id,) = {row["group"] for row in visible}  # the compare's three runs: one group
    assert group_id
    await expect(teacher.locator(".export-status")).to_have_text("The ZIP was downloaded.")
    await assert_nothing_technical(teacher)


async def confirm(scope: Locator | Page, button: str) -> None:
    """Presses `button`, then "Yes" in the question it asks in place ("No" has the focus)."""
    await scope.get_by_role("button", name=button).click()
    await expect(scope.get_by_role("button", name="No")).to_be_focused()
    await scope.get_by_role("button", name="Yes").click()


async def test_the_panels_settings_wall_link_warm_up_lock_end_and_delete(
    lesson: Lesson, browser: Browser
) -> None:
    teacher, people = lesson.teacher, people_of(lesson.server)
    settings = await open_panel(teacher, "Class settings")
    boxes = settings.locator('input[name="perspective"]')
    await expect(boxes).not_to_have_count(0)
    for box in await boxes.all():
        if await box.get_attribute("value") not in ("bauhaus", "haiku"):
            await box.uncheck()
    await settings.get_by_label("Students may edit a perspective's instructions").uncheck()
    await settings.get_by_label("Safety level").select_option("kids")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings.locator(".panel-status")).to_contain_text("The settings are saved.")
    await expect(settings.get_by_role("button", name="Save settings")).to_be_focused()
    await expect(settings.locator(".settings-effective")).to_contain_text("In force: Children")
    stored = await people.get_class(lesson.class_id)
    assert stored is not None
    assert stored.rules is not None
    assert sorted(stored.rules.perspectives or ()) == ["bauhaus", "haiku"]
    assert (stored.rules.edit_instructions, stored.rules.safety_level) == (False, "kids")

    # The class is now at the children's level: the log shows what that stops, and why.
    log = await open_panel(teacher, "Moderation log")
    await expect(log.locator(".panel-status")).to_have_text("Nothing was stopped in this class.")
    blocked = await start_run(lesson.students["Ada"], "a boy with a gun in the park")
    await expect(blocked).to_have_attribute("data-status", "blocked", timeout=WAIT_MS)
    entry = log.locator(".blocked")
    await expect(entry.locator(".blocked-name")).to_have_text("Ada", timeout=WAIT_MS)
    await expect(entry.locator(".blocked-prompt")).to_have_text("a boy with a gun in the park")
    await expect(entry.locator(".blocked-stage")).to_have_text("stopped at: Safety check")
    await expect(entry.locator(".blocked-reason")).to_contain_text("gun")  # the teacher's reason
    await expect(blocked.locator(".run-reason")).not_to_contain_text("gun")  # never the child's
    await entry.get_by_role("button", name="Flag").click()
    await expect(entry).to_have_attribute("data-flagged", "true")
    await expect(entry.get_by_role("button", name="Remove flag")).to_be_focused()

    wall = await open_panel(teacher, "The wall")
    await wall.get_by_role("button", name="Make a wall link").click()
    link = wall.get_by_label("Wall link (select it and copy it)")
    await expect(link).to_be_focused()
    url = await link.input_value()
    assert f"/wall/{lesson.class_id}#k=" in url
    projector = await new_page(browser, lesson.errors, url)  # nobody signed in there
    await expect(projector.locator("#wall-name")).to_have_text("4b", timeout=WAIT_MS)
    await confirm(wall, "Revoke")
    await expect(wall.locator(".wall-link-list")).to_have_text("There is no wall link.")
    await expect(wall.get_by_role("button", name="Make a wall link")).to_be_focused()

    prepare = await open_panel(teacher, "Prepare the workshop")
    await expect(prepare.locator('.backend-list li[data-kind="comfyui"]')).to_have_text(
        "The picture machine: ready."
    )
    await prepare.get_by_role("button", name="Warm up the models").click()
    await expect(prepare.locator(".warmup-progress")).to_contain_text(
        "Warm-up finished", timeout=WAIT_MS
    )

    noor = lesson.student("Noor")
    await confirm(noor, "Lock nickname")
    await expect(noor.locator(".student-locked")).to_have_text("nickname locked")
    await expect(noor.get_by_role("button", name="Unlock nickname")).to_be_focused()
    await expect(lesson.students["Noor"].locator("#join")).to_be_visible(timeout=WAIT_MS)

    await confirm(teacher.locator(".controls"), "End the lesson")
    await expect(teacher.locator("#console-state")).to_have_text(
        "The lesson has ended: no new runs start."
    )
    await expect(teacher.get_by_role("button", name="Open a new lesson")).to_be_focused()
    ada = lesson.students["Ada"]
    await ada.locator("#prompt").fill("a red kite")
    await ada.locator("#start").click()
    await expect(ada.locator("#form-error")).to_contain_text("Your teacher has ended the lesson")
    await confirm(teacher.locator(".controls"), "Open a new lesson")
    await expect(teacher.locator("#console-state")).to_have_text(
        "Lesson open, the queue is running."
    )

    home = await open_panel(teacher, "Take it home")
    await home.get_by_label("Name of the class").fill("4a")
    await home.get_by_role("button", name="Delete all pictures").click()
    await expect(home.locator(".purge-form .panel-status")).to_contain_text("does not match")
    await expect(home.get_by_label("Name of the class")).to_be_focused()
    await home.get_by_label("Name of the class").fill("4b")
    await home.get_by_role("button", name="Delete all pictures").click()
    await expect(home.locator(".purge-form .panel-status")).to_have_text(
        "One run and its pictures were deleted."  # Ada's blocked one
    )
    await expect(log.locator(".blocked")).to_have_count(0)  # reloaded: nothing left to show

    await teacher.get_by_role("button", name="DE", exact=True).click()
    await expect(teacher.get_by_role("button", name="Warteschlange anhalten")).to_be_visible()
    await expect(teacher.locator("#console-state")).to_have_text(
        "Unterricht läuft, die Warteschlange läuft."
    )
    await assert_nothing_technical(teacher)
    await screenshot(teacher, "console-panels-de")
    await teacher.get_by_role("link", name="← Alle Klassen").click()
    await expect(teacher.get_by_role("link", name="Klasse öffnen")).to_be_focused()


async def export_of(page: Page) -> zipfile.ZipFile:
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download the ZIP").click()
    download = await info.value
    path = await download.path()
    return zipfile.ZipFile(io.BytesIO(path.read_bytes()))


def csv_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    text = archive.read("prompts.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))
