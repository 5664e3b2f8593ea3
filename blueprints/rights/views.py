"""Personal-data requests in the organization's app: the admins' inbox (deadlines, a request's timeline, extend
once, answer), a request received by letter or phone entered by hand from the person's page, and every user's
own requests from their account."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from blueprints.accounts import throttle
from blueprints.accounts.auth import admin_required
from blueprints.participants.models import Participant
from blueprints.rights import export, holdings, services
from blueprints.rights.models import ANSWERED, BY_HAND, KINDS, OPEN, REFUSED, RightsRequest
from blueprints.web import csrf
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants import current_tenant
from tenants.db import db, utcnow

bp = Blueprint("rights", __name__, url_prefix="/<org>/rights")


class OwnRequestForm(FlaskForm):
    kind = RadioField(_l("What do you ask for?"), choices=choices((k, k) for k in KINDS))
    message = TextAreaField(_l("Your message (what to correct, why you object…)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(services.KIND_NAMES.items())


class EntryForm(OwnRequestForm):
    participant_id = HiddenField()
    user_id = HiddenField()
    kind = SelectField(_l("What the person asks for"), choices=choices((k, k) for k in KINDS))
    channel = SelectField(_l("How the request came"), choices=choices((c, c) for c in BY_HAND))
    received_on = DateField(
        _l("Received on"), validators=[InputRequired(_l("Give the day it was received."))]
    )
    message = TextAreaField(_l("What the person wrote or said"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices((c, services.CHANNEL_NAMES[c]) for c in BY_HAND)


class ExtendForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(_l("Why more time is needed (the person is told)"))


class AnswerForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    outcome = RadioField(
        _l("Outcome"),
        choices=choices(((ANSWERED, _l("Carried out")), (REFUSED, _l("Refused")))),
        validators=[Optional()],
    )
    text = TextAreaField(_l("The answer the person receives"))


def _today():
    return utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()


def _request(request_id: int) -> RightsRequest:
    return db.session.get(RightsRequest, request_id) or abort(404)


def _person_of_args() -> services.Person | None:
    try:
        participant = request.values.get("participant_id", request.args.get("participant"), type=int)
        user = request.values.get("user_id", request.args.get("user"), type=int)
        if participant:
            return services.find_person(participant_id=participant)
        if user:
            return services.find_person(user_id=user)
    except services.RightsProblem:
        abort(404)
    return None


@bp.get("/")
@admin_required
def inbox():
    status = request.args.get("status", OPEN)
    rows = services.inbox(status if status != "all" else None)
    return render_template(
        "rights/inbox.html",
        rows=[(r, services.person_of(r)) for r in rows],
        status=status,
        today=_today(),
        kinds=services.KIND_NAMES,
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
@writes(services.RECEIVED_ACTION)
def new():
    person = _person_of_args()
    form = EntryForm()
    if person is None:
        return render_template("rights/new.html", form=None, person=None)
    if request.method == "GET":
        form.received_on.data = _today()
    if form.validate_on_submit():
        try:
            made = services.receive(
                request_actor(),
                kind=form.kind.data,
                person=person,
                message=form.message.data,
                channel=form.channel.data,
                received_on=form.received_on.data,
                today=_today(),
            )
        except services.RightsProblem as problem:
            db.session.rollback()
            getattr(form, problem.field, form.message).errors.append(str(problem))
        else:
            db.session.commit()
            flash(_("Recorded: to answer by %(due)s.", due=made.due_on.strftime("%d/%m/%Y")), "success")
            return redirect(url_for("rights.show", request_id=made.id), 303)
    return render_template("rights/new.html", form=form, person=person), 422 if form.errors else 200


def _page(row: RightsRequest, status: int = 200, **forms):
    extend_form = forms.get("extend_form") or ExtendForm(formdata=None)
    answer_form = forms.get("answer_form") or AnswerForm(formdata=None, outcome=ANSWERED)
    extend_form.version.data = answer_form.version.data = row.version
    return (
        render_template(
            "rights/show.html",
            row=row,
            person=services.person_of(row),
            timeline=services.timeline(row),
            today=_today(),
            kinds=services.KIND_NAMES,
            channels=services.CHANNEL_NAMES,
            extend_form=extend_form,
            answer_form=answer_form,
            problem=forms.get("problem"),
        ),
        status,
    )


@bp.get("/<int:request_id>")
@admin_required
def show(request_id: int):
    return _page(_request(request_id))


def _change(request_id: int, form, name: str, change):
    row = _request(request_id)
    if not form.validate_on_submit():
        return _page(row, 422, problem=_("Something is missing: read the request again below."))
    try:
        change(row)
        db.session.commit()
    except services.RightsProblem as problem:
        db.session.rollback()
        if problem.field == "version":
            return _page(db.session.get(RightsRequest, request_id), 409, problem=str(problem))
        getattr(form, problem.field).errors.append(str(problem))
        # The extension form is gone once extended or late: the message goes above the request then.
        shown = name != "extend_form" or (row.extended_due_on is None and _today() <= row.due_on)
        return _page(row, 422, problem=None if shown else str(problem), **{name: form})
    except StaleDataError:  # the other admin's change committed between our read and our write
        db.session.rollback()
        return _page(
            db.session.get(RightsRequest, request_id),
            409,
            problem=_("Another admin changed this request meanwhile: read it again below."),
        )
    return None


@bp.post("/<int:request_id>/extend")
@admin_required
@writes(services.EXTENDED_ACTION)
def extend(request_id: int):
    form = ExtendForm()
    refused = _change(
        request_id,
        form,
        "extend_form",
        lambda row: services.extend(
            row,
            request_actor(),
            reason=form.reason.data,
            version=form.version.data,
            tenant=current_tenant(),
            today=_today(),
        ),
    )
    if refused is not None:
        return refused
    flash(_("Extended: the person is told the new date and the reason."), "success")
    return redirect(url_for("rights.show", request_id=request_id), 303)


@bp.post("/<int:request_id>/answer")
@admin_required
@writes(services.ANSWERED_ACTION, services.REFUSED_ACTION)
def answer(request_id: int):
    form = AnswerForm()
    refused = _change(
        request_id,
        form,
        "answer_form",
        lambda row: services.answer(
            row,
            request_actor(),
            outcome=form.outcome.data,
            text=form.text.data,
            version=form.version.data,
            tenant=current_tenant(),
        ),
    )
    if refused is not None:
        return refused
    flash(_("Answered: the person is sent the answer."), "success")
    return redirect(url_for("rights.show", request_id=request_id), 303)


@bp.route("/mine", methods=["GET", "POST"])
@login_required
@writes(services.RECEIVED_ACTION)
def mine():
    """A user's own requests about their data, and a new one."""
    person = services.find_person(user_id=current_user.id)
    form = OwnRequestForm()
    if form.validate_on_submit():
        try:
            services.receive(
                request_actor(), kind=form.kind.data, person=person, message=form.message.data, today=_today()
            )
        except services.RightsProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            db.session.commit()
            flash(_("Sent to your organization's administrators: they answer within a month."), "success")
            return redirect(url_for("rights.mine"), 303)
    return render_template(
        "rights/mine.html",
        form=form,
        rows=services.of_person(person),
        kinds=services.KIND_NAMES,
        held=holdings.of_user(current_user, current_tenant().id),
        tasks=_own_exports(),
        export_form=FlaskForm(formdata=None),
    ), 422 if form.errors else 200


