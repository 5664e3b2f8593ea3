"""Writing to Emarge support from the organization's pages: a new request from any page, the user's requests
and their replies under their account, and writing again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from blueprints.support import requests
from blueprints.support.models import SupportRequest
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("support_requests", __name__, url_prefix="/<org>/support")


class RequestForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("What do you need?"))  # checked by the service, which words the message
    screenshot = FileField(_l("Screenshot (optional, PNG or JPEG, 5 MB at most)"))
    page = HiddenField(validators=[Optional(), Length(max=500)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"))
    screenshot = FileField(_l("Screenshot (optional, PNG or JPEG, 5 MB at most)"))


def _screenshot(field) -> bytes | None:
    upload = field.data
    return upload.read(requests.MAX_SCREENSHOT + 1) if upload and getattr(upload, "filename", "") else None


def _own(request_id: int) -> SupportRequest:
    row = db.session.get(SupportRequest, request_id)
    if row is None or row.tenant_id != current_tenant().id or row.user_id != current_user.id:
        abort(404)
    return row


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@writes(none="a support request is the platform's record (support_requests), addressed to Emarge")
def new():
    form = RequestForm()
    if request.method == "GET":
        form.page.data = request.args.get("page", "")[:500]
    if form.validate_on_submit():
        body = (form.body.data or "").strip()
        if body and form.page.data:
            body = f"{body}\n\n— {_('Sent from')} {form.page.data}"
        try:
            row = requests.open_request(
                current_tenant().id,
                current_user,
                form.subject.data,
                body,
                requests.check_screenshot(_screenshot(form.screenshot)),
            )
        except requests.RequestProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            flash(_("Your request is sent. Support answers here and by email."), "success")
            return redirect(url_for("support_requests.show", request_id=row.id), 303)
    status = 422 if form.errors else 200
    return render_template("support/new_request.html", form=form), status


@bp.get("/requests")
@login_required
def index():
    rows = requests.of_user(current_tenant().id, current_user.id)
    return render_template("support/requests.html", rows=rows)


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@login_required
@writes(none="a message of a support request, the platform's record")
def show(request_id: int):
    row = _own(request_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            requests.add_from_user(
                row, form.body.data, requests.check_screenshot(_screenshot(form.screenshot))
            )
        except requests.RequestProblem as problem:
            db.session.rollback()
            row = _own(request_id)
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            flash(_("Sent to support."), "success")
            return redirect(url_for("support_requests.show", request_id=row.id), 303)
    return (
        render_template("support/request.html", row=row, thread=requests.thread(row), form=form),
        422 if form.errors else 200,
    )


@bp.get("/requests/<int:request_id>/screenshots/<int:message_id>")
@login_required
def screenshot(request_id: int, message_id: int):
    row = _own(request_id)
    message = next((m for m in requests.thread(row) if m.id == message_id and m.screenshot), None)
    if message is None:
        abort(404)
    return message.screenshot, 200, {"Content-Type": message.screenshot_type, "Cache-Control": "private"}
