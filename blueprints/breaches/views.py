"""Emarge's security notices in the organization's app, for its admins: the incidents it was told of, each with
its updates; opening one records that it was viewed (a POST from the page: GETs write nothing), and an admin
acknowledges it. A banner on every admin page points here while a notice is not acknowledged."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from blueprints.accounts.auth import admin_required
from blueprints.breaches import register, services
from blueprints.breaches.models import Breach
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("security_notices", __name__, url_prefix="/<org>/security-notices")


class ConfirmForm(FlaskForm):
    pass


@bp.app_context_processor
def _banner():
    def security_notices_waiting() -> int:
        """Notices the organization's admins have not acknowledged (0 for anyone else)."""
        tenant = current_tenant()
        if tenant is None or not current_user.is_authenticated or not current_user.is_admin:
            return 0
        return register.unacknowledged(tenant.id)

    return {"security_notices_waiting": security_notices_waiting}


def _notified(breach_id: int) -> tuple[Breach, list]:
    """The incident and this organization's notices of it; 404 if it was not told of it."""
    notices = register.notices_of_tenant(breach_id, current_tenant().id)
    if not notices:
        abort(404)
    return db.session.get(Breach, breach_id), notices


@bp.get("/")
@admin_required
def index():
    return render_template("security_notices/index.html", incidents=register.notices_for(current_tenant().id))


@bp.get("/<int:breach_id>")
@admin_required
def show(breach_id: int):
    breach, notices = _notified(breach_id)
    told = {n.seq for n in notices}
    updates = [u for u in services.updates_of(breach.id) if u.seq in told]
    people, records = services.figures(breach, updates)
    return render_template(
        "security_notices/show.html",
        breach=breach,
        notices=notices,
        updates=updates,
        people=people,
        records=records,
        natures=services.NATURE_NAMES,
        pending=any(n.acknowledged_at is None for n in notices),
        unviewed=any(n.viewed_at is None for n in notices),
        form=ConfirmForm(),
    )


@bp.post("/<int:breach_id>/viewed")
@admin_required
@writes(none="when an admin first opened Emarge's security notice: the notice's own record (the platform's)")
def viewed(breach_id: int):
    """The page's beacon: the first admin to open the notices is recorded. Support acting as an admin is not."""
    notices = _notified(breach_id)[1]
    if g.get("support") is None:
        register.mark_viewed(notices, current_user.id)
        db.session.commit()
    return "", 204


@bp.post("/<int:breach_id>/acknowledge")
@admin_required
@writes(
    none="an admin's acknowledgement of Emarge's security notice: the notice's own record (the platform's)"
)
def acknowledge(breach_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notices = _notified(breach_id)[1]
    fresh = register.acknowledge(notices, current_user.id, current_user.full_name)
    db.session.commit()
    if fresh:
        flash(_("Acknowledged: Emarge sees that your organization received the notice."), "success")
    else:
        flash(_("Already acknowledged."), "success")
    return redirect(url_for("security_notices.show", breach_id=breach_id), 303)
