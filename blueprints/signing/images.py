"""Checking a drawn signature: a real PNG, small, of sane dimensions, with enough ink; and its thumbnail."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageChops, UnidentifiedImageError

MAX_BYTES = 200 * 1024
WIDTH = (100, 2000)
HEIGHT = (50, 1000)
# A signature covers well over 0.2 % of a pad; a dot or a blank canvas does not.
MIN_INK_RATIO = 0.002
MIN_INK_PIXELS = 150
THUMBNAIL = (240, 120)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageProblem(ValueError):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignatureImage:
    data: bytes
    width: int
    height: int
    ink_pixels: int
    image: Image.Image  # decoded once, reused for the thumbnail


def from_data_url(value: str | None) -> bytes:
    """The bytes of a ``data:image/png;base64,...`` value (what the pad sends)."""
    if not value:
        raise ImageProblem(_l("Draw your signature in the box first."))
    head, _, payload = value.partition(",")
    if head != "data:image/png;base64":
        raise ImageProblem(_l("The signature must be a PNG image."))
    if len(payload) > (MAX_BYTES * 4) // 3 + 8:
        raise ImageProblem(_l("The signature image is too large (200 KB at most)."))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageProblem(_l("The signature image could not be read.")) from error


def check(data: bytes) -> SignatureImage:
    if len(data) > MAX_BYTES:
        raise ImageProblem(_l("The signature image is too large (200 KB at most)."))
    if not data.startswith(PNG_MAGIC):
        raise ImageProblem(_l("The signature must be a PNG image."))
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            raise ImageProblem(_l("The signature must be a PNG image."))
        width, height = image.size  # read from the header, before any pixel is decoded
        if not (WIDTH[0] <= width <= WIDTH[1] and HEIGHT[0] <= height <= HEIGHT[1]):
            raise ImageProblem(_l("The signature image has unexpected dimensions."))
        image.load()
    except ImageProblem:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageProblem(_l("The signature image could not be read.")) from error
    ink = ink_pixels(image)
    if ink < MIN_INK_PIXELS or ink < MIN_INK_RATIO * width * height:
        raise ImageProblem(_l("The signature is empty or too small: sign across the box."))
    return SignatureImage(data, width, height, ink, image)


def ink_pixels(image: Image.Image) -> int:
    """Pixels both opaque enough and dark enough to be ink (a transparent pixel is black with alpha 0)."""
    rgba = image.convert("RGBA")
    opaque = rgba.getchannel("A").point(lambda v: 255 if v > 64 else 0)
    dark = rgba.convert("L").point(lambda v: 255 if v < 160 else 0)
    return ImageChops.multiply(opaque, dark).histogram()[255]


def thumbnail(source: bytes | SignatureImage) -> bytes:
    image = source.image if isinstance(source, SignatureImage) else Image.open(io.BytesIO(source))
    image = image.convert("RGBA")
    # Bilinear after a cheap reduction: a sharp enough miniature for a sheet, at a fraction of Lanczos' cost.
    image.thumbnail(THUMBNAIL, Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()
