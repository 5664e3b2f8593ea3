"""The attendance-tracking settings page, for admins (blueprints/tracking/settings.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import organization
from blueprints.settings.views import bp
from blueprints.tracking import settings as tracking_settings
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants.db import db
from tenants.retention import ABSENCE_PROOF_CHOICES_MONTHS


def _proof_choices():
    return choices(
        (str(m), ngettext("%(num)d month", "%(num)d months", m)) for m in ABSENCE_PROOF_CHOICES_MONTHS
    )


def _count(label, description=None, top=20):
    return IntegerField(
        label,
        description=description,
        validators=[
            InputRequired(message=_l("Enter a number.")),
            NumberRange(min=1, max=top, message=_l("Between 1 and %(max)d.", max=top)),
        ],
    )


class TrackingForm(FlaskForm):
    attendance_threshold = _count(
        _l("Attendance threshold (%)"),
        _l("The rate a trainee must reach (80 %: the CPF full-payment line). A training may set its own."),
        top=100,
    )
    risk_absences = _count(_l("Unjustified absences in a row that put a trainee at risk"))
    followup_enabled = BooleanField(_l("Follow absences up on sessions over 2 days (Qualiopi indicator 12)"))
    followup_absences = _count(
        _l("Unjustified absences after which the admins and the employer contact are warned"),
        _l("After the first one the trainee is asked for a justification."),
    )
    alsace_moselle = BooleanField(_l("Alsace-Moselle public holidays (Good Friday, 26 December) apply"))
    proof_keep_months = SelectField(_l("Keep absence proofs after their session"), choices=_proof_choices)


@bp.route("/tracking", methods=["GET", "POST"])
@admin_required
@writes(tracking_settings.ACTION)
def tracking():
    org = organization()
    form = TrackingForm(obj=org) if not TrackingForm().is_submitted() else TrackingForm()
    if not form.is_submitted():
        form.proof_keep_months.data = str(org.proof_keep_months)
    if form.validate_on_submit():
        try:
            tracking_settings.save(
                org,
                tracking_settings.TrackingSettings(
                    attendance_threshold=form.attendance_threshold.data,
                    risk_absences=form.risk_absences.data,
                    followup_enabled=bool(form.followup_enabled.data),
                    followup_absences=form.followup_absences.data,
                    alsace_moselle=bool(form.alsace_moselle.data),
                    proof_keep_months=int(form.proof_keep_months.data),
                ),
                request_actor(),
            )
        except tracking_settings.TrackingSettingsProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            flash(_("Attendance tracking settings saved."), "success")
            return redirect(url_for("settings.tracking"), 303)
    status = 422 if form.errors else 200
    return render_template("settings/tracking.html", form=form), status