def _own_exports() -> list:
    from sqlalchemy import select

    from blueprints.tasks.models import Task

    return list(
        db.session.scalars(
            select(Task)
            .where(Task.kind == export.USER_EXPORT_KIND, Task.created_by_user_id == current_user.id)
            .order_by(Task.id.desc())
            .limit(3)
        )
    )


@bp.post("/mine/export")
@login_required
@writes("user.data_exported")
def export_mine():
    if not FlaskForm().validate_on_submit():
        abort(400)
    export.start_user(current_user, request_actor(), tenant=current_tenant())
    db.session.commit()
    return redirect(url_for("rights.mine", _anchor="copy"), 303)


@bp.route("/participants/<int:participant_id>/export", methods=["GET", "POST"])
@admin_required
@writes("participant.data_exported")
def export_participant(participant_id: int):
    """A person's data as a ZIP (JSON, CSV, signatures, documents), made by a job: the exports of the week."""
    participant = db.session.get(Participant, participant_id) or abort(404)
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        export.start(participant, request_actor(), tenant=current_tenant(), user_id=current_user.id)
        db.session.commit()
        return redirect(url_for("rights.export_participant", participant_id=participant.id), 303)
    return render_template(
        "rights/export.html",
        participant=participant,
        tasks=holdings.exports_of(participant.id),
        form=FlaskForm(),
    )


class LinkForm(FlaskForm):
    contact = StringField(_l("Your email address or mobile number, as the organization has it"))


@bp.route("/my-link", methods=["GET", "POST"])
@csrf.exempt  # answers the same whatever is posted; it sends a link only to the address or phone on file
@writes("participant.data_link_sent")
def my_link():
    """For a trainee without a working link: a 7-day link to their data page, sent to what is on file."""
    form = LinkForm(meta={"csrf": False})
    if request.method == "POST":
        given = (form.contact.data or "").strip()[:254]
        ip = request.remote_addr or "?"
        subject = f"{current_tenant().slug}:{given.lower()}"
        wait = throttle.blocked(throttle.RESET_ACCOUNT, subject) or throttle.blocked(throttle.RESET_IP, ip)
        if not wait and given:
            throttle.hit(throttle.RESET_ACCOUNT, subject)
            throttle.hit(throttle.RESET_IP, ip)
            services.send_data_link(given, request_actor(), tenant=current_tenant())
            db.session.commit()
        # The same page whether it matched, did not, or was throttled.
        return render_template("rights/link_sent.html")
    return render_template("rights/my_link.html", form=form)
