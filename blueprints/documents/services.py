"""Issuing documents: versions, verification codes, the seal (SHA-256 of the stored bytes), the public check,
scanned paper sheets, attendance exports and certificates by email.

Plain functions that take the actor; they flush, the caller commits. The PDFs themselves come from
``blueprints.documents.render``; a job calls these, never a request (rendering takes seconds).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets
import zipfile
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from blueprints.audit.services import Actor, record
from blueprints.documents.models import (
    ADMIN_KINDS,
    BLANK_SLOT_SHEET,
    CERTIFICATE,
    FOLLOWUP_RECORD,
    KINDS,
    PARTICIPANT_SHEET,
    SESSION_ARCHIVE,
    SESSION_SHEET,
    SLOT_SHEET,
    Document,
    DocumentCode,
    subject_key,
)
from blueprints.participants.models import Participant
from blueprints.shared.filenames import file_name
from blueprints.signing.roster import roster_of_session
from blueprints.signing.services import is_enrolled
from blueprints.trainings.models import Slot, TrainingSession
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.storage import storage

logger = logging.getLogger(__name__)

PDF = "application/pdf"
ZIP = "application/zip"
# No 0/O, no 1/I/L, no U/V mix-ups: a code typed from paper finds its document.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
CODE_ATTEMPTS = 10
# Scans of signed paper sheets, and PDFs checked on the public page.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
# The documents a participant holds (their sheet, their certificate); a trainee may download these.
TRAINEE_KINDS = (CERTIFICATE, PARTICIPANT_SHEET)


class DocumentError(Exception):
    """A refusal the person can act on: ``str()`` is the message, ``status`` the HTTP status to answer."""

    def __init__(self, message, status: int = 422):
        super().__init__(str(message))
        self.message, self.status = message, status

    def __str__(self) -> str:
        try:
            return str(self.message)
        except RuntimeError:
            # Outside a request (a worker formatting the traceback): the English source of a lazy string.
            args = getattr(self.message, "_args", None)
            return str(args[0]) if args else type(self).__name__


def kind_label(kind: str) -> str:
    labels = {
        SESSION_SHEET: _l("Attendance sheet of the session"),
        PARTICIPANT_SHEET: _l("Individual attendance sheet"),
        SLOT_SHEET: _l("Attendance sheet of a half-day"),
        BLANK_SLOT_SHEET: _l("Blank sheet to sign on paper"),
        CERTIFICATE: _l("Certificate of completion"),
        SESSION_ARCHIVE: _l("All documents of the session (ZIP)"),
        FOLLOWUP_RECORD: _l("Absence follow-up record"),
    }
    return str(labels.get(kind, kind))


# --- verification codes --------------------------------------------------------------------------------------


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str | None) -> str | None:
    """``7kq2 m9xd``, ``7KQ2-M9XD`` → ``7KQ2-M9XD``; None for anything that cannot be a code."""
    raw = re.sub(r"[\s\-.]", "", text or "").upper()[:40]
    if len(raw) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def _free_code() -> str:
    """A code no organization uses yet (the platform index is shared by every tenant)."""
    for _attempt in range(CODE_ATTEMPTS):
        code = new_code()
        if db.session.get(DocumentCode, code) is None:
            return code
    raise RuntimeError("no free verification code found")  # 30^8 codes: only a broken random source


def verify_url(code: str) -> str:
    from blueprints.web.urls import external_url

    return external_url("verify.document", code=code)


# --- issuing -------------------------------------------------------------------------------------------------


def render_document(kind: str, **kwargs):
    """The PDF of ``kind`` (imported late: xhtml2pdf is heavy, and only jobs render)."""
    from blueprints.documents import render

    return render.render_document(kind, **kwargs)


def filename_for(kind: str, **kwargs) -> str:
    from blueprints.documents import render

    return render.filename_for(kind, **kwargs)


def next_version(kind: str, key: str) -> int:
    current = db.session.scalar(
        select(func.max(Document.version)).where(Document.kind == kind, Document.subject_key == key)
    )
    return (current or 0) + 1


def _issuer_name(actor: Actor) -> str | None:
    from blueprints.accounts.models import User

    if actor.user_id is not None:
        user = db.session.get(User, actor.user_id)
        if user is not None:
            return user.full_name
    return None


def _seal(
    kind: str,
    session: TrainingSession,
    *,
    tenant: TenantRef,
    participant: Participant | None,
    slot: Slot | None,
    version: int,
    code: str,
    data: bytes,
    content_type: str,
    filename: str,
    notes: list[str],
    actor: Actor,
    task_id: int | None,
    hours: Decimal | None = None,
) -> Document:
    """Store ``data`` with its SHA-256 and index its code on the platform, in the caller's transaction."""
    blob = storage().put(data, content_type=content_type, filename=filename)
    document = Document(
        kind=kind,
        subject_key=subject_key(
            session.id,
            participant_id=participant.id if participant else None,
            slot_id=slot.id if slot else None,
        ),
        session_id=session.id,
        participant_id=participant.id if participant else None,
        slot_id=slot.id if slot else None,
        version=version,
        blob_key=blob.key,
        filename=filename[:200],
        content_type=content_type,
        size=blob.size,
        sha256=blob.sha256,
        verification_code=code,
        notes=json.dumps([str(n) for n in notes]) if notes else None,
        requested_by_user_id=actor.user_id,
        requested_by_name=actor.label[:200],
        task_id=task_id,
        hours=hours,
    )
    db.session.add(document)
    db.session.flush()
    db.session.add(DocumentCode(code=code, tenant_id=tenant.id, document_id=document.id))
    db.session.flush()
    record(
        actor,
        "document.issued",
        document,
        kind=kind,
        version=version,
        code=code,
        sha256=blob.sha256,
        session_id=session.id,
        participant_id=document.participant_id,
        slot_id=document.slot_id,
    )
    return document


