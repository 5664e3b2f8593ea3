"""Closing the account and asking for its deletion, for admins (blueprints/settings/closing.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from blueprints.accounts.auth import admin_required
from blueprints.settings import closing, retirement
from blueprints.settings.views import bp
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants import current_tenant
from tenants.db import db
from tenants.retention import END_OF_SERVICE, END_OF_SERVICE_CHOICES_MONTHS


class CloseForm(FlaskForm):
    confirm_close = BooleanField(_l("I understand: the account becomes read-only, for good"))


class DeleteForm(FlaskForm):
    typed = StringField(_l("Type the organization's web address to confirm"))


def _keeping_choices():
    longest = END_OF_SERVICE.amount * 12
    return choices(
        [("", _l("%(num)d years (the longest)", num=END_OF_SERVICE.amount))]
        + [
            (str(m), ngettext("%(num)d month", "%(num)d months", m))
            for m in END_OF_SERVICE_CHOICES_MONTHS
            if m < longest
        ]
    )


class KeepingForm(FlaskForm):
    keep_months = SelectField(_l("Keep the data after the end of service"), choices=_keeping_choices)


class UndoForm(FlaskForm):
    undo = StringField()


def _page(status: int = 200, **forms):
    tenant = current_tenant()
    return (
        render_template(
            "settings/closing.html",
            tenant=tenant,
            due=closing.deletion_due(tenant),
            close_form=forms.get("close_form") or CloseForm(formdata=None),
            delete_form=forms.get("delete_form") or DeleteForm(formdata=None),
            keeping_form=forms.get("keeping_form")
            or KeepingForm(formdata=None, keep_months=str(tenant.keep_months or "")),
            kept_until=retirement.end_of_keeping(tenant),
            undo_form=forms.get("undo_form") or UndoForm(formdata=None),
        ),
        status,
    )


def _apply(form, name: str, change, done: str):
    if form.validate_on_submit():
        try:
            change()
        except closing.ClosingProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("settings.closing_page"), 303)
    return _page(422, **{name: form})


@bp.get("/closing")
@admin_required
def closing_page():
    return _page()


@bp.post("/close")
@admin_required
@writes(closing.CLOSED_ACTION)
def close_account():
    form = CloseForm()
    return _apply(
        form,
        "close_form",
        lambda: closing.close(current_tenant(), request_actor(), confirmed=form.confirm_close.data),
        _("The account is closed: it is read-only. Take your full archive."),
    )


@bp.post("/delete")
@admin_required
@writes(closing.DELETION_ACTION)
def delete_account():
    form = DeleteForm()
    return _apply(
        form,
        "delete_form",
        lambda: closing.request_deletion(current_tenant(), request_actor(), typed=form.typed.data),
        _("Deletion asked for: every admin is emailed, and can undo it for 7 days."),
    )


@bp.post("/keeping")
@admin_required
@writes(closing.KEEPING_ACTION)
def choose_keeping():
    form = KeepingForm()
    return _apply(
        form,
        "keeping_form",
        lambda: closing.choose_keeping(
            current_tenant(),
            request_actor(),
            months=int(form.keep_months.data) if form.keep_months.data else None,
        ),
        _("The period is saved."),
    )


@bp.post("/undo-deletion")
@admin_required
@writes(closing.UNDONE_ACTION)
def undo_deletion():
    form = UndoForm()
    return _apply(
        form,
        "undo_form",
        lambda: closing.undo_deletion(current_tenant(), request_actor()),
        _("The deletion is undone."),
    )
