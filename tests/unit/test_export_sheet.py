"""The export's contact sheet: every picture by its relative path, texts escaped, no script,
in English and German."""

from __future__ import annotations

from dataclasses import replace

from server.engine.classroom.export import ExportRange, image_names
from server.engine.classroom.export_sheet import contact_sheet
from tests.unit.test_export_names import NINE_THIRTY, UTC_RANGE, run


def test_every_picture_is_on_the_sheet_by_its_relative_path() -> None:
    runs = [run(files=("a.png", "b.png")), run("r-second01", nickname="Noah")]
    names = image_names(runs, UTC_RANGE)
    sheet = contact_sheet(runs, names, "4b", UTC_RANGE)
    for path in names.values():
        assert f'src="{path}"' in sheet
    assert sheet.count("<li ") == 3
    assert "Pictures of 4b" in sheet
    assert "3 pictures from 2 runs" in sheet


def test_a_prompt_with_markup_is_shown_as_text_and_the_sheet_has_no_script() -> None:
    hostile = '<script>alert(1)</script>" onerror="x'
    runs = [run(prompt=hostile, nickname="<b>Mika</b>")]
    sheet = contact_sheet(runs, image_names(runs, UTC_RANGE), "<i>4b</i>", UTC_RANGE)
    assert "<script" not in sheet.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onerror=&quot;x" in sheet
    assert "&lt;b&gt;Mika&lt;/b&gt;" in sheet
    assert "&lt;i&gt;4b&lt;/i&gt;" in sheet
    assert "<b>" not in sheet
    assert "<i>" not in sheet


def test_the_sheet_speaks_german_and_counts_runs_without_a_picture() -> None:
    runs = [run(), run("r-blocked1", files=())]
    sheet = contact_sheet(runs, image_names(runs, UTC_RANGE), "4b", UTC_RANGE, "de")
    assert '<html lang="de">' in sheet
    assert "Bilder der Klasse 4b" in sheet
    assert "1 Bild aus 2 Durchläufen" in sheet
    assert "1 Durchlauf ergab kein Bild" in sheet


def test_times_are_the_teachers_wall_clock() -> None:
    berlin = ExportRange(NINE_THIRTY - 3600, NINE_THIRTY + 3600, tz_minutes=60)
    runs = [run()]
    sheet = contact_sheet(runs, image_names(runs, berlin), "4b", berlin)
    assert "Mika · bauhaus · 10:30" in sheet
    assert "From 2026-12-01 09:30 to 2026-12-01 11:30" in sheet


def test_a_compare_runs_pictures_are_side_by_side_where_its_first_one_is() -> None:
    runs = [
        replace(run("r-group001", perspective="bauhaus"), group="c-fox1"),
        run("r-single01", nickname="Noah", created=NINE_THIRTY + 1),
        replace(run("r-group002", perspective="haiku", created=NINE_THIRTY + 2), group="c-fox1"),
    ]
    names = image_names(runs, UTC_RANGE)
    sheet = contact_sheet(runs, names, "4b", UTC_RANGE)
    row = sheet.split('<li class="compare">', 1)[1].split("</ul></li>", 1)[0]
    assert "One idea through several perspectives: a fox" in row
    assert names["r-group001", "a.png"] in row
    assert names["r-group002", "a.png"] in row
    assert names["r-single01", "a.png"] not in row
    assert sheet.index('<li class="compare">') < sheet.index(names["r-single01", "a.png"])
    assert "3 pictures from 3 runs" in sheet


def test_a_compare_rows_title_and_a_perspectives_name_are_escaped_too() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    runs = [
        replace(run("r-group001", prompt=hostile, perspective=hostile), group="c-x1"),
        replace(run("r-group002", prompt=hostile, created=NINE_THIRTY + 1), group="c-x1"),
    ]
    sheet = contact_sheet(runs, image_names(runs, UTC_RANGE), "4b", UTC_RANGE)
    assert "<img src=x" not in sheet
    assert sheet.count("<img ") == 2  # the two pictures, nothing a prompt brought
    assert "perspectives: &lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>" in sheet
