"""The staff team, for platform admins: accounts made, deactivated, given a new authenticator, and the log."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from blueprints.staff import services
from blueprints.staff.models import PLATFORM_ADMIN, SUPPORT, Staff, StaffEvent
from blueprints.staff.views import bp, current_staff, platform_admin_required
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants.db import db

ROLE_NAMES = {SUPPORT: _l("Support"), PLATFORM_ADMIN: _l("Platform admin")}
ACTION_NAMES = {
    services.CREATED: _l("created the account"),
    services.DEACTIVATED: _l("deactivated the account"),
    services.REACTIVATED: _l("reactivated the account"),
    services.AUTHENTICATOR_RESET: _l("reset the authenticator"),
    "diagnostics.resolved": _l("marked an error group resolved"),
    "diagnostics.reopened": _l("opened an error group again"),
    "changelog.created": _l("wrote a changelog entry"),
    "changelog.updated": _l("changed a changelog entry"),
    "breach.recorded": _l("recorded a security incident"),
    "breach.updated": _l("appended an update to a security incident"),
    "breach.notified": _l("notified the organizations of a security incident"),
    "breach.not_notified": _l("recorded why a security incident is not notified"),
}
COMMON_TIMEZONES = ("Europe/Paris", "America/Martinique", "America/Guadeloupe", "Indian/Reunion", "UTC")


class StaffForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE_NAMES.items()))
    timezone = SelectField(_l("Timezone"), default="Europe/Paris")
    password = PasswordField(_l("Password"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rest = sorted(available_timezones() - set(COMMON_TIMEZONES))
        self.timezone.choices = choices((name, name) for name in (*COMMON_TIMEZONES, *rest))


class ConfirmForm(FlaskForm):
    pass


def _member(staff_id: int) -> Staff:
    return db.session.get(Staff, staff_id) or abort(404)


def _enrolment_page(enrolment: services.Enrolment):
    # Shown once: the secret is never displayed again (it is kept encrypted).
    return render_template("staff/team_enrolment.html", enrolment=enrolment)


@bp.route("/team", methods=["GET", "POST"])
@platform_admin_required
@writes(none="platform staff: a staff account and its line in the staff log (staff_events)")
def team():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            enrolment = services.create_staff(
                form.email.data,
                name=form.name.data,
                role=form.role.data,
                timezone=form.timezone.data,
                password=form.password.data,
                actor_id=current_staff().id,
                ip=request.remote_addr,
            )
        except services.StaffError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            return _enrolment_page(enrolment)
    members = db.session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name)).all()
    return (
        render_template(
            "staff/team.html", form=form, members=members, roles=ROLE_NAMES, confirm=ConfirmForm()
        ),
        200 if not form.errors else 422,
    )


@bp.post("/team/<int:staff_id>/active")
@platform_admin_required
@writes(none="platform staff: the account's state and its line in the staff log")
def set_active(staff_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    member = _member(staff_id)
    active = request.form.get("active") == "1"
    try:
        services.set_active(current_staff(), member, active, ip=request.remote_addr)
    except services.StaffError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _("%(name)s can sign in again.", name=member.name)
            if active
            else _("%(name)s can no longer sign in.", name=member.name)
        )
    return redirect(url_for("staff.team"), 303)


@bp.post("/team/<int:staff_id>/authenticator")
@platform_admin_required
@writes(none="platform staff: a new authenticator secret and its line in the staff log")
def reset_authenticator(staff_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enrolment = services.reset_authenticator(current_staff(), _member(staff_id), ip=request.remote_addr)
    db.session.commit()
    return _enrolment_page(enrolment)


@bp.get("/team/log")
@platform_admin_required
def team_log():
    events = db.session.scalars(select(StaffEvent).order_by(StaffEvent.id.desc()).limit(500)).all()
    names = dict(db.session.execute(select(Staff.id, Staff.name)).all())
    return render_template("staff/team_log.html", events=events, names=names, actions=ACTION_NAMES)
