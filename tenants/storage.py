"""Where blobs (signatures, PDFs, exports) live.

One interface; the default keeps each blob in the tenant's own database, so every web or worker machine can
serve it and a tenant's data moves, is exported or is erased with its schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import LargeBinary, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

MAX_BLOB_BYTES = 50 * 1024 * 1024


class Blob(TenantBase):
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class StoredBlob:
    key: str
    sha256: str
    size: int
    content_type: str
    filename: str


class Storage(Protocol):
    def put(self, data: bytes, *, content_type: str, filename: str) -> StoredBlob: ...

    def get(self, key: str) -> tuple[StoredBlob, bytes] | None: ...

    def delete(self, key: str) -> None: ...


class DatabaseStorage:
    """Blobs as rows of the tenant schema, written in the caller's transaction."""

    def __init__(self, session: Session):
        self.session = session

    def put(self, data: bytes, *, content_type: str, filename: str) -> StoredBlob:
        if len(data) > MAX_BLOB_BYTES:
            raise ValueError("blob too large")
        blob = Blob(
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=content_type,
            filename=filename,
            size=len(data),
            data=data,
        )
        self.session.add(blob)
        self.session.flush()
        return self._describe(blob)

    def get(self, key: str) -> tuple[StoredBlob, bytes] | None:
        if not key.isdigit():
            return None
        blob = self.session.get(Blob, int(key))
        return (self._describe(blob), blob.data) if blob else None

    def delete(self, key: str) -> None:
        if key.isdigit():
            self.session.execute(delete(Blob).where(Blob.id == int(key)))

    @staticmethod
    def _describe(blob: Blob) -> StoredBlob:
        return StoredBlob(str(blob.id), blob.sha256, blob.size, blob.content_type, blob.filename)


def storage(session: Session | None = None) -> Storage:
    from tenants.db import db

    return DatabaseStorage(session or db.session)
