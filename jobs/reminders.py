"""Periodic outreach: reminders before and after each slot's start, and the facilitators' end-of-slot summary.

One job for every tenant, every minute or two (jobs/__init__.py SCHEDULE). Safe to run twice, or late: each
message has a dedupe key (slot × person × kind × channel), and a reminder whose moment passed long ago is
not sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from blueprints.web.audit_guard import writes
from jobs import platform_job, tenant_job
from tenants import all_tenants, current_tenant, tenant_scope
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)


def _parse(now: str | None) -> datetime:
    if not now:
        return utcnow()
    moment = datetime.fromisoformat(now)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _run(now: datetime) -> dict:
    from blueprints.messages import reminders

    sweep = reminders.run_periodic(current_tenant(), now)
    db.session.commit()
    return {"before": sweep.before, "late": sweep.late, "summaries": sweep.summaries}


@platform_job
@writes(none="hands each organization to send_tenant_reminders")
def send_due_reminders(now: str | None = None) -> dict:
    """Every active tenant: what is due at ``now`` (ISO 8601, UTC; default: the present)."""
    moment = _parse(now)
    totals = {"before": 0, "late": 0, "summaries": 0}
    for tenant in all_tenants():
        try:
            with tenant_scope(tenant):
                for key, value in _run(moment).items():
                    totals[key] += value
        except Exception:
            # One organization's trouble must not keep the others' reminders from going out.
            logger.exception("reminders failed for tenant %s", tenant.slug)
    return totals


@tenant_job
@writes("signin_link.issued", "signin_link.reissued")
def send_tenant_reminders(now: str | None = None) -> dict:
    """The same for one tenant (tests, the CLI)."""
    return _run(_parse(now))
