"""The organization's support access: its setting, the grants its admins give and revoke, and the one check
a support session asks on every request (``allowed``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from blueprints.accounts.models import Organization
from blueprints.audit.services import Actor, record
from blueprints.support.models import ALWAYS, OFF, SCOPES, SETTINGS, WRITE, SupportGrant
from tenants.db import db, utcnow

DEFAULT_HOURS = 24
MAX_HOURS = 7 * 24
# The periods an admin picks from, in hours.
PERIODS = (4, 24, 72, MAX_HOURS)


class SupportAccessError(ValueError):
    """A refused change, with the sentence to show."""


def live_grants(now: datetime | None = None) -> list[SupportGrant]:
    now = now or utcnow()
    return db.session.scalars(
        select(SupportGrant)
        .where(SupportGrant.revoked_at.is_(None), SupportGrant.ends_at > now, SupportGrant.starts_at <= now)
        .order_by(SupportGrant.ends_at.desc())
    ).all()


def past_grants(limit: int = 20, now: datetime | None = None) -> list[SupportGrant]:
    now = now or utcnow()
    return db.session.scalars(
        select(SupportGrant)
        .where((SupportGrant.revoked_at.is_not(None)) | (SupportGrant.ends_at <= now))
        .order_by(SupportGrant.id.desc())
        .limit(limit)
    ).all()


def set_setting(org: Organization, setting: str, actor: Actor) -> None:
    """Change the organization's setting; turning support access off ends every grant at once."""
    if setting not in SETTINGS:
        raise SupportAccessError(_("Choose one of the options."))
    if setting == org.support_access:
        return
    before, org.support_access = org.support_access, setting
    ended = []
    if setting == OFF:
        now = utcnow()
        for grant in live_grants(now):
            grant.revoked_at, grant.revoked_by_id = now, actor.user_id
            ended.append(grant.id)
    record(
        actor, "organization.support_access_changed", org, before=before, after=setting, grants_ended=ended
    )


def grant(
    org: Organization,
    actor: Actor,
    *,
    hours: int,
    scope: str,
    note: str | None = None,
    staff_id: int | None = None,
    support_request_id: int | None = None,
    now: datetime | None = None,
) -> SupportGrant:
    if org.support_access == OFF:
        raise SupportAccessError(_("Support access is off: turn it on before giving access."))
    if scope not in SCOPES:
        raise SupportAccessError(_("Choose one of the options."))
    if not 1 <= hours <= MAX_HOURS:
        raise SupportAccessError(_("Access is given for 7 days at most."))
    now = now or utcnow()
    row = SupportGrant(
        scope=scope,
        starts_at=now,
        ends_at=now + timedelta(hours=hours),
        granted_by_id=actor.user_id,
        note=(note or "").strip()[:300] or None,
        staff_id=staff_id,
        support_request_id=support_request_id,
    )
    db.session.add(row)
    db.session.flush()
    record(actor, "support_grant.created", row, scope=scope, hours=hours)
    return row


def revoke(grant_id: int, actor: Actor) -> SupportGrant | None:
    """End a grant now. None when there is no such live grant (already ended: nothing to do)."""
    row = db.session.get(SupportGrant, grant_id)
    now = utcnow()
    if row is None or not row.live(now):
        return None
    row.revoked_at, row.revoked_by_id = now, actor.user_id
    record(actor, "support_grant.revoked", row)
    return row


def allowed(
    org: Organization, now: datetime | None = None, *, write: bool = False, staff_id: int | None = None
) -> SupportGrant | bool:
    """Whether support (the staff member ``staff_id``) may act in the organization now: the grant that allows
    it, True when the setting is "always" (read only, or write with a write grant), False otherwise. A grant a
    support request made is its handler's only."""
    if org.support_access == OFF:
        return False
    grants = [
        g
        for g in live_grants(now)
        if (not write or g.scope == WRITE) and (g.staff_id is None or g.staff_id == staff_id)
    ]
    if grants:
        return grants[0]
    return org.support_access == ALWAYS and not write
