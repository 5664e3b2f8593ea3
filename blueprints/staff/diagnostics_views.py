"""Staff read the platform's diagnostics: the error groups (open, resolved, all), one group with its latest
reports, a reference from a user's error page looked up, and the "resolved" mark (logged in the staff log)."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from blueprints.diagnostics import services as diagnostics
from blueprints.diagnostics.models import ErrorGroup
from blueprints.staff import services
from blueprints.staff.views import bp, current_staff, staff_required
from blueprints.web.audit_guard import writes
from tenants.db import db

RESOLVED = "diagnostics.resolved"
REOPENED = "diagnostics.reopened"


class ConfirmForm(FlaskForm):
    pass


@bp.get("/diagnostics")
@staff_required
def diagnostics_list():
    reference = request.args.get("ref", "").strip()
    if reference:
        found = diagnostics.find_reference(reference)
        if found is not None:
            return redirect(
                url_for("staff.diagnostic", group_id=found.group_id, _anchor=f"r-{found.reference}")
            )
        flash(_("No error report has the reference %(ref)s.", ref=reference[:12]), "error")
    state = request.args.get("state", diagnostics.OPEN)
    state = state if state in (diagnostics.OPEN, diagnostics.RESOLVED, "all") else diagnostics.OPEN
    found = diagnostics.groups(state, request.args.get("page", 1, type=int) or 1)
    return render_template("staff/diagnostics.html", found=found, state=state, reference=reference)


@bp.get("/diagnostics/<int:group_id>")
@staff_required
def diagnostic(group_id: int):
    group = db.get_or_404(ErrorGroup, group_id)
    reports = [(r, json.loads(r.headers or "{}")) for r in diagnostics.reports_of(group.id)]
    return render_template("staff/diagnostic.html", group=group, reports=reports, form=ConfirmForm())


@bp.post("/diagnostics/<int:group_id>/resolve")
@staff_required
@writes(none="platform staff: the error group's mark")
def resolve_diagnostic(group_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    group = db.get_or_404(ErrorGroup, group_id)
    reopen = request.form.get("reopen") == "1"
    if reopen:
        diagnostics.reopen(group)
    else:
        diagnostics.resolve(group, current_staff().id)
    services.log(current_staff().id, REOPENED if reopen else RESOLVED, ip=request.remote_addr, group=group.id)
    db.session.commit()
    flash(
        _("Marked open again.") if reopen else _("Marked resolved: a new occurrence opens it again."),
        "success",
    )
    return redirect(url_for("staff.diagnostic", group_id=group.id), 303)
