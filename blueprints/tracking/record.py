"""What a session's absence follow-up record says (a PDF issued through the documents jobs, admins only): each
trainee's absences and lateness, the justifications and their decisions, and every step of the follow-up rule
with whom it told. Qualiopi indicator 12 asks for this evidence. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from blueprints.signing.models import ABSENT, EXCUSED, LATE
from blueprints.tracking import justifications, loading
from blueprints.tracking.models import FollowupStep
from tenants.db import db


@dataclass
class TraineeFollowup:
    name: str
    rate: int | None
    late: list[tuple[datetime, int]]
    absent: list[datetime]
    excused: list[datetime]


def followup_record(session, org, now: datetime) -> dict:
    from flask_babel import gettext as _

    grid = loading.session_grid(session, org, now)
    slots = {slot.id: slot for slot in grid.slots}
    trainees = []
    for row in grid.rows:
        late = [
            (slot.starts_at, mark.late_minutes)
            for slot, mark, state in zip(grid.slots, row.marks, row.figures.states, strict=True)
            if state == LATE and mark
        ]
        absent = [
            slot.starts_at
            for slot, state in zip(grid.slots, row.figures.states, strict=True)
            if state == ABSENT
        ]
        excused = [
            slot.starts_at
            for slot, state in zip(grid.slots, row.figures.states, strict=True)
            if state == EXCUSED
        ]
        if late or absent or excused or row.justifications:
            trainees.append(
                TraineeFollowup(row.participant.full_name, row.figures.rate_planned, late, absent, excused)
            )
    names = {row.participant.id: row.participant.full_name for row in grid.rows}
    given = sorted(
        (j for row in grid.rows for j in row.justifications.values()), key=lambda j: (j.submitted_at, j.id)
    )
    steps = list(
        db.session.scalars(
            select(FollowupStep)
            .where(FollowupStep.session_id == session.id)
            .order_by(FollowupStep.created_at)
        )
    )
    told = {
        "trainee": _("the trainee"),
        "admins": _("the administrators"),
        "employer": _("the employer contact"),
    }
    return {
        "trainees": trainees,
        "justifications": [
            {
                "name": names.get(j.participant_id, f"#{j.participant_id}"),
                "slot": slots[j.slot_id].starts_at if j.slot_id in slots else None,
                "reason": justifications.reason_label(j.reason),
                "submitted": j.submitted_at,
                "status": str(justifications.STATUS_LABELS[j.status]),
                "decision_reason": j.decision_reason or "",
                "proof": j.proof_blob_id is not None,
            }
            for j in given
        ],
        "steps": [
            {
                "at": step.created_at,
                "name": names.get(step.participant_id, f"#{step.participant_id}"),
                "what": str(justifications.STEP_LABELS[step.kind]),
                "told": ", ".join(told.get(t, t) for t in step.told) or "—",
            }
            for step in steps
        ],
        "threshold": grid.threshold,
        "rule_applies": org is not None and org.followup_enabled,
    }
