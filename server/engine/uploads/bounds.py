"""The named bounds of uploads, with their defaults (the settings `max_upload_bytes` etc.,
`server/settings/_uploads.py`, start from these). Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.uploads.clean import ImageBounds


@dataclass(frozen=True, slots=True)
class UploadBounds:
    #: A phone photo is 2-6 MB as JPEG; 8 MiB takes any of them and nothing much larger.
    max_bytes: int = 8 * 1024**2
    #: 40 megapixels (a 48-megapixel camera's photo is 8000 x 6000: too many; its phone
    #: sends 12 by default). A 20,000 x 20,000 bomb claims 400 million.
    max_pixels: int = 40_000_000
    max_side: int = 10_000
    #: The cleaned picture's longest side: what an SDXL or SD3.5 render starts from at most.
    output_side: int = 2048
    per_person: int = 4
    per_minute: int = 10
    #: Guests of one client address together (members and teachers count per person only):
    #: guest cookies are cheap to mint, and a class of 30 behind one NAT holds 2 each.
    per_address: int = 64
    #: Everyone's uploads held at once (a few classes, a few each).
    held: int = 256
    #: Bodies being read at once, everyone's: each buffers up to max_bytes as it arrives, so
    #: this bounds their memory (32 x 8 MiB = 256 MiB at worst).
    receiving: int = 32
    #: Decodes at once: each holds a core and up to max_pixels x 4 bytes while it runs.
    decodes: int = 2
    #: A 8 MiB file at 400 kbit/s (a DSL line shared by a class) takes 170 s.
    timeout: float = 300.0
    abandon_seconds: float = 30 * 60.0

    def image(self) -> ImageBounds:
        return ImageBounds(self.max_pixels, self.max_side, self.output_side)


DEFAULT_BOUNDS = UploadBounds()
