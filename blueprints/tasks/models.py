from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import BigID, TenantBase, UTCDateTime, utcnow

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


class Task(TenantBase):
    """The progress row of a background job, which any page can show as a bar."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(BigID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The job that fills the task ({func, args, queue}), kept so that a sweep or a retry can hand it over again.
    job: Mapped[dict | None] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(80))
    # When the job service took the job; None while it could not be reached ("waiting for the job service").
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
