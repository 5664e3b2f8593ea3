"""Support sessions: a staff member sees an organization as one of its users, with the organization's consent.

A support session is its own record (``support_sessions``), bound to its own cookie ``<id>:<key>`` the way a
login is (the record keeps the key's SHA-256): it is never a copy of the user's session. It lasts 30 minutes at
most, ends after 10 idle, and every request checks it again (``check``), then checks that the organization still
allows it (``still_allowed``): a grant revoked or run out, support access turned off, the user or the staff member
deactivated, and the session ends at that request.

Read-only unless started in write mode (a grant with write scope and a second reason); even then the
never-actions (``NEVER``) are refused. The pages that enforce it are in ``blueprints/support/access.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from blueprints.accounts.models import Organization, User
from blueprints.staff.models import SUPPORT, Staff
from blueprints.support.models import (
    ACCESS_OFF,
    EXPIRED,
    GONE,
    IDLE,
    READ,
    REVOKED,
    WRITE,
    SupportGrant,
    SupportSession,
    SupportSessionEvent,
)
from blueprints.support.services import allowed
from tenants.db import bind_schema, db, utcnow

LONGEST = timedelta(minutes=30)
IDLE_AFTER = timedelta(minutes=10)
TOUCH_EVERY = timedelta(seconds=30)

# Never done in a support session, even in write mode, by endpoint (tests/support checks each exists). "link" and
# "export" are refused whatever the method (opening a personal link, a download); the others are changes.
SIGN, DOCUMENT, ACCOUNT, EXPORT, LINK = "sign", "document", "account", "export", "link"
NOTICE = "notice"
ERASE = "erase"
HEALTH = "health"
NEVER = {
    # Signing or marking attendance as anyone, signing a half-day off or closing it.
    "signing.kiosk": SIGN,
    "signing.kiosk_sign": SIGN,
    "signing.mark": SIGN,
    "signing.signoff": SIGN,
    "signing.close": SIGN,
    # Issuing or regenerating sealed documents.
    "documents.generate": DOCUMENT,
    # Passwords, emails, roles, authenticators, logins: the user's own.
    "accounts.account": ACCOUNT,
    "accounts.edit_user": ACCOUNT,
    "accounts.invite": ACCOUNT,
    "accounts.end_login": ACCOUNT,
    "accounts.end_other_logins": ACCOUNT,
    "accounts.logout": ACCOUNT,
    "accounts.login": ACCOUNT,
    "accounts.forgot_password": ACCOUNT,
    "accounts.reset_password": ACCOUNT,
    "accounts.accept_invitation": ACCOUNT,
    "accounts.verify": ACCOUNT,
    # Acknowledging Emarge's own security notice for the organization: its admins' word, never support's.
    "security_notices.acknowledge": NOTICE,
    # Erasing a person's data: the organization's decision on the person's request, never support's.
    "rights.erase_participant": ERASE,
    # The proof of an absence may be health data (a medical certificate): the organization's admins alone.
    "tracking.proof": HEALTH,
    # Deciding on a trainee's justification of absence: the organization's decision.
    "tracking.decide": HEALTH,
    # Spreadsheets, archives and a person's data leaving the organization.
    "audit.export": EXPORT,
    "participants.export": EXPORT,
    "rights.export_participant": EXPORT,
    "rights.export_mine": EXPORT,
    "settings.make_archive": EXPORT,
    "participants.export_roster": EXPORT,
    "documents.export": EXPORT,
    "documents.archive": EXPORT,
    "tasks.download": EXPORT,
    # The personal links of trainees and facilitators (and the QR code that carries one).
    "signing.sign_page": LINK,
    "signing.sign": LINK,
    "signing.renew": LINK,
    "signing.facilitator_entry": LINK,
    "signing.link_qr": LINK,
    "documents.trainee_download": LINK,
    "tracking_trainee.page": LINK,
    "tracking_trainee.justify": LINK,
}
ANY_METHOD = frozenset({EXPORT, LINK, HEALTH})
# Downloads refused whatever the endpoint: a spreadsheet or an archive is data leaving the organization.
EXPORT_TYPES = frozenset(
    {
        "text/csv",
        "application/zip",
        "application/x-zip-compressed",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
    }
)


class SupportRefused(ValueError):
    """A start refused, with the sentence to show."""


@dataclass(frozen=True)
class Started:
    record: SupportSession
    key: str


@dataclass(frozen=True)
class Live:
    """A support session checked on this request: plain values, read before the request's transaction."""

    id: int
    staff_id: int
    tenant_id: int
    user_id: int
    grant_id: int | None
    mode: str
    started_at: datetime
    expires_at: datetime

    @property
    def write(self) -> bool:
        return self.mode == WRITE

    def minutes_left(self, now: datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds() + 59) // 60)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _reason(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) < 3:
        raise SupportRefused(_("Say why: the organization reads it in its support access log."))
    return text[:300]


