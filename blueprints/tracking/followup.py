"""The absence follow-up rule (Qualiopi indicator 12: a systematic procedure for absences and lateness on
actions longer than 2 days), run for each session by an hourly job of each organization.

For a session it applies to (the organization's rule is on, and its half-days span more than 2 days): after
a trainee's first unjustified absence (a half-day signed off without them, no justification sent), the trainee
is asked for a justification, with the link to their page; after ``followup_absences`` of them (2 by default),
every admin, and the employer contact of the enrolment if it has one, is warned with the dates. A trainee
present, and a trainee whose processing is restricted or who was erased, is never written to nor about. Each
step is kept (``FollowupStep``, once per kind, claimed before anything is sent) as Qualiopi evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from blueprints.accounts.models import ADMIN, User
from blueprints.signing.models import ABSENT, TRAINEE, SignInLink
from blueprints.tracking import loading
from blueprints.tracking.models import ASKED, REFUSED, WARNED, FollowupStep
from blueprints.trainings.models import TrainingSession
from tenants import TenantRef
from tenants.db import db, utcnow
from tenants.sql import insert_or_nothing

MIN_DAYS = 3  # "more than 2 days"


def applies(grid: loading.Grid, org) -> bool:
    return bool(org is not None and org.followup_enabled and len({s.day for s in grid.slots}) >= MIN_DAYS)


def unjustified(row: loading.Row, grid: loading.Grid) -> list:
    """The slots the trainee missed without a justification (or whose justification was refused)."""
    return [
        slot
        for slot, state in zip(grid.slots, row.figures.states, strict=True)
        if state == ABSENT
        and (slot.id not in row.justifications or row.justifications[slot.id].status == REFUSED)
    ]


def _claim(session_id: int, participant_id: int, kind: str, slots, now: datetime) -> int | None:
    return insert_or_nothing(
        db.session,
        FollowupStep,
        dict(
            session_id=session_id,
            participant_id=participant_id,
            kind=kind,
            slot_ids=[s.id for s in slots],
            told=[],
            note="",
            created_at=now,
        ),
        ["session_id", "participant_id", "kind"],
    )


def run(session: TrainingSession, org, tenant: TenantRef, now: datetime | None = None) -> dict:
    """Apply the rule to one session; returns the steps taken. Safe to run any number of times."""
    now = now or utcnow()
    grid = loading.session_grid(session, org, now)
    taken = {ASKED: 0, WARNED: 0}
    if not applies(grid, org):
        return taken
    done = {
        (step.participant_id, step.kind)
        for step in db.session.scalars(select(FollowupStep).where(FollowupStep.session_id == session.id))
    }
    for row in grid.rows:
        person = row.participant
        if person.processing_restricted or person.erased_at is not None:
            continue
        missed = unjustified(row, grid)
        if missed and (person.id, ASKED) not in done:
            step_id = _claim(session.id, person.id, ASKED, missed[:1], now)
            if step_id is not None:
                told = _ask(person, session, missed[0], tenant)
                db.session.get(FollowupStep, step_id).told = told
                taken[ASKED] += 1
        if len(missed) >= org.followup_absences and (person.id, WARNED) not in done:
            step_id = _claim(session.id, person.id, WARNED, missed, now)
            if step_id is not None:
                told = _warn(person, row.enrollment, session, missed, tenant)
                db.session.get(FollowupStep, step_id).told = told
                taken[WARNED] += 1
    db.session.flush()
    return taken


def _ask(person, session: TrainingSession, slot, tenant: TenantRef) -> list[str]:
    from blueprints.messages.services import N_, queue_email
    from blueprints.signing.signin_links import token_of
    from blueprints.web.urls import external_url

    link = db.session.scalars(
        select(SignInLink).where(
            SignInLink.session_id == session.id,
            SignInLink.participant_id == person.id,
            SignInLink.kind == TRAINEE,
            SignInLink.revoked_at.is_(None),
        )
    ).first()
    if not person.email or link is None:
        return []
    message = queue_email(
        "followup_asked",
        tenant=tenant,
        to=person.email,
        name=person.full_name,
        language=person.language or tenant.language,
        subject=N_("You missed a half-day of %(training)s: tell us why"),
        context={
            "training": session.training.title,
            "starts_at": slot.starts_at,
            "zone": session.timezone,
            "url": external_url("tracking_trainee.justify", org=tenant.slug, token=token_of(link, tenant)),
        },
        session_id=session.id,
        participant_id=person.id,
        slot_id=slot.id,
        dedupe_key=f"followup:{session.id}:{person.id}:asked",
    )
    return ["trainee"] if message is not None else []


def _warn(person, enrollment, session: TrainingSession, missed, tenant: TenantRef) -> list[str]:
    from blueprints.messages.services import N_, queue_email
    from blueprints.web.urls import external_url

    context = {
        "trainee": person.full_name,
        "training": session.training.title,
        "dates": [slot.starts_at for slot in missed],
        "zone": session.timezone,
        "count": len(missed),
    }
    told = []
    admins = db.session.scalars(select(User).where(User.role == ADMIN, User.active.is_(True))).all()
    for admin in admins:
        sent = queue_email(
            "followup_warned",
            tenant=tenant,
            to=admin.email,
            name=admin.full_name,
            language=admin.language or tenant.language,
            subject=N_("%(trainee)s: %(count)d unjustified absences in %(training)s"),
            context={
                **context,
                "for_employer": False,
                "url": external_url("tracking.session_attendance", org=tenant.slug, session_id=session.id),
            },
            user_id=admin.id,
            session_id=session.id,
            participant_id=person.id,
            dedupe_key=f"followup:{session.id}:{person.id}:warned:{admin.id}",
        )
        if sent is not None and "admins" not in told:
            told.append("admins")
    if enrollment.employer_contact_email:
        sent = queue_email(
            "followup_warned",
            tenant=tenant,
            to=enrollment.employer_contact_email,
            name=enrollment.employer_contact_name,
            language=tenant.language,
            subject=N_("%(trainee)s: %(count)d unjustified absences in %(training)s"),
            context={**context, "for_employer": True, "url": ""},
            session_id=session.id,
            participant_id=person.id,
            dedupe_key=f"followup:{session.id}:{person.id}:warned:employer",
        )
        if sent is not None:
            told.append("employer")
    return told
