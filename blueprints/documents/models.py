"""Issued documents (sheets, certificates, archives), scanned paper sheets, and the public index of codes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, PlatformBase, TenantBase, UTCDateTime, utcnow

# Document kinds.
SESSION_SHEET = "session_sheet"  # participants × slots of a session
PARTICIPANT_SHEET = "participant_sheet"  # one participant across a session
SLOT_SHEET = "slot_sheet"  # one half-day
BLANK_SLOT_SHEET = "blank_slot_sheet"  # paper fallback: roster with empty boxes
CERTIFICATE = "certificate"  # certificat de réalisation
SESSION_ARCHIVE = "session_archive"  # ZIP of a session's documents
FOLLOWUP_RECORD = "followup_record"  # the absence follow-up of a session (Qualiopi evidence), admins only
KINDS = (
    SESSION_SHEET,
    PARTICIPANT_SHEET,
    SLOT_SHEET,
    BLANK_SLOT_SHEET,
    CERTIFICATE,
    SESSION_ARCHIVE,
    FOLLOWUP_RECORD,
)
# Documents only admins see: they name the reasons of absences.
ADMIN_KINDS = (FOLLOWUP_RECORD,)


def subject_key(session_id: int, *, participant_id: int | None = None, slot_id: int | None = None) -> str:
    """What a document is about, as one string: versions count per kind and subject."""
    if participant_id is not None:
        return f"s{session_id}-p{participant_id}"
    if slot_id is not None:
        return f"s{session_id}-k{slot_id}"
    return f"s{session_id}"


class Document(TenantBase):
    """One issued version of a document: its bytes in storage, their SHA-256, and who asked for it.

    Regenerating writes a new version; earlier ones stay, so a paper already handed to a funder can still be
    checked against what was issued.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("kind", "subject_key", "version"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject_key: Mapped[str] = mapped_column(String(80), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    # A participant's documents are their personal data: erased with them.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int | None] = mapped_column(BigID)
    version: Mapped[int] = mapped_column(default=1)
    blob_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Printed on the document with its QR; resolved through the platform's DocumentCode.
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)
    # What the document says is missing or could not be drawn (JSON list of strings).
    notes: Mapped[str | None] = mapped_column(Text)
    requested_by_user_id: Mapped[int | None] = mapped_column(BigID)
    requested_by_name: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The hours a certificate states, stored when it is issued (the anomaly checks compare them with the hours
    # attended since).
    hours: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))


class PaperSheet(TenantBase):
    """A signed paper sheet, scanned and uploaded for a slot when the network failed."""

    __tablename__ = "paper_sheets"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # RESTRICT: a slot signed on paper is evidence, like one signed on screen.
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    blob_key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_by_user_id: Mapped[int | None] = mapped_column(BigID)
    confirmed_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DocumentCode(PlatformBase):
    """The public index of verification codes: which organization issued which document.

    The verification page needs no organization in its address, so a code typed from paper finds its document.
    """

    __tablename__ = "document_codes"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Copied when the organization is dropped (it left Emarge): the code still answers with its type, dates and
    # fingerprint, and nothing else.
    kind: Mapped[str | None] = mapped_column(String(30))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int | None] = mapped_column(Integer)
