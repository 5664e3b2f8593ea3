"""The organization's reports, for admins: attendance over a period (by week, month, training, facilitator,
funder, with the sessions behind), the anomalies of the period, and the funders' completion figures; each as
CSV and XLSX."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import User, organization
from blueprints.participants.models import FUNDERS
from blueprints.tracking import anomalies, exports, reports
from blueprints.tracking.figures import ABSENCE, DROPOUT, FULL, INTERRUPTION, PRO_RATA, QUARTER
from blueprints.tracking.views import bp
from blueprints.trainings.models import Training, TrainingSession
from tenants import current_tenant
from tenants.db import db, utcnow

REASONS = {
    ABSENCE: _l("trainee's absences"),
    DROPOUT: _l("trainee dropped out"),
    INTERRUPTION: _l("interrupted by the organization"),
}
BANDS = {
    FULL: _l("full price"),
    PRO_RATA: _l("pro rata of the hours done"),
    QUARTER: _l("25 % of the price"),
}
LONGEST_DAYS = 732  # two years on one page at most


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    return int(value) if (value or "").isdigit() else None


def filters_of(args) -> tuple[reports.Filters, list[str]]:
    """The report's filters from the query string: the last 12 months by default; a bad value is named and
    replaced by the default rather than failing the page."""
    today = utcnow().astimezone(ZoneInfo(current_tenant().timezone)).date()
    problems = []
    end = _day(args.get("end"))
    start = _day(args.get("start"))
    if args.get("end") and end is None or args.get("start") and start is None:
        problems.append(_("A date was not understood: write it as 2026-01-31."))
    end = end or today
    start = start or end.replace(year=end.year - 1) + timedelta(days=1)
    if start > end:
        problems.append(_("The period starts after it ends: the dates were swapped."))
        start, end = end, start
    if (end - start).days > LONGEST_DAYS:
        problems.append(_("At most two years at once: the period was shortened."))
        start = end - timedelta(days=LONGEST_DAYS)
    funder = args.get("funder") or None
    if funder and funder not in FUNDERS:
        problems.append(_("Unknown funder: every funder is shown."))
        funder = None
    return (
        reports.Filters(
            start=start,
            end=end,
            training_id=_number(args.get("training")),
            facilitator_id=_number(args.get("facilitator")),
            funder=funder,
        ),
        problems,
    )


def _choices():
    trainings = db.session.execute(select(Training.id, Training.title).order_by(Training.title)).all()
    facilitators = db.session.execute(
        select(User.id, User.first_name, User.last_name).order_by(User.last_name, User.first_name)
    ).all()
    return trainings, facilitators


def _query(filters: reports.Filters, **changes) -> dict:
    values = {
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "training": filters.training_id,
        "facilitator": filters.facilitator_id,
        "funder": filters.funder,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v}


def _parts(report: reports.Report, filters: reports.Filters) -> list[tuple]:
    """Each breakdown as (id, title, chart kind, rows, chart series), a row being (label, rate, attended, planned, link): the
    link opens the records behind the figure (the report narrowed to it, or the funders' figures)."""
    from flask import url_for

    def narrowed(**changes):
        return url_for("tracking.attendance_report", **_query(filters, **changes)) + "#sessions"

    def week(b):
        return narrowed(start=b.key.isoformat(), end=(b.key + timedelta(days=6)).isoformat())

    def month(b):
        following = (b.key.replace(day=28) + timedelta(days=4)).replace(day=1)
        return narrowed(start=b.key.isoformat(), end=(following - timedelta(days=1)).isoformat())

    def rows(buckets, link, label=lambda b: b.label):
        lines = [(label(b), b.rate, b.attended, b.planned, link(b)) for b in buckets]
        return lines, [(line[0], line[1] or 0) for line in lines]

    from blueprints.participants.services import funder_labels

    labels = funder_labels()
    return [
        ("weeks", _("By week"), "columns", *rows(report.weeks, week, lambda b: b.key.strftime("%d/%m"))),
        ("months", _("By month"), "columns", *rows(report.months, month)),
        ("trainings", _("By training"), "bars", *rows(report.trainings, lambda b: narrowed(training=b.key))),
        (
            "facilitators",
            _("By facilitator"),
            "bars",
            *rows(report.facilitators, lambda b: narrowed(facilitator=b.key)),
        ),
        (
            "funders",
            _("By funder"),
            "bars",
            *rows(
                report.funders,
                lambda b: url_for("tracking.funders_report", **_query(filters, funder=b.key)),
                lambda b: str(labels.get(b.key, b.key)),
            ),
        ),
    ]


@bp.get("/reports")
@admin_required
def attendance_report():
    filters, problems = filters_of(request.args)
    report = reports.organization_report(filters, utcnow())
    trainings, facilitators = _choices()
    return render_template(
        "tracking/report.html",
        report=report,
        parts=_parts(report, filters),
        filters=filters,
        problems=problems,
        trainings=trainings,
        facilitators=facilitators,
        funders=FUNDERS,
        query=lambda **changes: _query(filters, **changes),
    )


@bp.get("/reports/attendance.<any(csv, xlsx):fmt>")
@admin_required
def attendance_report_export(fmt: str):
    filters, _problems = filters_of(request.args)
    report = reports.organization_report(filters, utcnow())
    header = [_("Breakdown"), _("Key"), _("Label"), _("Minutes planned"), _("Minutes attended"), _("Rate")]
    rows = []
    for name, buckets in (
        (_("Week"), report.weeks),
        (_("Month"), report.months),
        (_("Training"), report.trainings),
        (_("Facilitator"), report.facilitators),
        (_("Funder"), report.funders),
    ):
        for b in buckets:
            rows.append([name, str(b.key), b.label, b.planned, b.attended, "" if b.rate is None else b.rate])
    for s in report.sessions:
        rows.append(
            [
                _("Session"),
                str(s.session_id),
                f"{s.title} {s.start_date.isoformat()}",
                s.planned,
                s.attended,
                "" if s.rate is None else s.rate,
            ]
        )
    rows.append(
        [
            _("Total"),
            "",
            "",
            report.total.planned,
            report.total.attended,
            "" if report.total.rate is None else report.total.rate,
        ]
    )
    return exports.respond(f"attendance-{filters.start}-{filters.end}", header, rows, fmt)


def _findings(filters):
    session_ids = reports.sessions_in(filters)
    found = anomalies.of_sessions(session_ids, organization())
    titles = {}
    if session_ids:
        titles = {
            sid: f"{title} · {start.isoformat()}"
            for sid, title, start in db.session.execute(
                select(TrainingSession.id, Training.title, TrainingSession.start_date)
                .join(Training, Training.id == TrainingSession.training_id)
                .where(TrainingSession.id.in_(session_ids))
            )
        }
    return [f for sid in session_ids for f in found[sid]], titles


def _names(findings) -> tuple[dict, dict]:
    from blueprints.participants.models import Participant

    pids = {p for f in findings for p in f.participant_ids}
    uids = {u for f in findings for u in f.user_ids}
    # Both asked whatever the findings: the page sends as many statements for none as for many.
    names = {
        p.id: p.full_name for p in db.session.scalars(select(Participant).where(Participant.id.in_(pids)))
    }
    users = {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(uids)))}
    return names, users


