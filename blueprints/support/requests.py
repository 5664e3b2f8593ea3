"""Support requests: a user writes to Emarge support from any page (a subject, a text, maybe a screenshot);
staff answer from the console's inbox; the reply is emailed and shown under the user's account.

The platform keeps the requests (Emarge is their recipient). When a staff member takes a request, the
organization's support access (unless off) gives that handler read access for 7 days: a grant in the tenant,
for them only, that the organization's admins see and revoke like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from blueprints.shared.uploads import JPEG, PNG, TOO_LARGE, WRONG_TYPE, UploadProblem, check_file
from blueprints.support.models import (
    CLOSED,
    NEW,
    REQUEST_GRANT_DAYS,
    REQUEST_STATES,
    WAITING,
    SupportRequest,
    SupportRequestMessage,
)
from tenants.db import db, utcnow

MAX_SCREENSHOT = 5 * 1024 * 1024
PAGE_SIZE = 50


class RequestProblem(ValueError):
    """Bad input, with the sentence to show next to the field (``field``)."""

    def __init__(self, message: str, field: str = "body"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Screenshot:
    data: bytes
    content_type: str


def check_screenshot(data: bytes | None) -> Screenshot | None:
    """The screenshot, checked (PNG or JPEG by its bytes, fully decoded, 5 MB at most), or None if none sent."""
    if not data:
        return None
    try:
        checked = check_file(data, accept=(PNG, JPEG), max_bytes=MAX_SCREENSHOT)
    except UploadProblem as problem:
        message = {
            TOO_LARGE: _("The screenshot is larger than 5 MB: send a smaller one."),
            WRONG_TYPE: _("The screenshot must be a PNG or JPEG image."),
        }.get(problem.reason, _("The screenshot could not be read: send it again, as PNG or JPEG."))
        raise RequestProblem(message, "screenshot") from problem
    return Screenshot(checked.data, checked.content_type)


def _text(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise RequestProblem(_("Write what you need: support reads it first."))
    if len(body) > 5000:
        raise RequestProblem(_("5,000 characters at most."))
    return body


def open_request(
    tenant_id: int, user, subject: str, body: str, screenshot: Screenshot | None, now: datetime | None = None
) -> SupportRequest:
    """A new request from ``user`` of the tenant ``tenant_id`` (the caller commits)."""
    subject = " ".join((subject or "").split())
    if len(subject) < 3:
        raise RequestProblem(_("Give the request a subject."), "subject")
    now = now or utcnow()
    row = SupportRequest(
        tenant_id=tenant_id,
        user_id=user.id,
        user_name=user.full_name,
        user_email=user.email,
        subject=subject[:200],
        state=NEW,
        created_at=now,
        updated_at=now,
    )
    db.session.add(row)
    db.session.flush()
    _message(row, None, _text(body), screenshot, now)
    return row


def _message(row: SupportRequest, staff_id, body: str, screenshot: Screenshot | None, now: datetime):
    message = SupportRequestMessage(
        request_id=row.id,
        staff_id=staff_id,
        body=body,
        screenshot=screenshot.data if screenshot else None,
        screenshot_type=screenshot.content_type if screenshot else None,
        created_at=now,
    )
    db.session.add(message)
    row.updated_at = now
    db.session.flush()
    return message


def add_from_user(row: SupportRequest, body: str, screenshot: Screenshot | None) -> SupportRequestMessage:
    """The user writes again: the request waits for support (a closed one opens again)."""
    now = utcnow()
    message = _message(row, None, _text(body), screenshot, now)
    row.state, row.closed_at = NEW, None
    return message


def reply(row: SupportRequest, staff, body: str) -> SupportRequestMessage:
    """Support answers: the request waits for the user; the caller has the reply emailed."""
    if row.state == CLOSED:
        raise RequestProblem(_("This request is closed: it opens again when the user writes."))
    message = _message(row, staff.id, _text(body), None, utcnow())
    row.state = WAITING
    if row.assigned_staff_id is None:
        row.assigned_staff_id = staff.id
    return message


def close(row: SupportRequest) -> None:
    row.state, row.closed_at = CLOSED, utcnow()


def of_user(tenant_id: int, user_id: int) -> list[SupportRequest]:
    return db.session.scalars(
        select(SupportRequest)
        .where(SupportRequest.tenant_id == tenant_id, SupportRequest.user_id == user_id)
        .order_by(SupportRequest.updated_at.desc(), SupportRequest.id.desc())
    ).all()


def thread(row: SupportRequest) -> list[SupportRequestMessage]:
    return db.session.scalars(
        select(SupportRequestMessage)
        .where(SupportRequestMessage.request_id == row.id)
        .order_by(SupportRequestMessage.id)
    ).all()


def inbox(state: str | None, assigned: int | None, page: int = 1) -> tuple[list[SupportRequest], int]:
    """One page of requests, newest activity first, and the total: by state and handler when asked."""
    query = select(SupportRequest)
    if state in REQUEST_STATES:
        query = query.where(SupportRequest.state == state)
    if assigned is not None:
        query = query.where(SupportRequest.assigned_staff_id == assigned)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(SupportRequest.updated_at.desc(), SupportRequest.id.desc())
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return rows, total


def counts() -> dict[str, int]:
    found = dict(
        db.session.execute(select(SupportRequest.state, func.count()).group_by(SupportRequest.state)).all()
    )
    return {state: found.get(state, 0) for state in REQUEST_STATES}


GRANT_HOURS = REQUEST_GRANT_DAYS * 24
