"""A `run.start` with an `image`: which output config renders it, and the refusals a student
reads when the picture does not fit (in the run's language). Pure.

The output a student picked may render from the prompt alone and hand runs that bring a picture
to its image-to-image variant (`workflows.image_output`); an output that starts from a picture
needs one. A picture for an output that takes none is refused, not silently dropped: the
student would otherwise wonder why their drawing did not matter.
"""

from __future__ import annotations

from collections.abc import Mapping

from server.engine.errors import AtelierError
from server.engine.workflows import ImageNotAccepted as NoSlot
from server.engine.workflows import ImageRequired as NeedsSlot
from server.engine.workflows import image_output
from server.engine.workflows.image import HasConfig
from server.protocol import ErrorCode, RunStart


class UnknownUpload(AtelierError):
    code = ErrorCode.UNKNOWN_UPLOAD


class ImageNotAccepted(AtelierError):
    code = ErrorCode.IMAGE_NOT_ACCEPTED


class ImageRequired(AtelierError):
    code = ErrorCode.IMAGE_REQUIRED


_TEXTS = {
    # Another person's id, one already used, deleted or expired: one answer for all.
    ErrorCode.UNKNOWN_UPLOAD: {
        "en": "Your picture is no longer here. Please add it again.",
        "de": "Dein Bild ist nicht mehr da. Bitte füge es noch einmal hinzu.",
    },
    ErrorCode.IMAGE_NOT_ACCEPTED: {
        "en": "This kind of picture cannot start from your own image. Remove the image, or "
        "choose another kind.",
        "de": "Diese Art Bild kann nicht mit deinem eigenen Bild starten. Entferne das Bild "
        "oder wähle eine andere Art.",
    },
    ErrorCode.IMAGE_REQUIRED: {
        "en": "This kind of picture starts from your own image. Please add one first.",
        "de": "Diese Art Bild startet mit deinem eigenen Bild. Bitte füge zuerst eines hinzu.",
    },
}


def text(code: ErrorCode, lang: str) -> str:
    texts = _TEXTS[code]
    return texts.get(lang) or texts["en"]


def rendered_output(workflows: Mapping[str, HasConfig], output: str, message: RunStart) -> str:
    """The output config that renders this run: `output`, or its image-to-image variant when
    the run brings a picture; raises ImageNotAccepted or ImageRequired."""
    try:
        return image_output(workflows, output, message.image is not None)
    except NoSlot:
        raise ImageNotAccepted(text(ErrorCode.IMAGE_NOT_ACCEPTED, message.lang)) from None
    except NeedsSlot:
        raise ImageRequired(text(ErrorCode.IMAGE_REQUIRED, message.lang)) from None


def unknown_upload(lang: str) -> UnknownUpload:
    return UnknownUpload(text(ErrorCode.UNKNOWN_UPLOAD, lang))
