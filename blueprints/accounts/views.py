from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.accounts import logins, services, throttle
from blueprints.accounts.auth import admin_required, sign_in, sign_out
from blueprints.accounts.forms import (
    ChangePasswordForm,
    EmailForm,
    LoginForm,
    ProfileForm,
    SetPasswordForm,
    UserEditForm,
    UserInviteForm,
)
from blueprints.accounts.models import User
from blueprints.accounts.services import AccountError
from blueprints.support import requests as support_requests
from blueprints.web.actor import request_actor, request_origin
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import render
from blueprints.web.redirects import redirect_or_hx, safe_next
from jobs import waiting_for_service
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("accounts", __name__, url_prefix="/<org>")


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("today.index"), within=f"/{current_tenant().slug}/")


@bp.route("/login", methods=["GET", "POST"])
@writes("user.login")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        account = f"{current_tenant().slug}:{services.normalize_email(form.email.data)}"
        ip = request.remote_addr or "?"
        wait = throttle.blocked(throttle.LOGIN_ACCOUNT, account) or throttle.blocked(throttle.LOGIN_IP, ip)
        if wait:
            raise throttle.too_many(wait)
        throttle.hit(throttle.LOGIN_IP, ip)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None or not user.active:
            throttle.hit(throttle.LOGIN_ACCOUNT, account)
            form.password.errors.append(_("Email or password is not correct."))
        elif user.email_verified_at is None:
            form.email.errors.append(_("Confirm your email address first: follow the link we sent you."))
        else:
            throttle.clear(throttle.LOGIN_ACCOUNT, account)
            sign_in(user, remember=form.remember.data, origin=request_origin())
            services.record_login(user, request_actor(), form.remember.data)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), 303)
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
@writes("user.logout")
def logout():
    if current_user.is_authenticated:
        from blueprints.audit.services import record

        record(request_actor(), "user.logout", current_user)
    sign_out()
    db.session.commit()
    return redirect(url_for("accounts.login"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@writes("user.password_reset_requested")
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        account = f"{current_tenant().slug}:{services.normalize_email(form.email.data)}"
        ip = request.remote_addr or "?"
        wait = throttle.blocked(throttle.RESET_ACCOUNT, account) or throttle.blocked(throttle.RESET_IP, ip)
        if wait:
            raise throttle.too_many(wait)
        throttle.hit(throttle.RESET_ACCOUNT, account)
        throttle.hit(throttle.RESET_IP, ip)
        services.request_reset(form.email.data, request_actor(), tenant=current_tenant())
        db.session.commit()
        # The same answer whether or not the address has an account.
        return render_template("accounts/link_sent.html", email=form.email.data)
    return render_template("accounts/forgot.html", form=form), 200 if not form.errors else 422


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@writes("user.password_reset")
def reset_password(token: str):
    try:
        services.check_token(token, services.RESET)
    except AccountError as error:
        return render_template("accounts/link_problem.html", problem=str(error)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data, request_actor(), tenant_id=current_tenant().id)
        except AccountError as error:
            form.password.errors.append(str(error))
        else:
            sign_out()
            db.session.commit()
            flash(_("Your password has been changed. You can log in with it now."), "success")
            return redirect(url_for("accounts.login"), 303)
    return render_template("accounts/reset.html", form=form), 200 if not form.errors else 422


@bp.route("/verify/<token>", methods=["GET", "POST"])
@writes("user.email_verified")
def verify(token: str):
    """The emailed link opens a page whose button confirms: a mail scanner that follows it confirms nothing."""
    try:
        if request.method == "GET":
            services.check_token(token, services.VERIFY)  # read only: an expired link says so at once
            return render_template("accounts/verify.html")
        services.verify_email(token, request_actor(), tenant_id=current_tenant().id)
    except AccountError as error:
        return render_template("accounts/link_problem.html", problem=str(error)), 410
    db.session.commit()
    flash(_("Your email address is confirmed. You can log in."), "success")
    return redirect(url_for("accounts.login"), 303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@writes("user.invitation_accepted")
def accept_invitation(token: str):
    try:
        invitation = services.check_token(token, services.INVITE)
    except AccountError as error:
        return render_template("accounts/link_problem.html", problem=str(error)), 410
    invitee = db.session.get(User, invitation.user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(
                token, form.password.data, request_actor(), tenant_id=current_tenant().id
            )
        except AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Welcome! Your password is set: log in to start."), "success")
            return redirect(url_for("accounts.login"), 303)
    return render_template(
        "accounts/invitation.html", form=form, invitee=invitee
    ), 200 if not form.errors else 422


@bp.route("/account", methods=["GET", "POST"])
@login_required
@writes("user.password_changed", "user.preferences_changed")
def account():
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = ChangePasswordForm(prefix="password")
    if request.method == "POST" and "profile-language" in request.form and profile.validate():
        services.set_language(current_user, profile.language.data, request_actor())
        db.session.commit()
        flash(_("Your preferences are saved."), "success")
        return redirect(url_for("accounts.account"), 303)
    if request.method == "POST" and "password-password" in request.form and password.validate():
        try:
            services.change_password(
                current_user,
                password.current_password.data,
                password.password.data,
                request_actor(),
                keep_login=current_user.login_id,
            )
        except services.WrongPassword as error:
            password.current_password.errors.append(str(error))
        except AccountError as error:
            password.password.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Your password has been changed. Your other sessions are signed out."), "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template(
        "accounts/account.html",
        profile=profile,
        password=password,
        logins=logins.active_logins(current_user.id),
        this_login=current_user.login_id,
        support_requests=support_requests.of_user(current_tenant().id, current_user.id)[:5],
    )


@bp.post("/account/logins/<int:login_id>/end")
@login_required
@writes("user.login_ended")
def end_login(login_id: int):
    if login_id == current_user.login_id:
        abort(400)  # this browser signs out with "Log out"
    if services.end_login(current_user, login_id, request_actor()):
        flash(_("That session is signed out."), "success")
    db.session.commit()
    return redirect_or_hx(url_for("accounts.account"))


@bp.post("/account/logins/end-others")
@login_required
@writes("user.other_logins_ended")
def end_other_logins():
    ended = services.end_other_logins(current_user, current_user.login_id, request_actor())
    db.session.commit()
    flash(
        ngettext("%(num)d other session signed out.", "%(num)d other sessions signed out.", ended), "success"
    )
    return redirect_or_hx(url_for("accounts.account"))


@bp.get("/users")
@admin_required
def users():
    people = db.session.scalars(select(User).order_by(User.last_name, User.first_name)).all()
    return render_template("accounts/users.html", users=people, form=UserInviteForm())


@bp.post("/users")
@admin_required
@writes("user.invited")
def invite():
    form = UserInviteForm()
    if form.validate_on_submit():
        try:
            user = services.invite_user(
                email=form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                role=form.role.data,
                language=form.language.data,
                inviter=current_user,
                actor=request_actor(),
                tenant=current_tenant(),
            )
        except AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            if waiting_for_service():
                flash(
                    _(
                        "Invitation to %(email)s queued: it goes out as soon as the sending service is back.",
                        email=user.email,
                    ),
                    "success",
                )
            else:
                flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect_or_hx(url_for("accounts.users"))
    people = db.session.scalars(select(User).order_by(User.last_name, User.first_name)).all()
    return render("accounts/users.html", "accounts/_invite_form.html", status=422, users=people, form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
@writes("user.activated", "user.deactivated", "user.role_changed")
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        try:
            services.change_role(user, form.role.data, request_actor())
            services.set_active(user, form.active.data, request_actor())
        except AccountError as error:
            db.session.rollback()
            form.role.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("accounts.users"), 303)
    return render_template("accounts/user_edit.html", user=user, form=form), 200 if not form.errors else 422
