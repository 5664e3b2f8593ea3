"""Erasing a participant's data, for admins: what each category will become, shown before confirming (a person
in a running session is told about, then confirmed), then done, audited and written in the erasure ledger."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from blueprints.accounts.auth import admin_required
from blueprints.participants.models import Participant
from blueprints.rights import erasure
from blueprints.rights.views import bp
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import MultiCheckboxField, choices
from tenants import current_tenant
from tenants.db import db, utcnow

KEEP, ERASE_NOW = "keep", "erase"


class ErasureForm(FlaskForm):
    categories = MultiCheckboxField(
        _l("What to erase"),
        choices=choices(
            (
                (erasure.CONTACT, _l("Identity, contact and profile")),
                (erasure.MESSAGES, _l("Messages sent to them")),
                (erasure.EVIDENCE, _l("Attendance evidence")),
            )
        ),
    )
    evidence = RadioField(
        _l("Attendance evidence"),
        choices=choices(
            (
                (KEEP, _l("Keep it under a legal obligation, then anonymise it")),
                (ERASE_NOW, _l("Erase it now (no obligation to keep it)")),
            )
        ),
        default=KEEP,
        validators=[Optional()],
    )
    keep_years = SelectField(
        _l("Kept for, after their last session"),
        choices=choices((str(y), _l("%(num)d years", num=y)) for y in erasure.KEEP_YEARS),
        default="6",
    )
    basis = StringField(_l("The obligation (funder and rule)"), validators=[Length(max=200)])
    confirm_running = BooleanField(_l("I understand: their link stops working now"))


def _today():
    return utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()


@bp.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@admin_required
@writes(erasure.ERASED_ACTION)
def erase_participant(participant_id: int):
    participant = db.session.get(Participant, participant_id) or abort(404)
    form = ErasureForm()
    if not form.is_submitted():
        form.categories.data = list(erasure.CATEGORIES)
    found = erasure.preview(participant, _today())
    if form.validate_on_submit():
        keep = erasure.EVIDENCE in (form.categories.data or []) and form.evidence.data == KEEP
        try:
            kept_until = erasure.erase(
                participant,
                request_actor(),
                tenant=current_tenant(),
                categories=form.categories.data,
                keep_years=int(form.keep_years.data) if keep else None,
                basis=form.basis.data,
                confirm_running=form.confirm_running.data,
                today=_today(),
            )
        except erasure.ErasureProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            if kept_until:
                flash(
                    _(
                        "Erased. Their attendance evidence is kept until %(day)s, then anonymised.",
                        day=kept_until.strftime("%d/%m/%Y"),
                    ),
                    "success",
                )
            else:
                flash(_("Erased."), "success")
            return redirect(url_for("participants.show", participant_id=participant.id), 303)
    status = 422 if form.errors else 200
    return render_template(
        "rights/erase.html",
        participant=participant,
        form=form,
        found=found,
        today=_today(),
        years=erasure.KEEP_YEARS,
    ), status
