"""Attendance tracking pages: a session's grid (facilitators of the session and admins), a trainee's
attendance (whoever may see the trainee), and their spreadsheets. The organization's reports are in
reports_views.py, the justifications' admin side in justification_views.py."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.accounts.models import User, organization
from blueprints.tracking import anomalies, exports, justifications, loading
from blueprints.tracking.figures import CELL_STATES
from blueprints.tracking.forms import DecisionForm, JustificationForm
from blueprints.tracking.models import FollowupStep
from blueprints.trainings.access import participant_or_404, session_or_404, sessions_query
from blueprints.trainings.models import TrainingSession
from tenants.db import db, utcnow

bp = Blueprint("tracking", __name__, url_prefix="/<org>")

RISK_REASONS = {
    "unreachable": _l("the threshold can no longer be reached"),
    "streak": _l("unjustified absences in a row"),
    "below": _l("under the threshold so far"),
}
STEP_NAMES = justifications.STEP_LABELS
JUSTIFICATION_STATUS = justifications.STATUS_LABELS
STATE_HEADINGS = {
    "present": _l("Present"),
    "late": _l("Late"),
    "absent": _l("Absent"),
    "excused": _l("Excused"),
    "not_signed": _l("Not signed"),
    "planned": _l("Planned"),
}


def followup_steps(session_id: int) -> list[FollowupStep]:
    return list(
        db.session.scalars(
            select(FollowupStep)
            .where(FollowupStep.session_id == session_id)
            .order_by(FollowupStep.created_at)
        )
    )


def session_page(
    session: TrainingSession, *, justification_form=None, decision_forms=None, status: int = 200
):
    org = organization()
    grid = loading.session_grid(session, org, utcnow())
    findings = anomalies.of_sessions([session.id], org)[session.id]
    user_ids = {uid for f in findings for uid in f.user_ids}
    user_names = {}
    if user_ids:
        user_names = {
            u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))
        }
    decision_forms = decision_forms or {}
    justification_list = sorted(
        (j for row in grid.rows for j in row.justifications.values()),
        key=lambda j: j.submitted_at,
        reverse=True,
    )
    return (
        render_template(
            "tracking/session.html",
            session=session,
            training=session.training,
            grid=grid,
            states=CELL_STATES,
            findings=findings,
            steps=followup_steps(session.id),
            names={row.participant.id: row.participant.full_name for row in grid.rows},
            user_names=user_names,
            slot_times={slot.id: slot.starts_at for slot in grid.slots},
            risk_reasons=RISK_REASONS,
            step_names=STEP_NAMES,
            justification_status=JUSTIFICATION_STATUS,
            justification_list=justification_list,
            justification_form=justification_form or JustificationForm(formdata=None),
            decision_forms={
                j.id: decision_forms.get(j.id) or DecisionForm(formdata=None) for j in justification_list
            },
            open_slots=grid.slots,
            reasons=justifications.REASON_LABELS,
        ),
        status,
    )


@bp.get("/sessions/<int:session_id>/attendance")
@login_required
def session_attendance(session_id: int):
    return session_page(session_or_404(current_user, session_id))


@bp.get("/sessions/<int:session_id>/attendance.<any(csv, xlsx):fmt>")
@login_required
def session_attendance_export(session_id: int, fmt: str):
    session = session_or_404(current_user, session_id)
    grid = loading.session_grid(session, organization(), utcnow())
    header = [_("Trainee")] + [slot.starts_at.isoformat() for slot in grid.slots]
    header += [_("Rate so far"), _("Rate planned"), _("Minutes attended"), _("Minutes planned")]
    rows = [
        [row.participant.full_name]
        + [str(STATE_HEADINGS[state]) for state in row.figures.states]
        + [
            "" if row.figures.rate_past is None else row.figures.rate_past,
            "" if row.figures.rate_planned is None else row.figures.rate_planned,
            row.figures.attended_minutes,
            row.figures.planned_minutes,
        ]
        for row in grid.rows
    ]
    return exports.respond(f"attendance-session-{session.id}", header, rows, fmt)


def _participant_lines(participant_id: int):
    participant = participant_or_404(current_user, participant_id)
    org = organization()
    visible = None
    if not current_user.is_admin:
        visible = sessions_query(current_user).with_only_columns(TrainingSession.id)
    lines = loading.participant_sessions(participant, org, utcnow(), visible=visible)
    threshold = org.attendance_threshold if org is not None else 80
    return participant, lines, loading.overall(lines, threshold)


@bp.get("/participants/<int:participant_id>/attendance")
@login_required
def participant_attendance(participant_id: int):
    participant, lines, total = _participant_lines(participant_id)
    return render_template(
        "tracking/participant.html",
        participant=participant,
        lines=lines,
        total=total,
        states=CELL_STATES,
        justification_status=JUSTIFICATION_STATUS,
        reasons=justifications.REASON_LABELS,
    )


@bp.get("/participants/<int:participant_id>/attendance.<any(csv, xlsx):fmt>")
@login_required
def participant_attendance_export(participant_id: int, fmt: str):
    participant, lines, _total = _participant_lines(participant_id)
    header = [
        _("Session"),
        _("Start"),
        _("End"),
        _("Half-days"),
        _("Signed"),
        _("Rate so far"),
        _("Rate planned"),
    ]
    header += [_("Minutes attended"), _("Minutes planned"), _("Late arrivals"), _("Minutes late")]
    header += [
        _("Early departures"),
        _("Justified absences"),
        _("Unjustified absences"),
        _("Threshold reachable"),
    ]
    rows = []
    for line in lines:
        f = line.figures
        rows.append(
            [
                line.title,
                line.session.start_date.isoformat(),
                line.session.end_date.isoformat(),
                f.planned_slots,
                f.signed_slots,
                "" if f.rate_past is None else f.rate_past,
                "" if f.rate_planned is None else f.rate_planned,
                f.attended_minutes,
                f.planned_minutes,
                f.late_count,
                f.late_minutes,
                f.early_count,
                f.justified,
                f.unjustified,
                _("yes") if f.reachable else _("no"),
            ]
        )
    return exports.respond(f"attendance-participant-{participant.id}", header, rows, fmt)
