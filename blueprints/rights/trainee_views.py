"""A trainee's own data and rights, from their personal sign-in link or the 7-day data link sent to them (the
token is the credential, as on the signing page): everything the organization holds about them, their requests
and the answers, a new request, withdrawing their consent to text messages, and a copy of their data that only
this page downloads, for 7 days."""

from __future__ import annotations

import io
from functools import wraps
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, make_response, redirect, render_template, send_file, url_for
from flask_babel import gettext as _

from blueprints.participants import services as participants
from blueprints.participants.models import Participant
from blueprints.privacy.measurement import never_measured
from blueprints.rights import export, holdings, links, services
from blueprints.rights.views import OwnRequestForm
from blueprints.signing import signin_links
from blueprints.signing.models import TRAINEE
from blueprints.signing.services import LinkProblem
from blueprints.signing.views import _link_problem, _trainee_actor, _trainee_headers
from blueprints.tasks.models import DONE, Task
from blueprints.web import csrf
from blueprints.web.audit_guard import writes
from tenants import current_tenant, refine_scope
from tenants.db import db, utcnow
from tenants.retention import TASK_FILES
from tenants.storage import storage

bp = Blueprint("my_data", __name__, url_prefix="/<org>/sign/<token>/my-data")


class DataLinkExpired(LinkProblem):
    """A 7-day data link past its week: a new one is asked for on the organization's form."""


def _problem(problem: LinkProblem, token: str):
    if isinstance(problem, DataLinkExpired):
        page = render_template("rights/link_expired.html")
        return _trainee_headers(make_response(page, 410))
    return _link_problem(problem, token)


def _holder(token: str) -> Participant:
    """The person a token opens this page for: their sign-in link, or the 7-day data link sent to them."""
    try:
        link = signin_links.resolve_link(token, TRAINEE, tenant=current_tenant())
        participant = db.session.get(Participant, link.participant_id)
    except LinkProblem as problem:
        if problem.status != 404:
            raise
        try:
            participant = links.read_data_token(current_tenant(), token)
        except links.Expired:
            raise DataLinkExpired(410, _("This link has expired: ask for a new one.")) from None
        if participant is None:
            raise
    refine_scope(language=participant.language)
    return participant


def _for_holder(view):
    """The view, given the person the token opens the page for; the link's problem page otherwise."""

    @wraps(view)
    def wrapped(token: str, **kwargs):
        try:
            participant = _holder(token)
        except LinkProblem as problem:
            return _problem(problem, token)
        return view(token, participant, **kwargs)

    return wrapped


def _page(token: str, participant: Participant, form: OwnRequestForm, status: int = 200):
    response = make_response(
        render_template(
            "rights/trainee.html",
            token=token,
            held=holdings.of_participant(participant),
            exports=[t for t in holdings.exports_of(participant.id) if _downloadable(t) or not t.finished],
            form=form,
            kinds=services.KIND_NAMES,
        ),
        status,
    )
    return _trainee_headers(response)


def _today():
    return utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()


@bp.get("/")
@never_measured
@_for_holder
def page(token: str, participant: Participant):
    return _page(token, participant, OwnRequestForm(formdata=None))


@bp.post("/")
@never_measured
@csrf.exempt  # the unguessable token in the URL is the credential; no cookie exists to forge a request with
@writes(services.RECEIVED_ACTION)
@_for_holder
def ask(token: str, participant: Participant):
    form = OwnRequestForm(meta={"csrf": False})
    if form.validate():
        try:
            services.receive(
                _trainee_actor(participant),
                kind=form.kind.data,
                person=services.find_person(participant_id=participant.id),
                message=form.message.data,
                today=_today(),
            )
        except services.RightsProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            return _trainee_headers(redirect(url_for("my_data.page", token=token, done="asked"), 303))
    return _page(token, participant, form, 422)


@bp.post("/sms-consent")
@never_measured
@csrf.exempt  # as above: the token is the credential
@writes("participant.sms_consent_withdrawn")
@_for_holder
def withdraw_sms(token: str, participant: Participant):
    participants.withdraw_sms_consent(participant, _trainee_actor(participant))
    db.session.commit()
    return _trainee_headers(redirect(url_for("my_data.page", token=token, done="sms"), 303))


def _downloadable(task) -> bool:
    """Done, its file still kept, and made less than 7 days ago."""
    return (
        task.status == DONE
        and bool((task.result or {}).get("blob"))
        and task.finished_at is not None
        and utcnow() - task.finished_at <= TASK_FILES
    )


@bp.post("/export")
@never_measured
@csrf.exempt  # as above: the token is the credential
@writes("participant.data_exported")
@_for_holder
def ask_export(token: str, participant: Participant):
    export.start(participant, _trainee_actor(participant), tenant=current_tenant(), user_id=None)
    db.session.commit()
    return _trainee_headers(redirect(url_for("my_data.page", token=token, done="export"), 303))


@bp.get("/exports/<int:task_id>")
@never_measured
@_for_holder
def download(token: str, participant: Participant, task_id: int):
    """The person's export, through their own link only, for 7 days."""
    task = db.session.get(Task, task_id)
    if task is None or holdings.exported_person(task) != participant.id:
        abort(404)
    found = storage().get(task.result["blob"]) if _downloadable(task) else None
    if found is None:
        page = render_template("rights/export_gone.html", token=token)
        return _trainee_headers(make_response(page, 410))
    meta, data = found
    response = send_file(
        io.BytesIO(data), mimetype=meta.content_type, as_attachment=True, download_name=meta.filename
    )
    return _trainee_headers(response)
