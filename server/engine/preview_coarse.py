"""Coarse previews: what a preview becomes at the levels whose pictures a vision model checks.

Until the finished picture has passed the check, a child must not see it in detail, and a
preview is the picture half-made. So at those levels a preview is shrunk to a mosaic of
`BLOCKS` x `BLOCKS` averaged colours and re-encoded as a PNG of `SIDE` pixels, sharp-edged:
enough to see that something is happening and its colours, never what it shows. Anything that
does not decode, or claims more than `MAX_PIXELS`, is dropped: no preview rather than a sharp
one. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io

from PIL import Image

#: Blocks across and down: a few, so no shape survives.
BLOCKS = 4
#: Pixels across the re-encoded mosaic (each block SIDE / BLOCKS wide), so it shows as blocks
#: whatever the page scales it to.
SIDE = 64
#: Largest preview decoded (width x height, read from its header before any pixel is).
MAX_PIXELS = 4096 * 4096
#: The codecs ComfyUI previews come in; nothing else is even tried.
FORMATS = ("PNG", "JPEG", "WEBP")
#: What a coarse preview always is.
MIME = "image/png"


def coarse_preview(image: bytes) -> bytes | None:
    """The mosaic of `image`, as PNG bytes; None when it cannot or must not be decoded."""
    small = averaged(image)
    if small is None:
        return None
    mosaic = small.resize((SIDE, SIDE), Image.Resampling.NEAREST)
    out = io.BytesIO()
    mosaic.save(out, format="PNG")
    return out.getvalue()


def averaged(image: bytes) -> Image.Image | None:
    """`image` reduced to BLOCKS x BLOCKS averaged colours (box filter)."""
    try:
        with Image.open(io.BytesIO(image), formats=FORMATS) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                return None
            return opened.convert("RGB").resize((BLOCKS, BLOCKS), Image.Resampling.BOX)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # Pillow's decoders report a damaged file with any of these.
        return None
