"""Attendance tracking's periodic work, for each organization: the absence follow-up rule (hourly), and the
absence proofs deleted at the end of their period (daily)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from blueprints.web.audit_guard import writes
from jobs import tenant_job, while_closed
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)

# Sessions whose last half-day ended longer ago than this are left alone by the follow-up rule.
FOLLOWUP_WITHIN = timedelta(days=14)


@tenant_job
@writes(none="the follow-up rule's steps (FollowupStep) are its own record; the messages are logged")
def run_followup(now: str | None = None) -> dict:
    """Apply the follow-up rule to every session running or ended within the last two weeks."""
    from blueprints.accounts.models import organization
    from blueprints.tracking import followup
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import current_tenant

    moment = datetime.fromisoformat(now) if now else utcnow()
    org = organization()
    totals = {"sessions": 0, "asked": 0, "warned": 0}
    if org is None or not org.followup_enabled:
        return totals
    recent = (
        select(Slot.session_id)
        .group_by(Slot.session_id)
        .having(func.min(Slot.starts_at) <= moment, func.max(Slot.ends_at) >= moment - FOLLOWUP_WITHIN)
    )
    sessions = db.session.scalars(
        select(TrainingSession).where(TrainingSession.id.in_(recent), TrainingSession.archived_at.is_(None))
    ).all()
    tenant = current_tenant()
    for session in sessions:
        taken = followup.run(session, org, tenant, moment)
        db.session.commit()
        totals["sessions"] += 1
        totals["asked"] += taken["asked"]
        totals["warned"] += taken["warned"]
    return totals


@tenant_job
@while_closed
@writes(none="retention: absence proofs past their period")
def purge_absence_proofs(now: str | None = None) -> int:
    """Daily: the proof of an absence is deleted 12 months after its session ended, or after the longer period
    the organization chose (``proof_keep_months``); the justification itself stays, saying so."""
    from blueprints.accounts.models import organization
    from blueprints.tracking.models import Justification
    from blueprints.trainings.models import Slot
    from tenants.retention import add_months
    from tenants.storage import storage

    moment = datetime.fromisoformat(now) if now else utcnow()
    org = organization()
    months = org.proof_keep_months if org is not None else 12
    cutoff = add_months(moment, -months)
    ended = select(Slot.session_id).group_by(Slot.session_id).having(func.max(Slot.ends_at) < cutoff)
    rows = db.session.scalars(
        select(Justification)
        .join(Slot, Slot.id == Justification.slot_id)
        .where(
            Slot.session_id.in_(ended),
            Justification.proof_blob_id.is_not(None),
            Justification.proof_purged_at.is_(None),
        )
    ).all()
    for row in rows:
        storage().delete(str(row.proof_blob_id))
        row.proof_blob_id, row.proof_purged_at = None, moment
    db.session.commit()
    return len(rows)