def start(
    staff: Staff,
    tenant_id: int,
    user: User | None,
    *,
    reason: str,
    mode: str = READ,
    write_reason: str | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> Started:
    """Open a support session as ``user`` in the tenant in scope (the caller commits). Refused, with the
    sentence to show, when the organization does not allow it or the request is not one support may make."""
    now = now or utcnow()
    if staff is None or not staff.active or staff.role != SUPPORT:
        raise SupportRefused(_("Only support staff open support sessions."))
    if user is None:
        raise SupportRefused(_("This user does not exist in this organization."))
    if not user.active:
        raise SupportRefused(_("This user is deactivated: a support session cannot act as them."))
    if db.session.scalar(select(Staff.id).where(Staff.email == user.email.lower())) is not None:
        raise SupportRefused(
            _("This account belongs to an Emarge staff member: support never acts as staff.")
        )
    reason = _reason(reason)
    if mode not in (READ, WRITE):
        raise SupportRefused(_("Choose one of the options."))
    org = db.session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()
    access = allowed(org, now, write=mode == WRITE, staff_id=staff.id)
    if access is False:
        if mode == WRITE and allowed(org, now, staff_id=staff.id) is not False:
            raise SupportRefused(_("Write mode needs an access with changes allowed, given by an admin."))
        raise SupportRefused(_("This organization does not allow support access now."))
    second = _reason(write_reason) if mode == WRITE else None
    key = secrets.token_urlsafe(32)
    record = SupportSession(
        staff_id=staff.id,
        tenant_id=tenant_id,
        user_id=user.id,
        grant_id=access.id if isinstance(access, SupportGrant) else None,
        mode=mode,
        reason=reason,
        write_reason=second,
        key_hash=_hash(key),
        ip=ip,
        started_at=now,
        last_seen_at=now,
        expires_at=now + LONGEST,
    )
    db.session.add(record)
    db.session.flush()
    return Started(record, key)


def check(session_id: int, key: str, now: datetime | None = None) -> tuple[Live | None, str | None]:
    """The live support session ``session_id`` whose key is ``key`` (its last-seen time kept fresh), or
    (None, why it ended). On a connection of its own, before the request's transaction begins."""
    now = now or utcnow()
    table = SupportSession.__table__
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        row = connection.execute(select(table).where(table.c.id == session_id)).mappings().first()
        if row is None or not hmac.compare_digest(_hash(key), row["key_hash"]):
            return None, None
        if row["ended_at"] is not None:
            return None, row["end_reason"]
        ended = (
            EXPIRED if row["expires_at"] <= now else IDLE if row["last_seen_at"] <= now - IDLE_AFTER else None
        )
        if ended:
            connection.execute(
                update(table).where(table.c.id == session_id).values(ended_at=now, end_reason=ended)
            )
            return None, ended
        if row["last_seen_at"] < now - TOUCH_EVERY:
            connection.execute(update(table).where(table.c.id == session_id).values(last_seen_at=now))
    fields = Live.__dataclass_fields__
    return Live(**{name: row[name] for name in fields}), None


def still_allowed(live: Live, org: Organization, user: User | None, now: datetime) -> str | None:
    """Why the organization no longer allows ``live`` (an end reason), or None: read in the tenant."""
    if user is None or not user.active:
        return GONE
    if allowed(org, now, staff_id=live.staff_id) is False:
        return ACCESS_OFF if org.support_access == "off" else REVOKED
    if live.grant_id is not None:
        grant = db.session.get(SupportGrant, live.grant_id)
        if grant is None or not grant.live(now):
            # Another live grant does not carry the session on: the one it started under was taken back.
            return REVOKED
    elif allowed(org, now, write=live.write, staff_id=live.staff_id) is False:
        return REVOKED
    return None


def end(session_id: int, reason: str, now: datetime | None = None) -> bool:
    """End the support session now (on its own connection: a GET may find it over). False if already ended."""
    table = SupportSession.__table__
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        done = connection.execute(
            update(table)
            .where(table.c.id == session_id, table.c.ended_at.is_(None))
            .values(ended_at=now or utcnow(), end_reason=reason)
        ).rowcount
    return bool(done)


def log(
    session_id: int, kind: str, method: str, path: str, status: int | None = None, detail: str | None = None
):
    """One line of the session's log, on its own connection: a page viewed is logged though a GET writes nothing."""
    with db.engine.begin() as connection:
        bind_schema(connection, None)
        connection.execute(
            insert(SupportSessionEvent.__table__).values(
                support_session_id=session_id,
                at=utcnow(),
                kind=kind,
                method=method[:8],
                path=path[:500],
                status=status,
                detail=(detail or None) and detail[:200],
            )
        )


def revealed(session_id: int) -> set[str]:
    """What the staff member revealed in this session (``<kind>:<id>``)."""
    from blueprints.support.models import REVEALED

    t = SupportSessionEvent.__table__
    with db.engine.connect() as connection:
        bind_schema(connection, None)
        return set(
            connection.scalars(
                select(t.c.detail).where(t.c.support_session_id == session_id, t.c.kind == REVEALED)
            )
        )


def sessions_of(tenant_id: int, limit: int = 50) -> list[SupportSession]:
    return db.session.scalars(
        select(SupportSession)
        .where(SupportSession.tenant_id == tenant_id)
        .order_by(SupportSession.id.desc())
        .limit(limit)
    ).all()


def events_of(session_id: int) -> list[SupportSessionEvent]:
    return db.session.scalars(
        select(SupportSessionEvent)
        .where(SupportSessionEvent.support_session_id == session_id)
        .order_by(SupportSessionEvent.id)
    ).all()
