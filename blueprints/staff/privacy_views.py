"""The staff's privacy pages: policy versions and publishing, the sub-processor list, the audience dashboard."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from blueprints.privacy import measurement, policy_versions
from blueprints.privacy.forms import PeriodForm, PolicyPublishForm, SubProcessorForm
from blueprints.privacy.models import COOKIES, LEGAL, PRIVACY, TITLES, SubProcessor
from blueprints.staff.views import bp, current_staff, platform_admin_required
from blueprints.web.audit_guard import writes
from tenants.db import db, utcnow


@bp.get("/privacy/")
@platform_admin_required
def policies():
    return render_template(
        "staff/policies.html",
        histories={kind: policy_versions.history(kind) for kind in (PRIVACY, COOKIES, LEGAL)},
        titles=TITLES,
        staff=current_staff(),
    )


@bp.route("/privacy/publish", methods=["GET", "POST"])
@platform_admin_required
@writes(none="platform staff: a policy version is a dated record of its own, with who published it")
def publish():
    form = PolicyPublishForm()
    if request.method == "GET":
        kind = request.args.get("kind", PRIVACY)
        current = policy_versions.latest(kind) if kind in TITLES else None
        if current:
            form.kind.data, form.body_fr.data, form.body_en.data = kind, current.body_fr, current.body_en
    if form.validate_on_submit():
        row = policy_versions.publish(
            form.kind.data,
            body_fr=form.body_fr.data,
            body_en=form.body_en.data,
            summary_fr=form.summary_fr.data or "",
            summary_en=form.summary_en.data or "",
            substantial=form.substantial.data,
            staff_id=current_staff().id,
        )
        db.session.commit()
        if row.substantial:
            flash(
                _("Version %(number)d published. Account holders are being emailed.", number=row.number),
                "success",
            )
        else:
            flash(_("Version %(number)d published.", number=row.number), "success")
        return redirect(url_for("staff.policies"), 303)
    return render_template("staff/publish.html", form=form), 200 if not form.errors else 422


@bp.route("/privacy/sub-processors", methods=["GET", "POST"])
@platform_admin_required
@writes(none="platform staff: the sub-processor list has no audit trail yet (the support console's)")
def sub_processors():
    form = SubProcessorForm()
    if form.validate_on_submit():
        policy_versions.save_sub_processor(None, **_sub_processor_values(form))
        db.session.commit()
        flash(_("Sub-processor added."), "success")
        return redirect(url_for("staff.sub_processors"), 303)
    return render_template(
        "staff/sub_processors.html", rows=policy_versions.sub_processors(), form=form
    ), 200 if not form.errors else 422


def _sub_processor_values(form: SubProcessorForm) -> dict:
    return {
        "name": form.name.data.strip(),
        "role_fr": form.role_fr.data.strip(),
        "role_en": form.role_en.data.strip(),
        "country": form.country.data.strip(),
        "leaves_eu": bool(form.leaves_eu.data),
        "safeguards": (form.safeguards.data or "").strip(),
        "position": form.position.data or 0,
    }


@bp.route("/privacy/sub-processors/<int:row_id>", methods=["GET", "POST"])
@platform_admin_required
@writes(none="platform staff: the sub-processor list has no audit trail yet (the support console's)")
def sub_processor(row_id: int):
    row = db.session.get(SubProcessor, row_id) or abort(404)
    form = SubProcessorForm(obj=row)
    if form.validate_on_submit():
        policy_versions.save_sub_processor(row, **_sub_processor_values(form))
        db.session.commit()
        flash(_("Sub-processor saved."), "success")
        return redirect(url_for("staff.sub_processors"), 303)
    return render_template("staff/sub_processor.html", row=row, form=form), 200 if not form.errors else 422


@bp.post("/privacy/sub-processors/<int:row_id>/delete")
@platform_admin_required
@writes(none="platform staff: the sub-processor list has no audit trail yet (the support console's)")
def sub_processor_delete(row_id: int):
    row = db.session.get(SubProcessor, row_id) or abort(404)
    policy_versions.remove_sub_processor(row)
    db.session.commit()
    flash(_("Sub-processor removed from the list."), "success")
    return redirect(url_for("staff.sub_processors"), 303)


@bp.get("/audience")
@platform_admin_required
def audience():
    form = PeriodForm(request.args)
    today = measurement.local_day(utcnow())
    end = form.end.data if form.validate() and form.end.data else today
    start = form.start.data if form.start.data else end - timedelta(days=29)
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=731))  # two years at most on one page
    form.start.data, form.end.data = start, end
    return render_template("staff/audience.html", form=form, f=measurement.figures(start, end))