@bp.get("/reports/anomalies")
@admin_required
def anomalies_report():
    filters, problems = filters_of(request.args)
    findings, titles = _findings(filters)
    names, users = _names(findings)
    counts = {}
    for f in findings:
        counts[f.code] = counts.get(f.code, 0) + 1
    return render_template(
        "tracking/anomalies.html",
        filters=filters,
        problems=problems,
        findings=findings,
        counts=counts,
        checks=anomalies.CHECKS,
        session_titles=titles,
        names=names,
        user_names=users,
        show_session=True,
        query=lambda **changes: _query(filters, **changes),
    )


@bp.get("/reports/anomalies.<any(csv, xlsx):fmt>")
@admin_required
def anomalies_report_export(fmt: str):
    filters, _problems = filters_of(request.args)
    findings, titles = _findings(filters)
    names, users = _names(findings)
    header = [
        _("Check"),
        _("Session"),
        _("Half-days"),
        _("Trainees"),
        _("Facilitators"),
        _("Detail"),
        _("Why"),
    ]
    rows = [
        [
            str(f.title),
            titles.get(f.session_id, str(f.session_id)),
            " ".join(str(s) for s in f.slot_ids),
            ", ".join(names.get(p, f"#{p}") for p in f.participant_ids),
            ", ".join(users.get(u, f"#{u}") for u in f.user_ids),
            f.detail,
            str(f.why),
        ]
        for f in findings
    ]
    return exports.respond(f"anomalies-{filters.start}-{filters.end}", header, rows, fmt)


@bp.get("/reports/funders")
@admin_required
def funders_report():
    filters, problems = filters_of(request.args)
    lines = reports.funder_lines(filters, utcnow(), organization())
    return render_template(
        "tracking/funders.html",
        filters=filters,
        problems=problems,
        lines=lines,
        reasons=REASONS,
        bands=BANDS,
        funders=FUNDERS,
        query=lambda **changes: _query(filters, **changes),
    )


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


@bp.get("/reports/funders.<any(csv, xlsx):fmt>")
@admin_required
def funders_report_export(fmt: str):
    filters, _problems = filters_of(request.args)
    lines = reports.funder_lines(filters, utcnow(), organization())
    header = [
        _("Funder"),
        _("File reference"),
        _("Trainee"),
        _("Training"),
        _("Start"),
        _("End"),
        _("Planned hours"),
        _("Attended hours"),
        _("Completion rate"),
        _("Reason for partial completion"),
        _("Force majeure"),
        _("Hours not done"),
        _("CPF payment (estimate)"),
        _("Entry to declare by"),
        _("Exit to declare by"),
    ]
    rows = [
        [
            line.enrollment.funder,
            line.enrollment.funder_reference or "",
            line.participant.full_name,
            line.title,
            line.start_date.isoformat(),
            line.end_date.isoformat(),
            _hours(line.completion.planned_minutes),
            _hours(line.completion.attended_minutes),
            "" if line.completion.rate is None else line.completion.rate,
            str(REASONS[line.completion.reason]) if line.completion.reason else "",
            _("yes") if line.completion.force_majeure else _("no"),
            _hours(line.completion.minutes_not_done),
            str(BANDS[line.completion.band]) if line.completion.band else "",
            line.entry_due.isoformat(),
            line.exit_due.isoformat(),
        ]
        for line in lines
    ]
    return exports.respond(f"funders-{filters.start}-{filters.end}", header, rows, fmt)
