"""Support sessions from the staff console: an organization's page, starting a session as one of its users,
ending it, revealing a masked field; the platform's log of support sessions and its delivery log of notices."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.accounts import logins
from blueprints.accounts.models import User, organization
from blueprints.audit.services import record
from blueprints.staff import services
from blueprints.staff.models import SUPPORT, PlatformMail, Staff
from blueprints.staff.notices import notify_admins
from blueprints.staff.views import SESSION_KEY, STATE_NAMES, bp, current_staff, staff_required
from blueprints.support import access, sessions
from blueprints.support import services as support
from blueprints.support.models import ENDED as ENDED_BY_STAFF
from blueprints.support.models import READ, REVEALED, WRITE, SupportSession
from blueprints.web.actor import request_origin
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants import Actor, find_tenant, tenant_scope
from tenants.db import db, utcnow
from tenants.models import Tenant, state_of
from tenants.scope import STAFF

MODE_NAMES = {
    READ: _l("Read only"),
    WRITE: _l("Write: changes allowed (needs an access with changes allowed)"),
}
END_NAMES = {
    "ended": _l("ended by support"),
    "idle": _l("ended after 10 idle minutes"),
    "expired": _l("ended after 30 minutes"),
    "revoked": _l("ended: access revoked or run out"),
    "access-off": _l("ended: support access turned off"),
    "gone": _l("ended: account or staff login no longer active"),
}
STARTED = "support_session.started"
ENDED = "support_session.ended"
REFUSED = "support_session.refused"


class StartForm(FlaskForm):
    user_id = SelectField(_l("Act as"), coerce=int, validate_choice=False)
    reason = StringField(
        _l("Why (a request number or a sentence)"), validators=[DataRequired(), Length(max=300)]
    )
    mode = RadioField(_l("Mode"), choices=choices(MODE_NAMES.items()), default=READ)
    write_reason = StringField(
        _l("Why changes are needed (write mode)"), validators=[Optional(), Length(max=300)]
    )


class EndForm(FlaskForm):
    pass


class RevealForm(FlaskForm):
    field = HiddenField(validators=[DataRequired(), Length(max=120)])
    back = HiddenField(validators=[Optional(), Length(max=500)])


def _tenant(tenant_id: int):
    return find_tenant(tenant_id=tenant_id) or abort(404)


def _actor(staff: Staff, user: User | None = None) -> Actor:
    """The staff member, on behalf of ``user``: both recorded on every audit event."""
    label = f"staff#{staff.id} as {user.email}" if user else f"staff#{staff.id}"
    return Actor(
        kind=STAFF, label=label, user_id=user.id if user else None, staff_id=staff.id, **request_origin()
    )


def _rotate_staff_login(staff: Staff) -> None:
    """A new staff login record and a fresh session (so a new CSRF token) at a support session's start and end."""
    ident = str(session.get(SESSION_KEY) or "").split(":", 1)[0]
    if ident.isdigit():
        logins.end_staff_login(int(ident))
    opened = logins.open_staff_login(staff.id, request_origin())
    session.clear()
    session[SESSION_KEY] = f"{opened.login_id}:{opened.key}"


def _organization_page(tenant, form: StartForm | None = None, status: int = 200, refusal: str | None = None):
    staff = current_staff()
    with tenant_scope(tenant):
        org = organization()
        access_now = support.allowed(org, staff_id=staff.id)
        grants = [
            (g.scope, g.ends_at, g.note)
            for g in support.live_grants()
            if g.staff_id is None or g.staff_id == staff.id
        ]
        setting = org.support_access
        users = (
            [
                (u.id, u.full_name, u.role)
                for u in db.session.scalars(
                    select(User).where(User.active.is_(True)).order_by(User.last_name, User.first_name)
                )
            ]
            if access_now is not False
            else []
        )
    form = form or StartForm()
    form.user_id.choices = [(ident, f"{name} ({role})") for ident, name, role in users]
    row = db.session.get(Tenant, tenant.id)
    history = sessions.sessions_of(tenant.id)
    names = {s.id: s.name for s in db.session.scalars(select(Staff))}
    return (
        render_template(
            "staff/organization.html",
            tenant=row,
            state=STATE_NAMES[state_of(row)],
            setting=setting,
            allowed=access_now is not False,
            grants=grants,
            form=form,
            can_start=staff.role == SUPPORT and bool(users),
            history=history,
            names=names,
            end_names=END_NAMES,
            mode_names=MODE_NAMES,
            refusal=refusal,
        ),
        status,
    )