def check_subject(kind: str, session: TrainingSession, participant, slot) -> None:
    if kind not in KINDS or kind == SESSION_ARCHIVE:
        raise DocumentError(_l("Unknown kind of document."), 400)
    if kind in (PARTICIPANT_SHEET, CERTIFICATE):
        if participant is None or not is_enrolled(session, participant):
            raise DocumentError(_l("This participant is not enrolled in the session."), 404)
    elif participant is not None:
        raise DocumentError(_l("This document is not about one participant."), 400)
    if kind in (SLOT_SHEET, BLANK_SLOT_SHEET):
        if slot is None or slot.session_id != session.id:
            raise DocumentError(_l("This half-day is not part of the session."), 404)
    elif slot is not None:
        raise DocumentError(_l("This document is not about one half-day."), 400)


def issue_document(
    kind: str,
    session: TrainingSession,
    participant: Participant | None = None,
    slot: Slot | None = None,
    *,
    tenant: TenantRef,
    actor: Actor,
    task_id: int | None = None,
    language: str | None = None,
    progress=None,
) -> Document:
    """Render ``kind`` about its subject as the next version, seal and store it; return the new Document.

    Earlier versions stay as they were: a paper already handed to a funder can still be checked.
    """
    check_subject(kind, session, participant, slot)
    key = subject_key(
        session.id, participant_id=participant.id if participant else None, slot_id=slot.id if slot else None
    )
    version = next_version(kind, key)
    code = _free_code()
    from blueprints.documents.render import Stamp

    issued_at = utcnow()
    stamp = Stamp(
        code=code,
        verify_url=verify_url(code),
        version=version,
        issued_at=issued_at,
        issued_by=_issuer_name(actor),
    )
    subject = dict(session=session, participant=participant, slot=slot)
    rendered = render_document(
        kind, **subject, stamp=stamp, language=language or tenant.language, progress=progress
    )
    filename = filename_for(kind, **subject, version=version, language=tenant.language)
    return _seal(
        kind,
        session,
        tenant=tenant,
        participant=participant,
        slot=slot,
        version=version,
        code=code,
        data=rendered.pdf,
        content_type=PDF,
        filename=filename,
        notes=list(rendered.notes or ()),
        actor=actor,
        task_id=task_id,
        hours=_stated_hours(kind, session, participant),
    )


def _stated_hours(kind: str, session: TrainingSession, participant: Participant | None) -> Decimal | None:
    """The hours a certificate states (those attended), kept on the document for the anomaly checks."""
    if kind != CERTIFICATE or participant is None:
        return None
    from blueprints.signing.models import Attendance

    minutes = db.session.scalar(
        select(func.coalesce(func.sum(Attendance.attended_minutes), 0))
        .join(Slot, Slot.id == Attendance.slot_id)
        .where(Slot.session_id == session.id, Attendance.participant_id == participant.id)
    )
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def session_batch(session: TrainingSession) -> list[dict]:
    """What "generate all" issues: the session's sheet, then each participant's sheet and certificate.

    A participant whose processing is restricted gets nothing new: their data may be kept, not processed.
    """
    items = [{"kind": SESSION_SHEET}]
    for participant in roster_of_session(session):
        if participant.processing_restricted:
            continue
        items.append({"kind": PARTICIPANT_SHEET, "participant_id": participant.id})
        items.append({"kind": CERTIFICATE, "participant_id": participant.id})
    return items


