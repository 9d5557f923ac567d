"""The file name a downloaded picture gets: prompt, perspective and date. Pure.

"Füchse im Schnee" in Bauhaus gives `fuechse-im-schnee_bauhaus_2026-12-01.png` for
`filename=` (ASCII: every browser and file system takes it) and
`füchse-im-schnee_bauhaus_2026-12-01.png` for `filename*=UTF-8''` (RFC 6266, RFC 8187), which
modern browsers prefer. Only letters, digits and dashes come from the prompt, so no header or
path can be smuggled in.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

#: Characters of the prompt kept in a name (cut at a word's end when it can be).
MAX_PROMPT_CHARS = 40
MAX_PERSPECTIVE_CHARS = 30
FALLBACK = "picture"

# German letters keep their sound in ASCII; NFKD alone would turn "ß" into nothing.
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class DownloadName:
    ascii: str
    unicode: str

    def content_disposition(self) -> str:
        """`attachment` with both names; only the UTF-8 one needs quoting."""
        encoded = quote(self.unicode, safe="")
        return f"attachment; filename=\"{self.ascii}\"; filename*=UTF-8''{encoded}"


def ascii_slug(text: str, limit: int) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_GERMAN))
    plain = folded.encode("ascii", "ignore").decode()
    return _cut(_NOT_ASCII_WORD.sub("-", plain).strip("-"), limit)


def unicode_slug(text: str, limit: int) -> str:
    words = _NOT_WORD.sub("-", unicodedata.normalize("NFC", text).lower()).strip("-")
    return _cut(words, limit)


def _cut(slug: str, limit: int) -> str:
    """At most `limit` characters, ending at a dash when one is near (whole words)."""
    if len(slug) <= limit or slug[limit] == "-":
        return slug[:limit]
    head = slug[:limit]
    dash = head.rfind("-")
    return (head[:dash] if dash >= limit // 2 else head).strip("-")


def download_name(
    prompt: str, perspective: str, created: float, suffix: str, number: int | None = None
) -> DownloadName:
    """The name for one picture; `number` (1, 2, ...) when its run made several."""
    date = time.strftime("%Y-%m-%d", time.gmtime(created))
    tail = f"_{date}" + (f"-{number}" if number is not None else "") + f".{suffix}"
    return DownloadName(
        _join(ascii_slug(prompt, MAX_PROMPT_CHARS), ascii_slug(perspective, MAX_PERSPECTIVE_CHARS))
        + tail,
        _join(
            unicode_slug(prompt, MAX_PROMPT_CHARS),
            unicode_slug(perspective, MAX_PERSPECTIVE_CHARS),
        )
        + tail,
    )


def _join(prompt: str, perspective: str) -> str:
    return "_".join(part for part in (prompt or FALLBACK, perspective) if part)
