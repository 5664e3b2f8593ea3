"""Paper sheets: when the network failed, the sheet signed in the room is scanned and attached to its half-day,
which is then evidence like a signed one. The scan is checked (type by its first bytes, a full decode) before
it is kept."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.audit.services import Actor, record
from blueprints.documents.models import (
    PaperSheet,
)
from blueprints.documents.services import MAX_UPLOAD_BYTES, DocumentError, too_large_message
from blueprints.shared import uploads
from blueprints.trainings.models import Slot
from tenants.db import db
from tenants.storage import storage

# --- paper sheets --------------------------------------------------------------------------------------------

SCAN_TYPES = (uploads.PDF, uploads.PNG, uploads.JPEG)


def scan_type(data: bytes) -> str:
    """The content type of a scan, after opening it: a PDF (pypdf) or a PNG/JPEG image (Pillow).

    Raises DocumentError with what to send instead.
    """
    try:
        return uploads.check_file(data, accept=SCAN_TYPES, max_bytes=MAX_UPLOAD_BYTES).content_type
    except uploads.UploadProblem as problem:
        status = 413 if problem.reason == uploads.TOO_LARGE else 422
        raise DocumentError(_SCAN_PROBLEMS[problem.reason](data), status) from None


_SCAN_PROBLEMS = {
    uploads.EMPTY: lambda data: _l("Choose the file of the scanned sheet."),
    uploads.TOO_LARGE: lambda data: too_large_message(),
    uploads.WRONG_TYPE: lambda data: _l(
        "This file is not a PDF, PNG or JPEG scan. Scan the signed sheet as PDF or image and send that."
    ),
    uploads.UNREADABLE: lambda data: (
        _l("This PDF cannot be read. Scan the sheet again.")
        if uploads.sniff(data) == uploads.PDF
        else _l("This image cannot be read. Scan the sheet again.")
    ),
    uploads.NO_PAGE: lambda data: _l("This PDF has no page."),
}


def upload_paper_sheet(
    slot: Slot,
    data: bytes,
    filename: str,
    *,
    confirmed: bool,
    user,
    actor: Actor,
    note: str | None = None,
) -> PaperSheet:
    """Attach the signed, scanned paper sheet to ``slot``; the slot is then evidence, like a signed one."""
    if not confirmed:
        raise DocumentError(_l("Tick the box to confirm that this is the sheet signed in the room."))
    if not data:
        raise DocumentError(_l("Choose the file of the scanned sheet."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise DocumentError(too_large_message(), 413)
    content_type = scan_type(data)
    extension = uploads.EXTENSIONS[content_type]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", (filename or "scan").rsplit(".", 1)[0]).strip("-")[:80] or "scan"
    blob = storage().put(data, content_type=content_type, filename=f"{stem}.{extension}")
    name = user.full_name if user is not None else actor.label
    sheet = PaperSheet(
        slot_id=slot.id,
        blob_key=blob.key,
        filename=f"{stem}.{extension}",
        content_type=content_type,
        size=blob.size,
        sha256=blob.sha256,
        note=(note or "").strip()[:2000] or None,
        confirmed_by_user_id=user.id if user is not None else actor.user_id,
        confirmed_by_name=name[:200],
    )
    db.session.add(sheet)
    db.session.flush()
    record(
        actor,
        "paper_sheet.uploaded",
        sheet,
        slot_id=slot.id,
        session_id=slot.session_id,
        sha256=blob.sha256,
        size=blob.size,
        content_type=content_type,
    )
    return sheet


def paper_sheets(slot_id: int) -> list[PaperSheet]:
    return list(
        db.session.scalars(select(PaperSheet).where(PaperSheet.slot_id == slot_id).order_by(PaperSheet.id))
    )


def paper_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots were signed on paper (a scan is attached): they are evidence."""
    if not slot_ids:
        return set()
    return set(
        db.session.scalars(select(PaperSheet.slot_id).where(PaperSheet.slot_id.in_(slot_ids)).distinct())
    )
