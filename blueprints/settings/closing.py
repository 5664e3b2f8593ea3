"""Closing the organization's account, and asking for its deletion. Plain functions over the platform's row of
the organization; each change audited in the organization's trail; the caller commits.

- Closing sets the end of service: from then on admins may sign in and read, to take the full archive, and
  nothing else happens (the read-only guard of ``closing_guard``; tenant jobs skip it, ``jobs.while_closed``).
- A shorter period than the 3 years after the end of service may be chosen, before or after closing; the
  retention engine drops the organization at its end (``retirement.end_of_keeping``).
- Asking for deletion (the organization's web address typed as confirmation) closes it too, and leaves 7 days
  during which any admin can undo it; every admin is emailed at the request and the day before. At the end of
  the grace the retention engine drops it.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from blueprints.audit.services import Actor, record
from blueprints.shared.problems import FieldProblem
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.models import Tenant
from tenants.retention import DELETION_GRACE, END_OF_SERVICE, END_OF_SERVICE_CHOICES_MONTHS, add_months

CLOSED_ACTION = "organization.closed"
DELETION_ACTION = "organization.deletion_requested"
UNDONE_ACTION = "organization.deletion_undone"
KEEPING_ACTION = "organization.keeping_chosen"


class ClosingProblem(FieldProblem):
    """A closing or a deletion refused, with the form field to show the message at."""


def deletion_due(tenant: TenantRef) -> datetime | None:
    return tenant.deletion_requested_at + DELETION_GRACE if tenant.deletion_requested_at else None


def _set(tenant: TenantRef, **values) -> None:
    db.session.execute(update(Tenant.__table__).where(Tenant.__table__.c.id == tenant.id).values(**values))


def close(tenant: TenantRef, actor: Actor, *, confirmed: bool, now: datetime | None = None) -> None:
    if tenant.closed:
        raise ClosingProblem("confirm_close", _("The account is already closed."))
    if not confirmed:
        raise ClosingProblem("confirm_close", _("Tick to confirm: nothing can be changed afterwards."))
    _set(tenant, end_of_service_at=now or utcnow())
    record(actor, CLOSED_ACTION, object_type="organization", object_id=tenant.id)


def request_deletion(tenant: TenantRef, actor: Actor, *, typed: str, now: datetime | None = None) -> datetime:
    """Ask for the deletion; returns when it happens. The typed address must be the organization's."""
    if tenant.deletion_requested_at is not None:
        raise ClosingProblem("typed", _("Its deletion is already asked for."))
    if (typed or "").strip().strip("/").lower() != tenant.slug:
        raise ClosingProblem(
            "typed", _("Type the organization's web address, %(slug)s, to confirm.", slug=tenant.slug)
        )
    now = now or utcnow()
    _set(tenant, deletion_requested_at=now, end_of_service_at=tenant.end_of_service_at or now)
    record(
        actor,
        DELETION_ACTION,
        object_type="organization",
        object_id=tenant.id,
        due=(now + DELETION_GRACE).isoformat(),
    )
    from blueprints.staff.notices import notify_admins

    notify_admins(tenant.id, "deletion_requested", due=(now + DELETION_GRACE).isoformat())
    return now + DELETION_GRACE


def undo_deletion(tenant: TenantRef, actor: Actor, *, now: datetime | None = None) -> None:
    """Within the grace: the organization is as it was before (still closed if it was closed first)."""
    now = now or utcnow()
    if tenant.deletion_requested_at is None:
        raise ClosingProblem("undo", _("No deletion is asked for."))
    if now > deletion_due(tenant):
        raise ClosingProblem("undo", _("The 7 days to undo the deletion are over."))
    closed_first = (
        tenant.end_of_service_at is not None and tenant.end_of_service_at < tenant.deletion_requested_at
    )
    _set(
        tenant,
        deletion_requested_at=None,
        end_of_service_at=tenant.end_of_service_at if closed_first else None,
    )
    record(actor, UNDONE_ACTION, object_type="organization", object_id=tenant.id)


def keeping_months(tenant: TenantRef) -> int:
    """How many months after its end of service the organization's data is kept."""
    return tenant.keep_months or END_OF_SERVICE.amount * 12


def choose_keeping(
    tenant: TenantRef, actor: Actor, *, months: int | None, now: datetime | None = None
) -> None:
    """Keep the data ``months`` after the end of service instead of the 3 years (None: back to the 3 years).
    A period that would end within the deletion's grace is refused: that is a deletion, asked for as one."""
    now = now or utcnow()
    if tenant.deletion_requested_at is not None:
        raise ClosingProblem("keep_months", _("Its deletion is already asked for."))
    if months is not None and months not in END_OF_SERVICE_CHOICES_MONTHS:
        raise ClosingProblem("keep_months", _("Pick one of the periods offered."))
    if months is not None and tenant.end_of_service_at is not None:
        ends = add_months(tenant.end_of_service_at, months)
        if ends < now + DELETION_GRACE:
            raise ClosingProblem(
                "keep_months",
                _(
                    "That period would end less than 7 days from now: to delete everything sooner, ask for the"
                    " deletion below."
                ),
            )
    if months == tenant.keep_months:
        return
    _set(tenant, keep_months=months)
    record(
        actor,
        KEEPING_ACTION,
        object_type="organization",
        object_id=tenant.id,
        months=months or END_OF_SERVICE.amount * 12,
        previous=keeping_months(tenant),
    )