@bp.get("/organizations/<int:tenant_id>")
@staff_required
def organization_page(tenant_id: int):
    return _organization_page(_tenant(tenant_id))


@bp.post("/organizations/<int:tenant_id>/support-sessions")
@staff_required
@writes(none="platform staff: the support session is its own record; its audit event is the organization's")
def start_support(tenant_id: int):
    staff = current_staff()
    tenant = _tenant(tenant_id)
    form = StartForm()
    form.user_id.choices = []
    if not form.validate_on_submit():
        return _organization_page(tenant, form, 422)
    refusal = None
    if access.live_in_browser() is not None:
        refusal = _("A support session is already open in this browser: end it first.")
    started = None
    if refusal is None:
        with tenant_scope(tenant):
            user = db.session.get(User, form.user_id.data)
            try:
                started = sessions.start(
                    staff,
                    tenant.id,
                    user,
                    reason=form.reason.data,
                    mode=form.mode.data,
                    write_reason=form.write_reason.data,
                    ip=request.remote_addr,
                )
            except sessions.SupportRefused as error:
                db.session.rollback()
                refusal = str(error)
            else:
                record(
                    _actor(staff, user),
                    STARTED,
                    organization(),
                    support_session=started.record.id,
                    mode=started.record.mode,
                    reason=started.record.reason,
                    grant=started.record.grant_id,
                )
                notify_admins(
                    tenant.id,
                    "support_session_started",
                    staff=staff.name,
                    user=user.full_name,
                    mode=started.record.mode,
                    reason=started.record.reason,
                )
                db.session.commit()
                ident = started.record.id
    if refusal is not None:
        services.log(staff.id, REFUSED, tenant_id=tenant.id, ip=request.remote_addr, why=refusal)
        db.session.commit()
        return _organization_page(tenant, form, 422, refusal)
    services.log(staff.id, STARTED, tenant_id=tenant.id, ip=request.remote_addr, support_session=ident)
    _rotate_staff_login(staff)
    db.session.commit()
    response = redirect(url_for("today.index", org=tenant.slug), 303)
    return access.set_cookie(response, f"{ident}:{started.key}")


@bp.post("/support-session/end")
@staff_required
@writes(none="platform staff: ends the support session's record; its audit event is the organization's")
def end_support():
    if not EndForm().validate_on_submit():
        abort(400)
    staff = current_staff()
    parsed = access.cookie_value()
    row = db.session.get(SupportSession, parsed[0]) if parsed else None
    if row is None or row.staff_id != staff.id:
        response = redirect(url_for("staff.home"), 303)
        return access.set_cookie(response, None)
    tenant = _tenant(row.tenant_id)
    if sessions.end(row.id, ENDED_BY_STAFF):
        with tenant_scope(tenant):
            user = db.session.get(User, row.user_id)
            record(_actor(staff, user), ENDED, organization(), support_session=row.id)
            db.session.commit()
        services.log(staff.id, ENDED, tenant_id=tenant.id, ip=request.remote_addr, support_session=row.id)
    _rotate_staff_login(staff)
    db.session.commit()
    flash(access.ended_sentence(ENDED_BY_STAFF))
    response = redirect(url_for("staff.organization_page", tenant_id=tenant.id), 303)
    return access.set_cookie(response, None)


@bp.post("/support-session/reveal")
@staff_required
@writes(none="platform staff: a line of the support session's log")
def reveal_support():
    form = RevealForm()
    live = access.live_in_browser()
    if not form.validate_on_submit() or live is None or live.staff_id != current_staff().id:
        abort(400)
    sessions.log(live.id, REVEALED, "POST", form.back.data or "/", 200, form.field.data)
    back = form.back.data or "/"
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/", 303)


@bp.get("/support-sessions")
@staff_required
def support_log():
    rows = db.session.scalars(select(SupportSession).order_by(SupportSession.id.desc()).limit(200)).all()
    tenants = {t.id: t for t in db.session.scalars(select(Tenant))}
    names = {s.id: s.name for s in db.session.scalars(select(Staff))}
    return render_template(
        "staff/support_sessions.html",
        rows=rows,
        tenants=tenants,
        names=names,
        end_names=END_NAMES,
        mode_names=MODE_NAMES,
        now=utcnow(),
    )


@bp.get("/mail")
@staff_required
def delivery_log():
    rows = db.session.scalars(select(PlatformMail).order_by(PlatformMail.id.desc()).limit(200)).all()
    tenants = {t.id: t for t in db.session.scalars(select(Tenant))}
    return render_template("staff/mail.html", rows=rows, tenants=tenants)
