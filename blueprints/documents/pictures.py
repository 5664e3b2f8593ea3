"""Images on documents: logos and signatures scaled down to their box, the QR code of the verification page."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterable

from sqlalchemy import select

from tenants.db import db
from tenants.storage import Blob

logger = logging.getLogger(__name__)


# Images drawn larger than this are scaled down first: the PDF stays small and the render quick.
LOGO_BOX = (480, 160)
SIGNATURE_BOX = (480, 192)
THUMBNAIL_BOX = (240, 120)
BLOB_CHUNK = 500


# --- images --------------------------------------------------------------------------------------------------


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64," + base64.b64encode(data).decode("ascii")


def fit_image(data: bytes, box: tuple[int, int], *, crop: bool = False) -> str | None:
    """A stored image as a PNG data URI no larger than ``box``; None when it cannot be read.

    ``crop`` trims a signature to its ink, so a small box on a grid shows the signature, not the empty pad.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if crop:
                image.load()
                if "A" in image.getbands():
                    bbox = image.getbbox(alpha_only=True)
                else:
                    bbox = ImageOps.invert(image.convert("L")).point(lambda v: 255 if v > 24 else 0).getbbox()
                if bbox:
                    pad = 2
                    image = image.crop(
                        (
                            max(0, bbox[0] - pad),
                            max(0, bbox[1] - pad),
                            min(image.width, bbox[2] + pad),
                            min(image.height, bbox[3] + pad),
                        )
                    )
            elif image.width <= box[0] and image.height <= box[1] and image.format == "PNG":
                return data_uri(data)
            image.thumbnail(box)
            out = io.BytesIO()
            # Fast compression: a grid holds hundreds of these, and the PDF deflates them again anyway.
            image.save(out, format="PNG", compress_level=1)
            return data_uri(out.getvalue())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def qr_data_uri(url: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=1)
    return data_uri(out.getvalue())


def load_blobs(ids: Iterable[int | None]) -> dict[int, bytes]:
    """Blob contents by id, a few hundred per query."""
    wanted = sorted({i for i in ids if i})
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), BLOB_CHUNK):
        chunk = wanted[start : start + BLOB_CHUNK]
        rows = db.session.execute(select(Blob.id, Blob.data).where(Blob.id.in_(chunk)))
        found.update({row.id: row.data for row in rows})
    return found
