"""The support inbox: requests by state and handler, the thread, a reply (emailed and shown in the app),
taking a request (its handler gets 7 days of read access, unless the organization turned support access off),
closing it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length

from blueprints.accounts.models import organization
from blueprints.staff import services
from blueprints.staff.models import Staff
from blueprints.staff.views import bp, current_staff, staff_required
from blueprints.support import requests
from blueprints.support import services as support
from blueprints.support.models import CLOSED, NEW, OFF, READ, WAITING, SupportRequest
from blueprints.web.actor import request_origin
from blueprints.web.audit_guard import writes
from jobs import MESSAGING, enqueue
from tenants import Actor, find_tenant, tenant_scope
from tenants.db import db
from tenants.models import Tenant
from tenants.scope import STAFF

STATE_NAMES = {NEW: _l("New"), WAITING: _l("Waiting for the user"), CLOSED: _l("Closed")}


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply"), validators=[Length(max=5000)])


class ConfirmForm(FlaskForm):
    pass


def _request(request_id: int) -> SupportRequest:
    return db.session.get(SupportRequest, request_id) or abort(404)


@bp.get("/requests")
@staff_required
def requests_inbox():
    state = request.args.get("state") or None
    mine = request.args.get("mine") == "1"
    page = request.args.get("page", 1, type=int) or 1
    rows, total = requests.inbox(state, current_staff().id if mine else None, page)
    return render_template(
        "staff/requests.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // requests.PAGE_SIZE)),
        state=state,
        mine=mine,
        counts=requests.counts(),
        state_names=STATE_NAMES,
        tenants={t.id: t for t in db.session.scalars(select(Tenant))},
        names={s.id: s.name for s in db.session.scalars(select(Staff))},
    )


def _page(row: SupportRequest, form: ReplyForm | None = None, status: int = 200):
    tenant = db.session.get(Tenant, row.tenant_id)
    return (
        render_template(
            "staff/request.html",
            row=row,
            thread=requests.thread(row),
            form=form or ReplyForm(),
            confirm=ConfirmForm(),
            tenant=tenant,
            state_names=STATE_NAMES,
            names={s.id: s.name for s in db.session.scalars(select(Staff))},
        ),
        status,
    )


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@staff_required
@writes(none="platform staff: a reply in a support request, the platform's record; its email is logged")
def support_request(request_id: int):
    row = _request(request_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _page(row, form if form.is_submitted() else None, 422 if form.is_submitted() else 200)
    try:
        message = requests.reply(row, current_staff(), form.body.data)
    except requests.RequestProblem as problem:
        db.session.rollback()
        row = _request(request_id)
        form.body.errors.append(str(problem))
        return _page(row, form, 422)
    enqueue("jobs.platform_mail.send_support_reply", message.id, queue=MESSAGING)
    db.session.commit()
    flash(_("Reply sent: the user gets it by email and in the app."), "success")
    return redirect(url_for("staff.support_request", request_id=row.id), 303)


@bp.post("/requests/<int:request_id>/take")
@staff_required
@writes(none="platform staff: the request's handler; the organization's grant is audited in the organization")
def take_request(request_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    staff = current_staff()
    row = _request(request_id)
    row.assigned_staff_id = staff.id
    tenant = find_tenant(tenant_id=row.tenant_id)
    granted = False
    if tenant is not None and row.state != CLOSED:
        with tenant_scope(tenant):
            org = organization()
            if org.support_access != OFF:
                actor = Actor(kind=STAFF, label=f"staff#{staff.id}", staff_id=staff.id, **request_origin())
                grant = support.grant(
                    org,
                    actor,
                    hours=requests.GRANT_HOURS,
                    scope=READ,
                    note=_("Support request #%(number)d: %(subject)s", number=row.id, subject=row.subject),
                    staff_id=staff.id,
                    support_request_id=row.id,
                )
                db.session.commit()
                row.grant_id, granted = grant.id, True
    services.log(
        staff.id, "support_request.taken", tenant_id=row.tenant_id, ip=request.remote_addr, request=row.id
    )
    db.session.commit()
    flash(
        _("You handle this request, with read access to the organization for 7 days.")
        if granted
        else _("You handle this request. The organization does not allow support access: answer from here."),
        "success",
    )
    return redirect(url_for("staff.support_request", request_id=row.id), 303)


@bp.post("/requests/<int:request_id>/close")
@staff_required
@writes(none="platform staff: the request's state")
def close_request(request_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = _request(request_id)
    requests.close(row)
    services.log(
        current_staff().id,
        "support_request.closed",
        tenant_id=row.tenant_id,
        ip=request.remote_addr,
        request=row.id,
    )
    db.session.commit()
    flash(_("Request closed."), "success")
    return redirect(url_for("staff.requests_inbox"), 303)


@bp.get("/requests/<int:request_id>/screenshots/<int:message_id>")
@staff_required
def request_screenshot(request_id: int, message_id: int):
    row = _request(request_id)
    message = next((m for m in requests.thread(row) if m.id == message_id and m.screenshot), None)
    if message is None:
        abort(404)
    return message.screenshot, 200, {"Content-Type": message.screenshot_type, "Cache-Control": "private"}
