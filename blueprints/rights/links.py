"""A fresh link to a trainee's own data page, for someone whose sign-in link expired or who has none at hand:
sent to the address or phone on file (never shown), signed, good for 7 days, and dead once they are erased."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from blueprints.participants.models import Participant
from blueprints.web.keys import secret_keys
from tenants import TenantRef
from tenants.db import db

SALT = "emarge.my-data"
MAX_AGE = 7 * 24 * 3600


class Expired(Exception):
    pass


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_keys(current_app.config), salt=SALT)


def data_token(tenant: TenantRef, participant_id: int) -> str:
    return _serializer().dumps([tenant.slug, participant_id])


def read_data_token(tenant: TenantRef, token: str) -> Participant | None:
    """The participant a data token opens; None when it is not ours for this organization or they were erased;
    ``Expired`` after 7 days."""
    try:
        slug, participant_id = _serializer().loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        raise Expired from None
    except (BadData, ValueError, TypeError):
        return None
    if slug != tenant.slug or not isinstance(participant_id, int):
        return None
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.erased_at is not None:
        return None
    return participant


def find_on_file(value: str) -> Participant | None:
    """The participant whose email or mobile this is (erased people have neither any more)."""
    from blueprints.shared.phones import mobile_number

    value = (value or "").strip()
    if "@" in value:
        return db.session.scalars(
            select(Participant).where(func.lower(Participant.email) == value.lower())
        ).first()
    number, _ = mobile_number(value)
    if number:
        return db.session.scalars(select(Participant).where(Participant.mobile == number)).first()
    return None
