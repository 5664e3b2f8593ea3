"""The demo's attendance tracking, made through the app's own services: a three-day session last month whose
follow-up rule ran (a trainee absent twice without a word: asked for a justification, then the admins and his
employer contact warned), an identical signature image an auditor would question, and justifications of
absence — one Théo sent for last week's missed morning, waiting for the admin's decision, one accepted."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tenants import TenantRef
from tenants.db import db

# The three-day session: (trainee index, slot index) absent without a word; the trainee whose two images of
# the first day are the very same file.
ABSENT = {(5, 2), (5, 3)}  # Noël, the whole second day
COPIED_IMAGE = 7  # Oliver: the same drawing on the first morning and afternoon


def add_tracking(now: datetime, ref: TenantRef, admin_email: str, facilitator_email: str) -> None:
    from blueprints.accounts.models import User, organization
    from blueprints.audit.services import Actor
    from blueprints.demo.hands import _facilitator_actor, _sign, _working_day, signature_png
    from blueprints.participants import services as participants
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing import services as signing
    from blueprints.signing import signoffs
    from blueprints.signing.models import OWN_LINK
    from blueprints.tracking import followup, justifications
    from blueprints.trainings import services as trainings
    from blueprints.trainings.models import Training, TrainingSession

    admin = db.session.scalars(select(User).filter_by(email=admin_email)).one()
    bruno = db.session.scalars(select(User).filter_by(email=facilitator_email)).one()
    actor = Actor.for_user(admin, language="fr")
    org = organization()
    people = list(db.session.scalars(select(Participant).order_by(Participant.id)))
    training = db.session.scalars(select(Training).order_by(Training.id)).first()
    today = now.astimezone(ZoneInfo(ref.timezone)).date()
    start = _working_day(today - timedelta(days=35 + today.weekday()))
    end = _working_day(_working_day(start + timedelta(days=1)) + timedelta(days=1))
    session = trainings.create_session(
        training,
        trainings.SessionData(
            start_date=start,
            end_date=end,
            location_name="Salle Curie",
            location_address="12 rue des Écoles, 75005 Paris",
            capacity=10,
            timezone=ref.timezone,
            room_code_required=True,
            facilitator_ids=[bruno.id],
        ),
        actor,
        trainings.SlotOptions(language="fr"),
    )[0]
    enrolled = people[:8]
    for person in enrolled:
        participants.enroll(session, person, "opco", f"OPCO-{person.id:04d}", actor, source="demo")
    absentee = enrolled[5]
    enrollment = db.session.scalars(
        select(Enrollment).filter_by(session_id=session.id, participant_id=absentee.id)
    ).one()
    participants.update_enrollment(
        enrollment,
        "opco",
        enrollment.funder_reference,
        actor,
        contact_name="Claire Dubois (RH)",
        contact_email="rh@atelier-dubois.example",
    )
    facilitator = _facilitator_actor(bruno)
    slots = sorted(session.slots, key=lambda s: s.starts_at)
    copied = signature_png(enrolled[COPIED_IMAGE].id, variant=1)
    for j, slot in enumerate(slots):
        for i, person in enumerate(enrolled):
            if (i, j) in ABSENT:
                continue
            at = slot.starts_at + timedelta(minutes=(i * 5 + j) % 9)
            if i == COPIED_IMAGE and j < 2:
                signing.sign(
                    slot,
                    person,
                    copied,
                    facilitator,
                    method=OWN_LINK,
                    code=signing.room_code(slot, at),
                    now=at,
                )
                continue
            _sign(slot, person, bruno, at=at, kiosk=False)
        signoffs.sign_off(
            slot, signature_png(100), bruno, facilitator, now=slot.ends_at + timedelta(minutes=4)
        )
    db.session.flush()
    # The follow-up rule, as the hourly job ran it the evening of his second absent half-day.
    followup.run(
        db.session.get(TrainingSession, session.id), org, ref, now=slots[3].ends_at + timedelta(hours=2)
    )

    # Last week: Théo missed the second morning and sent his reason from his link; Léa's appointment, recorded
    # by the facilitator as excused, came with a justification the admin accepted.
    past = db.session.scalars(
        select(TrainingSession).where(TrainingSession.id != session.id).order_by(TrainingSession.start_date)
    ).first()
    past_slots = sorted(past.slots, key=lambda s: s.starts_at)
    from blueprints.audit.services import TRAINEE

    theo, lea = people[1], people[2]
    justifications.submit(
        theo,
        past_slots[2],
        Actor(kind=TRAINEE, label=theo.full_name, participant_id=theo.id, ip="192.0.2.31", language="fr"),
        reason="transport",
        text="Grève RER B : aucun train entre Massy et Paris ce matin-là.",
        now=past_slots[2].ends_at + timedelta(hours=3),
    )
    row = justifications.submit(
        lea,
        past_slots[1],
        actor,
        reason="illness",
        text="Rendez-vous médical prévu de longue date.",
        recorded_by_user_id=admin.id,
        now=past_slots[1].starts_at - timedelta(days=1),
    )
    justifications.decide(row, actor, admin, accept=True, reason="Justificatif reçu par e-mail.", tenant=ref)
