"""The one way the platform emails an organization's admins: a notice, sent by the messaging jobs
(``jobs.platform_mail.notify_admins``) and logged in the platform's delivery log that staff read."""

from __future__ import annotations

from jobs import MESSAGING, enqueue


def notify_admins(tenant_id: int, notice: str, **params) -> None:
    """Email ``notice`` to the organization's admins once the current transaction commits."""
    enqueue("jobs.platform_mail.notify_admins", tenant_id, notice, params, queue=MESSAGING)
