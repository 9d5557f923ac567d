"""What students read when a run does not end with an image, in German and English.

Friendly, short, never scary; technical detail stays in the record and the log.
"""

from __future__ import annotations

from server.engine.backends.kinds import kind_named
from server.engine.errors import (
    BackendBusy,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)
from server.engine.media import MediaNotKept
from server.protocol import StageName

_TEXTS: dict[str, dict[str, str]] = {
    "word_blocked": {
        "en": "Your text contains a word that is not allowed here. Try saying it differently.",
        "de": "Dein Text enthält ein Wort, das hier nicht erlaubt ist. "
        "Versuch es mit anderen Worten.",
    },
    "stream_blocked": {
        "en": "The re-imagined text went somewhere it should not, so it was stopped. "
        "Try again or pick another perspective.",
        "de": "Der umgedeutete Text ging in eine Richtung, die hier nicht passt, deshalb wurde "
        "er gestoppt. Versuch es noch einmal oder wähl eine andere Perspektive.",
    },
    # The safety model's reason is never shown: it goes to the run's record for the teacher.
    "llm_blocked": {
        "en": "This idea can't be turned into a picture here. Try a different one.",
        "de": "Diese Idee kann hier nicht in ein Bild verwandelt werden. Probier eine andere.",
    },
    "check_unavailable": {
        "en": "The safety check is not available right now, so nothing was generated. "
        "Please try again in a moment.",
        "de": "Die Sicherheitsprüfung ist gerade nicht erreichbar, deshalb wurde nichts "
        "erzeugt. Bitte versuch es gleich noch einmal.",
    },
    "vision_blocked": {
        "en": "This picture did not turn out right for this workshop, so it is not shown. "
        "Try a different idea.",
        "de": "Dieses Bild ist für diesen Workshop nicht passend geworden, deshalb wird es "
        "nicht gezeigt. Probier eine andere Idee.",
    },
    "vision_unavailable": {
        "en": "The picture could not be checked right now, so it is not shown. "
        "Please try again in a moment.",
        "de": "Das Bild konnte gerade nicht geprüft werden, deshalb wird es nicht gezeigt. "
        "Bitte versuch es gleich noch einmal.",
    },
    "cancelled": {"en": "Stopped.", "de": "Abgebrochen."},
    # A teacher's controls (`server/engine/classroom/lessons.py`).
    "lesson_ended": {
        "en": "Your teacher ended the lesson, so this picture was stopped.",
        "de": "Deine Lehrkraft hat die Stunde beendet, deshalb wurde dieses Bild abgebrochen.",
    },
    "teacher_cancelled": {
        "en": "Your teacher stopped this picture.",
        "de": "Deine Lehrkraft hat dieses Bild abgebrochen.",
    },
    "server_restarting": {
        "en": "The server is restarting, so this picture was stopped. "
        "Please try again in a minute.",
        "de": "Der Server startet gerade neu, deshalb wurde dieses Bild abgebrochen. "
        "Bitte versuch es in einer Minute noch einmal.",
    },
    "disk_full": {
        "en": "The server's disk is full, so this picture is not saved there. "
        "Download it now if you want to keep it.",
        "de": "Die Festplatte des Servers ist voll, deshalb wird dieses Bild dort nicht "
        "gespeichert. Lade es jetzt herunter, wenn du es behalten willst.",
    },
    "failed": {
        "en": "Something went wrong while {stage}: {detail}",
        "de": "Beim {stage} ist etwas schiefgegangen: {detail}",
    },
    "internal": {
        "en": "Something went wrong on the server. Please try again.",
        "de": "Auf dem Server ist etwas schiefgegangen. Bitte versuch es noch einmal.",
    },
}

#: What a backend is called that no kind names (each kind's own words are in its row).
_ANY_SERVER = {"en": "the server", "de": "der Server"}

#: What went wrong with a backend, for students: no addresses, paths or stack traces (those go
#: to the run record and the log). The first matching class wins.
_PROBLEMS: tuple[tuple[type[BackendError], dict[str, str]], ...] = (
    (
        MediaNotKept,  # not the image server's fault: it made the picture
        {
            "en": "the server's disk is full, so the picture could not be kept; "
            "please tell your teacher",
            "de": "die Festplatte des Servers ist voll, deshalb konnte das Bild nicht "
            "aufbewahrt werden; bitte sag deiner Lehrkraft Bescheid",
        },
    ),
    (
        BackendTimeout,
        {
            "en": "{server} did not answer in time",
            "de": "{server} hat nicht rechtzeitig geantwortet",
        },
    ),
    (
        BackendBusy,
        {
            "en": "{server} is too busy right now, try again in a minute",
            "de": "{server} ist gerade zu beschäftigt, versuch es in einer Minute",
        },
    ),
    (
        ModelNotFound,
        {
            "en": "{server} does not have the model this needs",
            "de": "{server} hat das nötige Modell nicht",
        },
    ),
    (
        BackendUnavailable,
        {
            "en": "{server} cannot be reached right now",
            "de": "{server} ist gerade nicht erreichbar",
        },
    ),
    (
        BackendError,
        {"en": "{server} reported an error", "de": "{server} hat einen Fehler gemeldet"},
    ),
)

_STAGE_NAMES: dict[StageName, dict[str, str]] = {
    StageName.SAFETY: {"en": "checking your text", "de": "Prüfen deines Textes"},
    StageName.INTERCEPTION: {"en": "re-imagining your prompt", "de": "Umdeuten deines Prompts"},
    StageName.TRANSLATION: {"en": "translating", "de": "Übersetzen"},
    StageName.GENERATION: {"en": "making the picture", "de": "Erzeugen des Bildes"},
}


def text(key: str, lang: str, **values: str) -> str:
    template = _TEXTS[key].get(lang) or _TEXTS[key]["en"]
    return template.format(**values)


def server_name(backend: str, lang: str) -> str:
    """What students call the server an error's `backend` names, as the page's banner does
    ("the picture machine is starting")."""
    kind = kind_named(backend)
    words = kind.students if kind is not None else _ANY_SERVER
    return words.get(lang) or words["en"]


def backend_problem(exc: BackendError, lang: str) -> str:
    """A student-friendly account of a backend failure, naming which server it was."""
    template = next(text for kind, text in _PROBLEMS if isinstance(exc, kind))
    limit = getattr(exc, "limit", None)
    detail = (template.get(lang) or template["en"]).format(server=server_name(exc.backend, lang))
    if limit is not None:
        within = {"en": f" (within {limit:.0f} s)", "de": f" (innerhalb von {limit:.0f} s)"}
        detail += within.get(lang) or within["en"]
    return detail


def stage_failed(stage: StageName | None, lang: str, detail: str) -> str:
    if stage is None:
        return text("internal", lang)
    name = _STAGE_NAMES[stage].get(lang) or _STAGE_NAMES[stage]["en"]
    return text("failed", lang, stage=name, detail=detail)


def backend_failure(stage: StageName | None, exc: BackendError, lang: str) -> str:
    """The reason a student reads when `stage` failed because of a backend."""
    return stage_failed(stage, lang, backend_problem(exc, lang))
