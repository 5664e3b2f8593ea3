"""Uploaded files, checked before anything keeps them: the size, the type told by the file's first bytes (never
by its name or the browser's word), and a full decode, so a truncated or disguised file is refused at once.

Each check raises ``UploadProblem`` with a ``reason``; the area that asked words the message for its own page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

PNG, JPEG, PDF, ZIP = "image/png", "image/jpeg", "application/pdf", "application/zip"
MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF), (b"PK\x03\x04", ZIP))
PILLOW_FORMATS = {"PNG": PNG, "JPEG": JPEG}
EXTENSIONS = {PNG: "png", JPEG: "jpg", PDF: "pdf"}

EMPTY, TOO_LARGE, WRONG_TYPE, UNREADABLE, DIMENSIONS, NO_PAGE = (
    "empty",
    "too large",
    "wrong type",
    "unreadable",
    "dimensions",
    "no page",
)


class UploadProblem(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    extension: str
    width: int = 0
    height: int = 0
    pages: int = 0


def sniff(data: bytes) -> str | None:
    """The content type the first bytes announce, among the ones Emarge accepts."""
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def check_file(
    data: bytes,
    *,
    accept: tuple[str, ...],
    max_bytes: int,
    sides: tuple[int, int] | None = None,
) -> CheckedFile:
    """``data`` opened as what its first bytes say, among ``accept``; images within ``sides`` (min, max)."""
    if not data:
        raise UploadProblem(EMPTY)
    if len(data) > max_bytes:
        raise UploadProblem(TOO_LARGE)
    content_type = sniff(data)
    if content_type not in accept:
        raise UploadProblem(WRONG_TYPE)
    if content_type == PDF:
        return CheckedFile(data, PDF, EXTENSIONS[PDF], pages=_pdf_pages(data))
    width, height = _open_image(data, content_type, sides)
    return CheckedFile(data, content_type, EXTENSIONS[content_type], width, height)


def _pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise UploadProblem(UNREADABLE) from error
    if pages < 1:
        raise UploadProblem(NO_PAGE)
    return pages


def _open_image(data: bytes, content_type: str, sides: tuple[int, int] | None) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if PILLOW_FORMATS.get(image.format) != content_type:
                raise UploadProblem(WRONG_TYPE)
            width, height = image.size
            if sides and not (sides[0] <= width <= sides[1] and sides[0] <= height <= sides[1]):
                raise UploadProblem(DIMENSIONS)
            image.verify()
        # verify() checks the structure; decoding the pixels catches a truncated or corrupt file.
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except UploadProblem:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UploadProblem(UNREADABLE) from error
    return width, height
