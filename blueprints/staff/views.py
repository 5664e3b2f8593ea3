"""The platform staff's own login (password + TOTP) and their home. The support console builds on it."""

from __future__ import annotations

from functools import wraps

import click
from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import force_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from blueprints.accounts import logins, throttle
from blueprints.accounts.passwords import verify_password
from blueprints.staff import services, totp
from blueprints.staff.models import PLATFORM_ADMIN, ROLES, Staff
from blueprints.web.actor import request_origin
from blueprints.web.audit_guard import writes
from tenants.db import db, utcnow
from tenants.models import ACTIVE, CLOSED, DELETED, DELETION_REQUESTED, SUSPENDED, UNVERIFIED, state_of

bp = Blueprint("staff", __name__, url_prefix="/staff", cli_group="staff")


class StaffLoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(), Length(min=6, max=6)]
    )


SESSION_KEY = "staff_login"

STATE_NAMES = {
    UNVERIFIED: _l("Unverified"),
    ACTIVE: lazy_pgettext("organization", "Active"),
    SUSPENDED: _l("Suspended"),
    CLOSED: _l("Closed"),
    DELETION_REQUESTED: _l("Deletion requested"),
    DELETED: _l("Deleted (left Emarge)"),
}


def _staff_login() -> tuple[int, str] | None:
    try:
        ident, key = str(session.get(SESSION_KEY) or "").split(":", 1)
        return int(ident), key
    except ValueError:
        return None


def current_staff() -> Staff | None:
    """The staff member whose live login record this browser's session is bound to."""
    if "staff" not in g:
        staff = None
        parsed = _staff_login()
        found = logins.find_staff_login(*parsed) if parsed else None
        if found:
            staff = db.session.get(Staff, found)
            if staff is not None and not staff.active:
                staff = None
        g.staff = staff
    return g.staff


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_staff() is None:
            return redirect(url_for("staff.login"))
        return view(*args, **kwargs)

    return wrapped


def platform_admin_required(view):
    """Platform admins only: support staff get a page that says so (403), nobody else learns the page exists."""

    @wraps(view)
    @staff_required
    def wrapped(*args, **kwargs):
        if not current_staff().is_platform_admin:
            return render_template("staff/forbidden.html"), 403
        return view(*args, **kwargs)

    return wrapped


@bp.context_processor
def _staff_pages():
    return {"staff": current_staff()}


@bp.route("/login", methods=["GET", "POST"])
@writes(
    none="platform staff: the login is a record of its own (staff_logins), the spent code step is bookkeeping"
)
def login():
    form = StaffLoginForm()
    if form.validate_on_submit():
        subject = form.email.data.strip().lower()
        wait = throttle.blocked(throttle.STAFF_LOGIN, subject) or throttle.blocked(
            throttle.LOGIN_IP, request.remote_addr or "?"
        )
        if wait:
            raise throttle.too_many(wait)
        throttle.hit(throttle.LOGIN_IP, request.remote_addr or "?")
        staff = db.session.scalars(select(Staff).where(Staff.email == subject)).first()
        password_ok = verify_password(staff.password_hash if staff else None, form.password.data)
        # The code is spent only behind a right password: a wrong guess burns nothing.
        code_ok = bool(staff and staff.active and password_ok) and totp.spend_code(staff, form.code.data)
        if code_ok:
            opened = logins.open_staff_login(staff.id, request_origin())
            session.clear()
            session[SESSION_KEY] = f"{opened.login_id}:{opened.key}"
            staff.last_login_at = utcnow()
            db.session.commit()
            # After the commit: on SQLite a write by another connection in between would make it fail.
            throttle.clear(throttle.STAFF_LOGIN, subject)
            return redirect(url_for("staff.home"), 303)
        db.session.commit()  # nothing was spent; ends the read before the throttle writes (SQLite)
        throttle.hit(throttle.STAFF_LOGIN, subject)
        form.code.errors.append(_("Email, password or code is not correct."))
    return render_template("staff/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@writes(none="platform staff: ends the login record")
def logout():
    parsed = _staff_login()
    if parsed and current_staff() is not None:
        logins.end_staff_login(parsed[0])
        db.session.commit()
    session.pop(SESSION_KEY, None)
    return redirect(url_for("staff.login"), 303)


@bp.get("/")
@staff_required
def home():
    return organizations()


@bp.get("/organizations")
@staff_required
def organizations():
    """The directory: search, state, pages of 50, each organization's figures and support access."""
    from blueprints.staff import directory

    q = request.args.get("q", "")
    state = request.args.get("state") or None
    found = directory.search(q, state, request.args.get("page", 1, type=int) or 1)
    return render_template(
        "staff/home.html",
        found=found,
        q=q,
        state=state,
        state_of=state_of,
        state_names=STATE_NAMES,
    )


@bp.cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default=PLATFORM_ADMIN, show_default=True)
@click.option("--timezone", default="Europe/Paris", show_default=True)
@click.password_option()
def create_staff(email: str, name: str, role: str, timezone: str, password: str):
    """Create a staff account (the first platform admin); prints the TOTP secret to enrol in an authenticator app."""
    with force_locale("en"):  # no request to choose a language from
        try:
            enrolment = services.create_staff(
                email, name=name, role=role, password=password, timezone=timezone
            )
        except services.StaffError as error:
            raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Staff account {enrolment.staff.email} created ({role}).")
    click.echo(f"TOTP secret: {enrolment.secret}")
    click.echo(enrolment.uri)
