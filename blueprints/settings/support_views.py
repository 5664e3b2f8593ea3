"""The organization's support access page (administrators): the setting, the grants given, and revoking them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import User, organization
from blueprints.settings.views import bp
from blueprints.staff.models import Staff
from blueprints.support import services, sessions
from blueprints.support.models import (
    ALWAYS,
    CHANGED,
    OFF,
    ON_REQUEST,
    READ,
    REFUSED,
    REVEALED,
    VIEWED,
    WRITE,
    SupportGrant,
    SupportSession,
)
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants import current_tenant
from tenants.db import db

SETTING_NAMES = {
    OFF: _l("Off: Emarge support never sees your pages"),
    ON_REQUEST: _l("On request: only while an admin has given access"),
    ALWAYS: _l("Always: support may look at your pages (read only) when you ask for help"),
}
SCOPE_NAMES = {READ: _l("See pages only"), WRITE: _l("See pages and make changes for you")}


class SettingForm(FlaskForm):
    setting = RadioField(_l("Support access"), choices=choices(SETTING_NAMES.items()))


class GrantForm(FlaskForm):
    hours = SelectField(_l("For"), coerce=int, default=services.DEFAULT_HOURS)
    scope = RadioField(_l("Access"), choices=choices(SCOPE_NAMES.items()), default=READ)
    note = StringField(_l("Why (optional)"), validators=[Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hours.choices = choices(
            (
                hours,
                ngettext("%(num)d hour", "%(num)d hours", hours)
                if hours < 48
                else ngettext("%(num)d day", "%(num)d days", hours // 24),
            )
            for hours in services.PERIODS
        )


class RevokeForm(FlaskForm):
    pass


def _page(setting_form=None, grant_form=None, status=200):
    org = organization()
    setting_form = setting_form or SettingForm(setting=org.support_access)
    return (
        render_template(
            "settings/support.html",
            org=org,
            setting_form=setting_form,
            grant_form=grant_form or GrantForm(),
            revoke_form=RevokeForm(),
            live=services.live_grants(),
            past=services.past_grants(),
            scopes=SCOPE_NAMES,
            **_sessions_context(),
        ),
        status,
    )


@bp.route("/support", methods=["GET", "POST"])
@admin_required
@writes("organization.support_access_changed")
def support():
    form = SettingForm()
    if form.validate_on_submit():
        services.set_setting(organization(), form.setting.data, request_actor())
        db.session.commit()
        flash(_("Support access saved."))
        return redirect(url_for("settings.support"), 303)
    return _page(setting_form=form if form.is_submitted() else None, status=422 if form.errors else 200)


@bp.post("/support/grants")
@admin_required
@writes("support_grant.created")
def grant_support():
    form = GrantForm()
    if not form.validate_on_submit():
        return _page(grant_form=form, status=422)
    try:
        services.grant(
            organization(), request_actor(), hours=form.hours.data, scope=form.scope.data, note=form.note.data
        )
    except services.SupportAccessError as error:
        db.session.rollback()
        form.hours.errors.append(str(error))
        return _page(grant_form=form, status=422)
    db.session.commit()
    flash(_("Emarge support has access until the time shown."))
    return redirect(url_for("settings.support"), 303)


@bp.post("/support/grants/<int:grant_id>/revoke")
@admin_required
@writes("support_grant.revoked")
def revoke_support(grant_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    if services.revoke(grant_id, request_actor()) is None:
        flash(_("This access had already ended."))
    else:
        db.session.commit()
        flash(_("Access revoked: Emarge support can no longer see your pages through it."))
    return redirect(url_for("settings.support"), 303)


KIND_NAMES = {
    VIEWED: _l("Page viewed"),
    CHANGED: _l("Change made"),
    REFUSED: _l("Refused"),
    REVEALED: _l("Hidden field revealed"),
}


def _sessions_context() -> dict:
    from blueprints.staff.support_views import END_NAMES, MODE_NAMES

    rows = sessions.sessions_of(current_tenant().id)
    staff_names = {
        s.id: s.name
        for s in db.session.scalars(select(Staff).where(Staff.id.in_({r.staff_id for r in rows})))
    }
    user_names = {
        u.id: u.full_name
        for u in db.session.scalars(select(User).where(User.id.in_({r.user_id for r in rows})))
    }
    return {
        "support_sessions": rows,
        "staff_names": staff_names,
        "user_names": user_names,
        "mode_names": MODE_NAMES,
        "end_names": END_NAMES,
    }


@bp.get("/support/sessions/<int:support_session_id>")
@admin_required
def support_session(support_session_id: int):
    from blueprints.staff.support_views import END_NAMES, MODE_NAMES

    row = db.session.get(SupportSession, support_session_id)
    if row is None or row.tenant_id != current_tenant().id:
        abort(404)
    staff = db.session.get(Staff, row.staff_id)
    user = db.session.get(User, row.user_id)
    return render_template(
        "settings/support_session.html",
        row=row,
        staff_name=staff.name if staff else "",
        user_name=user.full_name if user else f"#{row.user_id}",
        grant=db.session.get(SupportGrant, row.grant_id) if row.grant_id else None,
        events=sessions.events_of(row.id),
        kind_names=KIND_NAMES,
        mode_names=MODE_NAMES,
        end_names=END_NAMES,
    )
