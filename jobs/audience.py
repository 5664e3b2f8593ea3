"""Audience measurement housekeeping: daily figures, and raw events deleted after 13 months."""

from __future__ import annotations

import logging

from blueprints.web.audit_guard import writes
from jobs import platform_job
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)


@platform_job
@writes(none="audience figures are measurement, not an organization's data")
def aggregate_audience() -> int:
    """Store the figures of every finished day not stored yet (and re-store the last two). Safe to run twice."""
    from blueprints.privacy import measurement

    stored = measurement.aggregate_days(measurement.days_to_aggregate(measurement.local_day(utcnow())))
    db.session.commit()
    return stored


@platform_job
@writes(none="retention: raw audience events past their period")
def purge_audience_events() -> int:
    """Delete raw events older than 13 months, once their days' figures are stored."""
    from blueprints.privacy import measurement

    deleted = measurement.purge_raw_events()
    db.session.commit()
    if deleted:
        logger.info("audience: %d raw events older than 13 months deleted", deleted)
    return deleted
