"""``flask demo``: the demo organization of the README's run command, made once.

Besides its two users it holds a showcase, recorded through the same services a person's clicks go through: a
training with a session last week (signed, marked, signed off: its sheets and certificates can be generated)
and a session running today (its live page, reminders and invitations make sense), eight participants.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
from blueprints.accounts.passwords import hash_password
from blueprints.demo.hands import (
    _facilitator_actor,
    _sign,
    _working_day,
    logo_png,
    signature_png,
)
from tenants import find_tenant, tenant_scope
from tenants.db import db, utcnow
from tenants.migrate import upgrade_platform
from tenants.provisioning import NewTenant, drop, provision
from tenants.schema import run_seeds

logger = logging.getLogger(__name__)

SLUG = "demo"
TIMEZONE = "Europe/Paris"
PEOPLE = (
    ("admin@emarge-demo.fr", "Alice", "Martin", ADMIN, "demo-admin-2026!"),
    ("formateur@emarge-demo.fr", "Bruno", "Petit", FACILITATOR, "demo-formateur-2026!"),
)
TRAINING_TITLE = "Sauveteur Secouriste du Travail (SST)"


@dataclass(frozen=True)
class DemoParticipant:
    civility: str
    first_name: str
    last_name: str
    email: str
    company: str | None
    job_title: str | None
    funder: str
    reference: str | None = None
    language: str = "fr"
    mobile: str | None = None
    sms_consent: bool = False


TRAINEES = (
    DemoParticipant(
        "mme", "Camille", "Durand", "camille.durand@example.org", "Transports Lefèvre", "Chef d'équipe", "opco",
        "OPCO-MOB-2026-04512",
    ),
    DemoParticipant(
        "m", "Théo", "Lefèvre", "theo.lefevre@example.org", "Transports Lefèvre", "Cariste", "opco",
        "OPCO-MOB-2026-04513",
    ),
    DemoParticipant(
        "mme", "Léa", "Gauthier", "lea.gauthier@example.org", "Clinique Saint-Éloi", "Aide-soignante", "employer"
    ),
    DemoParticipant(
        "m", "Jérôme", "Mercier", "jerome.mercier@example.org", "Clinique Saint-Éloi", "Agent d'entretien",
        "employer", mobile="+33612345678", sms_consent=True,
    ),
    DemoParticipant(
        "mme", "Inès", "Benali", "ines.benali@example.org", "Mairie de Montreuil", "Animatrice", "region",
        "REG-IDF-88214",
    ),
    DemoParticipant(
        "m", "Noël", "Caron", "noel.caron@example.org", None, None, "cpf", "CPF-2026-1187340"
    ),
    DemoParticipant(
        "mme", "Ελένη", "Παπαδοπούλου", "eleni.papadopoulou@example.org", "Atelier Bœuf & Cie", "Ébéniste",
        "opco", "OPCO-EP-2026-00931",
    ),
    DemoParticipant(
        "m", "Oliver", "Bennett", "oliver.bennett@example.org", "Château Côte-Rôtie", "Caviste", "employer",
        language="en",
    ),
)  # fmt: skip


def ensure_demo(now: datetime | None = None) -> bool:
    """Create the demo organization and its showcase unless it exists. True when created.

    ``now`` (UTC) places the sessions and the signatures: last week's session and the one running today.
    """
    with db.engine.begin() as connection:
        upgrade_platform(connection)
    run_seeds("platform", db.session)
    db.session.commit()
    if find_tenant(slug=SLUG):
        return False

    def populate(session: Session, ref) -> None:
        session.add(
            Organization(
                name="Formations Démo",
                address="12 rue des Écoles",
                postal_code="75005",
                city="Paris",
                contact_email="contact@emarge-demo.fr",
                contact_phone="+33144556677",
                siret="90123456700013",
                activity_number="11756543275",
                representative_name="Alice Martin",
                representative_title="Directrice",
            )
        )
        for email, first, last, role, password in PEOPLE:
            session.add(
                User(
                    email=email,
                    first_name=first,
                    last_name=last,
                    role=role,
                    language="fr",
                    password_hash=hash_password(password),
                    email_verified_at=utcnow(),
                )
            )

    ref = provision(NewTenant(slug=SLUG, name="Formations Démo"), populate)
    # The services below need the tenant's scope, which provisioning does not open; a failure takes the
    # tenant with it, so the next run starts again rather than leaving an empty demo behind.
    try:
        with tenant_scope(ref):
            add_showcase(now or utcnow())
            db.session.commit()
            from blueprints.demo.rights import add_rights_requests

            add_rights_requests(now or utcnow(), ref, PEOPLE[0][0])
            db.session.commit()
            from blueprints.demo.tracking import add_tracking

            add_tracking(now or utcnow(), ref, PEOPLE[0][0], PEOPLE[1][0])
            db.session.commit()
    except BaseException:
        logger.exception("demo showcase failed: dropping the demo organization")
        drop(ref)
        raise
    return True


# --- the showcase --------------------------------------------------------------------------------------------


def add_showcase(now: datetime) -> None:
    """Images, the training, its two sessions, the participants and their attendance, in the caller's
    transaction."""
    from blueprints.audit.services import Actor
    from blueprints.participants import services as participants
    from blueprints.trainings import services as trainings
    from blueprints.trainings.models import TRAINING_ACTION

    org = db.session.scalars(select(Organization)).one()
    admin, bruno = (db.session.scalars(select(User).filter_by(email=email)).one() for email, *_ in PEOPLE)
    _store_images(org)
    actor = Actor.for_user(admin, language="fr")
    from blueprints.support import services as support

    # The admin let Emarge support look at the pages for a day, to help with the certificates.
    support.grant(org, actor, hours=support.DEFAULT_HOURS, scope="read", note="Aide sur les attestations")
    training = trainings.create_training(
        trainings.TrainingData(
            title=TRAINING_TITLE,
            reference="SST-INIT",
            objectives=(
                "Intervenir face à une situation d'accident du travail : protéger, examiner, alerter, "
                "secourir. Contribuer à la prévention des risques professionnels dans l'entreprise."
            ),
            planned_hours=Decimal("14"),
            modality="in_person",
            nature=TRAINING_ACTION,
        ),
        actor,
    )
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    last_monday = today - timedelta(days=today.weekday() + 7)
    past_start = _working_day(last_monday)
    current_start = _working_day(today)
    sessions = [
        trainings.create_session(
            training,
            trainings.SessionData(
                start_date=start,
                end_date=_working_day(start + timedelta(days=1)),
                location_name=room,
                location_address="12 rue des Écoles, 75005 Paris",
                capacity=10,
                timezone=TIMEZONE,
                room_code_required=True,
                facilitator_ids=[bruno.id],
            ),
            actor,
            trainings.SlotOptions(language="fr"),
        )[0]
        for start, room in ((past_start, "Salle Pasteur"), (current_start, "Salle Curie"))
    ]
    people = [
        participants.create_participant(
            {
                "civility": t.civility,
                "first_name": t.first_name,
                "last_name": t.last_name,
                "email": t.email,
                "mobile": t.mobile,
                "company": t.company,
                "job_title": t.job_title,
                "language": t.language,
                "sms_consent": t.sms_consent,
            },
            actor,
            language="fr",
            source="demo",
        )
        for t in TRAINEES
    ]
    for session in sessions:
        for t, person in zip(TRAINEES, people, strict=True):
            participants.enroll(session, person, t.funder, t.reference, actor, source="demo")
    past, current = sessions
    _attend_past(past, people, bruno)
    _attend_current(current, people, bruno, now)


def _store_images(org: Organization) -> None:
    from tenants.storage import storage

    logo = storage().put(logo_png(), content_type="image/png", filename="logo.png")
    signature = storage().put(signature_png(99), content_type="image/png", filename="signature.png")
    org.logo_blob_id, org.representative_signature_blob_id = int(logo.key), int(signature.key)


# What happened last week, by (participant index, slot index): all signed but these.
ABSENT_AT = {(1, 2)}  # Théo, second morning: no word
EXCUSED_AT = {(2, 1): "Rendez-vous médical"}  # Léa, first afternoon
LATE_AT = {(3, 0): 25}  # Jérôme, first morning: 25 minutes late
LEFT_EARLY_AT = {(4, 3): 45}  # Inès, last afternoon: left 45 minutes early
ON_FACILITATOR_DEVICE = {(6, 0), (6, 1)}  # Ελένη, first day: her phone had no battery


def _attend_past(session, people, bruno: User) -> None:
    """Every slot signed by the room, with an absence, an excused absence, a late arrival and an early
    departure, then signed off by the facilitator."""
    from blueprints.signing import services as signing
    from blueprints.signing import signoffs

    for j, slot in enumerate(session.slots):
        for i, person in enumerate(people):
            if (i, j) in ABSENT_AT or (i, j) in EXCUSED_AT:
                continue
            minutes = LATE_AT.get((i, j), _arrival(i, j))
            _sign(
                slot,
                person,
                bruno,
                at=slot.starts_at + timedelta(minutes=minutes),
                kiosk=(i, j) in ON_FACILITATOR_DEVICE,
            )
        facilitator = _facilitator_actor(bruno)
        marked = slot.starts_at + timedelta(minutes=20)
        for (i, k), reason in EXCUSED_AT.items():
            if k == j:
                signing.mark(slot, people[i], "excused", facilitator, bruno, reason=reason, now=marked)
        for i, k in ABSENT_AT:
            if k == j:
                signing.mark(slot, people[i], "absent", facilitator, bruno, now=marked)
        for (i, k), early in LEFT_EARLY_AT.items():
            if k == j:
                left = slot.ends_at - timedelta(minutes=early)
                signing.mark(slot, people[i], "departure", facilitator, bruno, at=left, now=left)
        signoffs.sign_off(
            slot, signature_png(100), bruno, facilitator, now=slot.ends_at + timedelta(minutes=5 + j)
        )


def _attend_current(session, people, bruno: User, now: datetime) -> None:
    """Today's slots that have begun: most of the room has signed (the rest is for the visitor to see)."""
    for j, slot in enumerate(session.slots):
        if slot.starts_at > now:
            continue
        for i, person in enumerate(people[:6]):
            at = slot.starts_at + timedelta(minutes=_arrival(i, j))
            if at <= now:
                _sign(slot, person, bruno, at=at, kiosk=False)


def _arrival(i: int, j: int) -> int:
    """Minutes after the start a participant signs: a few before, most just after, within the tolerance."""
    return (i * 7 + j * 3) % 17 - 8
