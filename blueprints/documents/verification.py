"""The public check of a document by its code: the platform's index names the organization, whose schema holds the
document; an organization that has left Emarge answers from the index alone (type, dates, fingerprint)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from blueprints.documents.models import Document, DocumentCode
from blueprints.documents.services import next_version
from blueprints.trainings.models import TrainingSession
from tenants.db import db
from tenants.models import DELETED


@dataclass(frozen=True)
class Issued:
    """What the public page shows of a document: nothing personal beyond what its holder already has."""

    code: str
    organization: str
    kind: str
    training: str
    start_date: date
    end_date: date
    issued_at: datetime
    version: int
    sha256: str
    size: int
    content_type: str
    newer_version: bool


def find_issued(code: str) -> Issued | None:
    """The document behind ``code``, looked up across organizations (platform index, then its tenant)."""
    from tenants import find_tenant, tenant_scope

    entry = db.session.get(DocumentCode, code)
    if entry is None:
        return None
    tenant_id, document_id = entry.tenant_id, entry.document_id
    ref = find_tenant(tenant_id=tenant_id)
    if ref is not None and ref.status == DELETED and entry.sha256:
        # The organization left Emarge: its documents still answer, with their type, dates and fingerprint.
        return Issued(
            code=code,
            organization=str(_l("an organization that has left Emarge")),
            kind=entry.kind,
            training=None,
            start_date=entry.start_date,
            end_date=entry.end_date,
            issued_at=entry.issued_at,
            version=entry.version,
            sha256=entry.sha256,
            size=entry.size,
            content_type=entry.content_type,
            newer_version=False,
        )
    if ref is None or not ref.active:
        return None
    with tenant_scope(ref):
        from blueprints.accounts.models import organization as the_organization

        document = db.session.get(Document, document_id)
        if document is None:
            return None
        session = db.session.get(TrainingSession, document.session_id)
        organization = the_organization()
        newer = next_version(document.kind, document.subject_key) - 1 > document.version
        return Issued(
            code=code,
            organization=organization.name if organization else ref.name,
            kind=document.kind,
            training=session.training.title,
            start_date=session.start_date,
            end_date=session.end_date,
            issued_at=document.created_at,
            version=document.version,
            sha256=document.sha256,
            size=document.size,
            content_type=document.content_type,
            newer_version=newer,
        )
