"""The breach register, for platform admins: record an incident, follow its 72-hour countdown, append updates,
notify the affected organizations' admins (once per step), record a decision not to notify, export as CSV."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from blueprints.breaches import register
from blueprints.breaches import services as breaches
from blueprints.breaches.models import NATURES, Breach
from blueprints.shared.cells import write_csv
from blueprints.staff import services
from blueprints.staff.views import bp, current_staff, platform_admin_required
from blueprints.web.audit_guard import writes
from blueprints.web.choices import MultiCheckboxField, choices
from tenants.db import db, utcnow

RECORDED = "breach.recorded"
UPDATED = "breach.updated"
NOTIFIED = "breach.notified"
NOT_NOTIFIED = "breach.not_notified"
COUNT = {"validators": [Optional(), NumberRange(min=0, max=breaches.MAX_COUNT)]}
COUNT_MESSAGE = _l("A whole number, or empty if unknown.")


class BreachForm(FlaskForm):
    title = StringField(_l("Short title"), validators=[Length(max=200)])
    discovered_at = DateTimeLocalField(
        _l("Discovered at"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Give the day and time the incident was discovered."))],
    )
    zone = SelectField(_l("Time zone of that time"))
    nature = MultiCheckboxField(_l("Nature"), choices=choices((n, n) for n in NATURES))
    data_categories = TextAreaField(_l("Categories of data concerned"))
    people_count = IntegerField(_l("Approximate number of people"), **COUNT)
    records_count = IntegerField(_l("Approximate number of records"), **COUNT)
    all_organizations = BooleanField(_l("Every organization (all those existing now)"))
    organizations = TextAreaField(
        _l("Organizations affected"),
        description=_l(
            "Their addresses from the directory (acme for /acme/), one per line or separated by commas."
        ),
    )
    consequences = TextAreaField(_l("Likely consequences"))
    measures_taken = TextAreaField(_l("Measures taken"))
    measures_proposed = TextAreaField(_l("Measures proposed, including what organizations can do"))
    contact = TextAreaField(_l("Contact point"))

    def __init__(self, *args, zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone.choices = choices((z, z) for z in dict.fromkeys((zone, "UTC")))
        self.nature.choices = choices(breaches.NATURE_NAMES.items())


class UpdateForm(FlaskForm):
    body = TextAreaField(_l("What was learnt or done since"))
    people_count = IntegerField(_l("Revised number of people (if it changed)"), **COUNT)
    records_count = IntegerField(_l("Revised number of records (if it changed)"), **COUNT)


class NotifyForm(FlaskForm):
    seq = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class NotNotifiedForm(FlaskForm):
    reason = TextAreaField(_l("Why the organizations are not notified"))


def _breach(breach_id: int) -> Breach:
    return db.session.get(Breach, breach_id) or abort(404)


def _count_errors(form) -> None:
    # WTForms's own message for a number out of range or not a number reads like a developer's.
    for name in ("people_count", "records_count"):
        field = getattr(form, name)
        if field.errors:
            field.errors[:] = [str(COUNT_MESSAGE)]


@bp.get("/breaches")
@platform_admin_required
def breaches_register():
    return render_template(
        "staff/breaches.html", entries=register.register(), now=utcnow(), zone=current_staff().timezone
    )


@bp.get("/breaches.csv")
@platform_admin_required
def breaches_export():
    zone = current_staff().timezone
    header = [
        _("Number"),
        _("Title"),
        _("Discovered (UTC)"),
        _("Deadline (UTC)"),
        _("Recorded (UTC)"),
        _("Nature"),
        _("Data concerned"),
        _("People (latest estimate)"),
        _("Records (latest estimate)"),
        _("Organizations"),
        _("Consequences"),
        _("Measures taken"),
        _("Measures proposed"),
        _("Contact point"),
        _("Updates"),
        _("Notified (UTC)"),
        _("Within 72 hours"),
        _("Acknowledged by"),
        _("Not notified because"),
    ]
    stamp = "%Y-%m-%d %H:%M"
    rows = []
    for entry in register.register():
        b = entry.breach
        people, records = breaches.figures(b, breaches.updates_of(b.id))
        countdown = entry.countdown()
        rows.append(
            [
                b.id,
                b.title,
                b.discovered_at.astimezone(UTC).strftime(stamp),
                countdown.deadline.astimezone(UTC).strftime(stamp),
                b.recorded_at.astimezone(UTC).strftime(stamp),
                ", ".join(b.nature),
                b.data_categories,
                people if people is not None else "",
                records if records is not None else "",
                _("all (%(count)d)", count=entry.organizations)
                if b.all_organizations
                else entry.organizations,
                b.consequences,
                b.measures_taken,
                b.measures_proposed,
                b.contact,
                entry.updates,
                entry.notified_at.astimezone(UTC).strftime(stamp) if entry.notified_at else "",
                (_("yes") if countdown.on_time else _("no")) if entry.notified_at else "",
                f"{entry.acknowledged}/{entry.organizations}" if entry.notified_at else "",
                b.not_notified_reason or "",
            ]
        )
    response = current_app.response_class(write_csv(header, rows), mimetype="text/csv")
    day = utcnow().astimezone(ZoneInfo(zone)).date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="breach-register-{day}.csv"'
    return response


@bp.route("/breaches/new", methods=["GET", "POST"])
@platform_admin_required
@writes(none="platform staff: the breach register is the platform's own record, each step in the staff log")
def new_breach():
    staff = current_staff()
    form = BreachForm(zone=staff.timezone)
    if request.method == "GET":
        form.zone.data = staff.timezone
        here = utcnow().astimezone(ZoneInfo(staff.timezone))
        form.discovered_at.data = here.replace(tzinfo=None, second=0, microsecond=0)
        form.organizations.data = request.args.get("org", "")[:40]
    if form.validate_on_submit():
        try:
            breach = breaches.record(
                staff.id,
                title=form.title.data,
                discovered_at=breaches.local_to_utc(form.discovered_at.data, form.zone.data),
                nature=form.nature.data,
                data_categories=form.data_categories.data,
                people_count=form.people_count.data,
                records_count=form.records_count.data,
                all_organizations=form.all_organizations.data,
                slugs=breaches.parse_slugs(form.organizations.data or ""),
                consequences=form.consequences.data,
                measures_taken=form.measures_taken.data,
                measures_proposed=form.measures_proposed.data,
                contact=form.contact.data,
            )
        except breaches.BreachProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            services.log(staff.id, RECORDED, ip=request.remote_addr, breach=breach.id)
            db.session.commit()
            flash(_("Recorded. Notify the organizations before the deadline, or record why not."), "success")
            return redirect(url_for("staff.breach", breach_id=breach.id), 303)
    _count_errors(form)
    return render_template("staff/breach_new.html", form=form), 422 if form.errors else 200


def _breach_page(breach: Breach, status: int = 200, **forms):
    updates = breaches.updates_of(breach.id)
    people, records = breaches.figures(breach, updates)
    first = breaches.notified_at(breach.id)
    return (
        render_template(
            "staff/breach.html",
            breach=breach,
            updates=updates,
            steps=[(breaches.INITIAL, _("The incident"))]
            + [(u.seq, _("Update no. %(seq)d", seq=u.seq)) for u in updates],
            natures=breaches.NATURE_NAMES,
            people=people,
            records=records,
            countdown=breaches.countdown(breach, first),
            organizations=breaches.organizations_of(breach.id),
            notices=register.notices_of(breach.id),
            progress=register.progress(breach.id),
            zone=current_staff().timezone,
            update_form=forms.get("update_form") or UpdateForm(),
            notify_form=NotifyForm(),
            not_notified_form=forms.get("not_notified_form") or NotNotifiedForm(),
            notify_problem=forms.get("notify_problem"),
        ),
        status,
    )


@bp.get("/breaches/<int:breach_id>")
@platform_admin_required
def breach(breach_id: int):
    return _breach_page(_breach(breach_id))


@bp.post("/breaches/<int:breach_id>/updates")
@platform_admin_required
@writes(none="platform staff: an update appended to the breach register")
def breach_update(breach_id: int):
    breach = _breach(breach_id)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            update = breaches.add_update(
                breach,
                current_staff().id,
                body=form.body.data,
                people_count=form.people_count.data,
                records_count=form.records_count.data,
            )
        except breaches.BreachProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            services.log(
                current_staff().id, UPDATED, ip=request.remote_addr, breach=breach.id, update=update.seq
            )
            db.session.commit()
            flash(_("Update no. %(seq)d appended.", seq=update.seq), "success")
            return redirect(url_for("staff.breach", breach_id=breach.id, _anchor=f"update-{update.seq}"), 303)
    _count_errors(form)
    return _breach_page(breach, 422, update_form=form)


@bp.post("/breaches/<int:breach_id>/notify")
@platform_admin_required
@writes(none="platform staff: the notices of the breach register, emailed by the messaging jobs")
def notify_breach(breach_id: int):
    breach = _breach(breach_id)
    form = NotifyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        notices = breaches.notify(breach, form.seq.data, current_staff().id)
    except breaches.BreachProblem as problem:
        db.session.rollback()
        return _breach_page(breach, 422, notify_problem=str(problem))
    services.log(
        current_staff().id,
        NOTIFIED,
        ip=request.remote_addr,
        breach=breach.id,
        step=form.seq.data,
        organizations=len(notices),
    )
    db.session.commit()
    flash(
        ngettext(
            "The admins of %(num)d organization are being emailed; the table below follows it.",
            "The admins of %(num)d organizations are being emailed; the table below follows each one.",
            len(notices),
        ),
        "success",
    )
    return redirect(url_for("staff.breach", breach_id=breach.id, _anchor="notices"), 303)


@bp.post("/breaches/<int:breach_id>/not-notified")
@platform_admin_required
@writes(none="platform staff: the decision not to notify, kept in the breach register")
def breach_not_notified(breach_id: int):
    breach = _breach(breach_id)
    form = NotNotifiedForm()
    if form.validate_on_submit():
        try:
            breaches.decide_not_to_notify(breach, current_staff().id, form.reason.data)
        except breaches.BreachProblem as problem:
            db.session.rollback()
            form.reason.errors.append(str(problem))
        else:
            services.log(current_staff().id, NOT_NOTIFIED, ip=request.remote_addr, breach=breach.id)
            db.session.commit()
            flash(_("Recorded: the incident stays in the register with the reason."), "success")
            return redirect(url_for("staff.breach", breach_id=breach.id), 303)
    return _breach_page(breach, 422, not_notified_form=form)
