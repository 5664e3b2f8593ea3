"""Periodic outreach: reminders before and after each slot's start, and the facilitators' end-of-slot summary.

One job per tenant whose half-days are near, each minute (jobs/fanout.py reads the work index). Safe to run
twice, or late: each message has a dedupe key (slot × person × kind × channel), and a reminder whose moment
passed long ago is not sent.
"""

from __future__ import annotations

import logging

from blueprints.web.audit_guard import writes
from jobs import tenant_job
from tenants import current_tenant, work
from tenants.db import db, parse_moment

logger = logging.getLogger(__name__)


@tenant_job
@writes("signin_link.issued", "signin_link.reissued")
def send_tenant_reminders(now: str | None = None) -> dict:
    """What is due at ``now`` (ISO 8601, UTC; default: the present) in the tenant in scope, when the work
    index says so (jobs/fanout.py); then the tenant's next moment is written."""
    from blueprints.messages import reminders

    moment = parse_moment(now)
    tenant = current_tenant()
    sweep = reminders.run_periodic(tenant, moment)
    db.session.commit()
    work.settle(tenant, [reminders.REMINDERS], now=moment)
    return {"before": sweep.before, "late": sweep.late, "summaries": sweep.summaries}
