"""The demo's personal-data requests, made through the rights services as the admin's clicks would make them: a
trainee's access request received by letter ten days ago, still open, and an objection by email last month,
answered."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tenants import TenantRef
from tenants.db import db


def add_rights_requests(now: datetime, ref: TenantRef, admin_email: str) -> None:
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.rights import services as rights
    from blueprints.rights.models import ACCESS, ANSWERED, EMAIL, LETTER, OBJECTION

    today = now.astimezone(ZoneInfo(ref.timezone)).date()
    admin = db.session.scalars(select(User).filter_by(email=admin_email)).one()
    actor = Actor.for_user(admin)
    first, second = db.session.scalars(select(Participant).order_by(Participant.id).limit(2)).all()
    rights.receive(
        actor,
        kind=ACCESS,
        person=rights.find_person(participant_id=first.id),
        message="Courrier reçu : « Je souhaite recevoir une copie de toutes les données que vous détenez "
        "sur moi, feuilles d’émargement comprises. »",
        channel=LETTER,
        received_on=today - timedelta(days=10),
        today=today,
    )
    objection = rights.receive(
        actor,
        kind=OBJECTION,
        person=rights.find_person(participant_id=second.id),
        message="« Merci de ne plus m’envoyer de rappels par SMS. »",
        channel=EMAIL,
        received_on=today - timedelta(days=24),
        today=today,
    )
    db.session.flush()
    rights.answer(
        objection,
        actor,
        outcome=ANSWERED,
        text="Bonjour, c’est fait : vous ne recevrez plus de SMS de notre part. Les rappels par e-mail "
        "restent actifs ; dites-le-nous si vous souhaitez aussi les arrêter.",
        version=objection.version,
        tenant=ref,
    )
