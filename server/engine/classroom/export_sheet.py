"""The export's `index.html`: a contact sheet of a class's pictures to print or open at home.
Pure.

One card per picture (the image by its relative path in the ZIP, the nickname, perspective,
time and prompt), in English or German. Every text from a run is HTML-escaped, so a prompt
that says `<script>` is shown as those letters; the page holds no script at all, and its
style is inline (the file opens from a folder, where no server sends a policy or a sheet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Literal

from server.engine.classroom.export import ExportRange, ExportRun

Lang = Literal["en", "de"]

WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Pictures of {name}",
        "range": "From {since} to {until}",
        "count": "{pictures} from {runs}",
        "pictures": "{n} pictures",
        "pictures_1": "1 picture",
        "runs": "{n} runs",
        "runs_1": "1 run",
        "without": "{n} runs made no picture (blocked, stopped or failed): see prompts.csv.",
        "without_1": "1 run made no picture (blocked, stopped or failed): see prompts.csv.",
        "prompt": "Idea",
        "compare": "One idea through several perspectives: {prompt}",
    },
    "de": {
        "title": "Bilder der Klasse {name}",
        "range": "Von {since} bis {until}",
        "count": "{pictures} aus {runs}",
        "pictures": "{n} Bilder",
        "pictures_1": "1 Bild",
        "runs": "{n} Durchläufen",
        "runs_1": "1 Durchlauf",
        "without": "{n} Durchläufe ergaben kein Bild (gesperrt, abgebrochen oder "
        "fehlgeschlagen): siehe prompts.csv.",
        "without_1": "1 Durchlauf ergab kein Bild (gesperrt, abgebrochen oder "
        "fehlgeschlagen): siehe prompts.csv.",
        "prompt": "Idee",
        "compare": "Eine Idee durch mehrere Perspektiven: {prompt}",
    },
}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
p.meta { margin: 0 0 1rem; color: #444; }
ul.sheet { list-style: none; padding: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); }
li.card { border: 1px solid #ccc; border-radius: .4rem; padding: .5rem; break-inside: avoid; }
li.card img { width: 100%; height: auto; display: block; }
li.card p { margin: .3rem 0 0; overflow-wrap: anywhere; }
li.card .who { font-weight: 600; }
li.compare { grid-column: 1 / -1; break-inside: avoid; }
li.compare > p { margin: 0 0 .3rem; font-weight: 600; overflow-wrap: anywhere; }
ul.row { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem;
  grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); }
@media print { body { margin: 0; } ul.sheet { grid-template-columns: repeat(3, 1fr); } }
"""


def contact_sheet(
    runs: Sequence[ExportRun],
    names: Mapping[tuple[str, str], str],
    class_name: str,
    export: ExportRange,
    lang: Lang = "en",
) -> str:
    """The whole `index.html`, oldest picture first; a compare run's pictures side by side
    in one row, where its first picture would be."""
    words = WORDS[lang]
    pictures = sum(len(run.files) for run in runs)
    cards = [_entry(entry, names, export, words) for entry in _entries(runs)]
    without = sum(1 for run in runs if not run.files and not run.hidden)
    meta = [
        words["range"].format(since=_when(export, export.since), until=_when(export, export.until)),
        words["count"].format(
            pictures=counted(words, "pictures", pictures), runs=counted(words, "runs", len(runs))
        ),
    ]
    footer = f'<p class="meta">{escape(counted(words, "without", without))}</p>'
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(words['title'].format(name=class_name))}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>{escape(words['title'].format(name=class_name))}</h1>",
            *(f'<p class="meta">{escape(line)}</p>' for line in meta),
            '<ul class="sheet">',
            *cards,
            "</ul>",
            footer if without else "",
            "</body></html>",
            "",
        ]
    )


def counted(words: Mapping[str, str], key: str, n: int) -> str:
    """`key`'s words for `n` things: its `_1` form for one."""
    return words[f"{key}_1"] if n == 1 else words[key].format(n=n)


def _entries(runs: Sequence[ExportRun]) -> list[list[ExportRun]]:
    """The runs with pictures in order, a compare group's runs together in one entry."""
    entries: list[list[ExportRun]] = []
    groups: dict[str, list[ExportRun]] = {}
    for run in runs:
        if not run.files:
            continue
        if run.group is None:
            entries.append([run])
        elif run.group in groups:
            groups[run.group].append(run)
        else:
            entries.append(groups.setdefault(run.group, [run]))
    return entries


def _entry(
    entry: list[ExportRun],
    names: Mapping[tuple[str, str], str],
    export: ExportRange,
    words: Mapping[str, str],
) -> str:
    cards = "".join(
        _card(run, names[run.run, f], export, words) for run in entry for f in run.files
    )
    if entry[0].group is None:
        return cards
    title = escape(words["compare"].format(prompt=entry[0].prompt))
    return f'<li class="compare"><p>{title}</p><ul class="row">{cards}</ul></li>'


def _card(run: ExportRun, path: str, export: ExportRange, words: Mapping[str, str]) -> str:
    who = f"{run.nickname} · {run.perspective} · {export.local(run.created):%H:%M}"
    return (
        f'<li class="card"><img src="{escape(path)}" alt="{escape(run.prompt)}">'
        f'<p class="who">{escape(who)}</p>'
        f"<p>{escape(words['prompt'])}: {escape(run.prompt)}</p></li>"
    )


def _when(export: ExportRange, moment: float) -> str:
    return f"{export.local(moment):%Y-%m-%d %H:%M}"