def already_issued(task_id: int, item: dict, session_id: int) -> Document | None:
    """The document this task already issued for ``item`` (a retried job does not issue it twice)."""
    key = subject_key(session_id, participant_id=item.get("participant_id"), slot_id=item.get("slot_id"))
    return db.session.scalars(
        select(Document).where(
            Document.task_id == task_id, Document.kind == item["kind"], Document.subject_key == key
        )
    ).first()


def issue_item(
    session: TrainingSession,
    item: dict,
    *,
    tenant: TenantRef,
    actor: Actor,
    task_id: int | None,
    progress=None,
):
    """``issue_document`` from a job's plain description of the subject."""
    participant = slot = None
    if item.get("participant_id") is not None:
        participant = db.session.get(Participant, item["participant_id"])
        if participant is None:
            raise DocumentError(_l("This participant no longer exists."), 404)
    if item.get("slot_id") is not None:
        slot = db.session.get(Slot, item["slot_id"])
        if slot is None:
            raise DocumentError(_l("This half-day no longer exists."), 404)
    return issue_document(
        item["kind"],
        session,
        participant,
        slot,
        tenant=tenant,
        actor=actor,
        task_id=task_id,
        progress=progress,
    )


def latest_documents(session_id: int, *, kinds=None) -> list[Document]:
    """The newest version of each document of a session, by kind then subject."""
    newest = (
        select(Document.kind, Document.subject_key, func.max(Document.version).label("version"))
        .where(Document.session_id == session_id)
        .group_by(Document.kind, Document.subject_key)
        .subquery()
    )
    query = select(Document).join(
        newest,
        (Document.kind == newest.c.kind)
        & (Document.subject_key == newest.c.subject_key)
        & (Document.version == newest.c.version),
    )
    if kinds is not None:
        query = query.where(Document.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(Document.kind, Document.subject_key)))


def issue_archive(
    session: TrainingSession, *, tenant: TenantRef, actor: Actor, task_id: int | None, progress=None
) -> Document:
    """A ZIP of the newest version of every document of the session, with a manifest of codes and hashes.

    Stored and sealed like any document, with its own code; it is a new version each time.
    """
    members = [d for d in latest_documents(session.id) if d.kind not in (SESSION_ARCHIVE, *ADMIN_KINDS)]
    key = subject_key(session.id)
    version = next_version(SESSION_ARCHIVE, key)
    code = _free_code()
    out = io.BytesIO()
    manifest = [
        f"{session.training.title} — {session.start_date.isoformat()} / {session.end_date.isoformat()}",
        f"archive {code} v{version}, {utcnow().isoformat(timespec='seconds')}",
        f"verify: {verify_url(code)}",
        "",
        "file\tkind\tversion\tcode\tsha256",
    ]
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, document in enumerate(members, 1):
            found = storage().get(document.blob_key)
            if found is None:
                raise DocumentError(_l("A stored document is missing: %(name)s", name=document.filename), 500)
            name = document.filename
            if name in used:
                name = f"{document.id}-{name}"
            used.add(name)
            archive.writestr(name, found[1])
            manifest.append(
                f"{name}\t{document.kind}\t{document.version}\t{document.verification_code}\t{document.sha256}"
            )
            if progress:
                progress(index, len(members))
        archive.writestr("MANIFEST.txt", "\n".join(manifest) + "\n")
    filename = file_name(
        SESSION_ARCHIVE,
        session.training.title or "session",
        session.start_date.isoformat(),
        extension="zip",
        language=tenant.language,
        version=version,
    )
    return _seal(
        SESSION_ARCHIVE,
        session,
        tenant=tenant,
        participant=None,
        slot=None,
        version=version,
        code=code,
        data=out.getvalue(),
        content_type=ZIP,
        filename=filename,
        notes=[],
        actor=actor,
        task_id=task_id,
    )


def document_notes(document: Document) -> list[str]:
    try:
        return list(json.loads(document.notes)) if document.notes else []
    except ValueError:
        return []


# --- the public check ----------------------------------------------------------------------------------------


def hash_upload(stream, limit: int = MAX_UPLOAD_BYTES) -> tuple[str, int, bytes]:
    """SHA-256 and size of an uploaded stream, read in chunks; the first bytes for a type check.

    Raises DocumentError (413) past ``limit``: a 100 MB file is never held in memory.
    """
    digest, size, head = hashlib.sha256(), 0, b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        if not head:
            head = chunk[:16]
        size += len(chunk)
        if size > limit:
            raise DocumentError(too_large_message(limit), 413)
        digest.update(chunk)
    return digest.hexdigest(), size, head


def too_large_message(limit: int = MAX_UPLOAD_BYTES):
    return _l("The file is too large: %(size)d MB at most.", size=limit // (1024 * 1024))
