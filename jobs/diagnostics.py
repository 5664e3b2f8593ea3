"""Diagnostics of the jobs: every failure the job hook reports is captured like a request's error, and the
reports are kept 90 days (``tenants.retention.DIAGNOSTICS``)."""

from __future__ import annotations

from blueprints.diagnostics import services
from blueprints.diagnostics.capture import capture
from blueprints.diagnostics.models import JOB
from blueprints.web.audit_guard import writes
from jobs import JobFailure, on_job_failure, platform_job


class AbandonedJob(Exception):
    """A job whose worker died under it (killed, out of memory, lost): there is no traceback to keep."""


@on_job_failure
def capture_job_failure(failure: JobFailure) -> None:
    error = failure.exception or AbandonedJob(failure.error)
    tenant_id = failure.meta.get("tenant_id")
    capture(
        error, kind=JOB, where=failure.func, tenant_slug=services.slug_of(tenant_id) if tenant_id else None
    )


@platform_job
@writes(none="retention: error reports older than the diagnostics period")
def purge_diagnostics() -> dict:
    """Daily: the error reports older than 90 days, and the groups left without any."""
    return services.purge()
