"""Who may run a slot's live page: a signed-in admin or facilitator of the session, or a facilitator who came
through their personal link (a grant kept in the session cookie, checked against the link on every request)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import abort, session
from flask_login import current_user

from blueprints.accounts.auth import login_manager
from blueprints.accounts.models import User
from blueprints.audit.services import Actor
from blueprints.signing.models import FACILITATOR, SignInLink
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.web.actor import request_actor
from tenants import current_tenant
from tenants.db import db, utcnow

GRANTS = "emarge_facilitation"
KIOSK = "emarge_kiosk"


@dataclass(frozen=True)
class Facilitation:
    user: User
    actor: Actor


def _grant_key(session_id: int) -> str:
    return f"{current_tenant().slug}:{session_id}"


def add_grant(link: SignInLink) -> None:
    grants = dict(session.get(GRANTS) or {})
    grants[_grant_key(link.session_id)] = [link.id, link.nonce]
    session[GRANTS] = grants


def _granted_user(training_session: TrainingSession) -> User | None:
    grant = (session.get(GRANTS) or {}).get(_grant_key(training_session.id))
    if not grant:
        return None
    link = db.session.get(SignInLink, grant[0])
    if (
        link is None
        or link.kind != FACILITATOR
        or link.nonce != grant[1]
        or link.revoked_at is not None
        or utcnow() >= link.expires_at
    ):
        return None
    user = db.session.get(User, link.user_id)
    if user is None or not user.active or user not in training_session.facilitators:
        return None
    return user


def has_any_grant() -> bool:
    prefix = f"{current_tenant().slug}:"
    return any(key.startswith(prefix) for key in (session.get(GRANTS) or {}))


def facilitation(training_session: TrainingSession) -> Facilitation:
    """The person running ``training_session``'s live pages, or 404/redirect to login."""
    if current_user.is_authenticated:
        if current_user.is_admin or current_user in training_session.facilitators:
            return Facilitation(current_user._get_current_object(), request_actor())
        abort(404)
    user = _granted_user(training_session)
    if user is None:
        if has_any_grant():
            abort(404)
        abort(login_manager.unauthorized())
    actor = replace(Actor.for_user(user), label=f"{user.email} (personal link)")
    origin = request_actor()
    actor = replace(actor, ip=origin.ip, user_agent=origin.user_agent, language=origin.language)
    return Facilitation(user, actor)


def guard_login() -> None:
    """Before loading anything: someone neither signed in nor holding a grant is sent to log in."""
    if not current_user.is_authenticated and not has_any_grant():
        abort(login_manager.unauthorized())


def facilitated_session(session_id: int) -> tuple[TrainingSession, Facilitation]:
    """The session and who runs it; 404 when it does not exist or is not theirs (login when nobody is)."""
    found = db.session.get(TrainingSession, session_id)
    if found is None:
        abort(404)
    return found, facilitation(found)


def facilitated_slot(slot_id: int) -> tuple[Slot, Facilitation]:
    """The half-day and who runs it, as ``facilitated_session``."""
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        abort(404)
    return slot, facilitation(slot.session)


def kiosk_open(slot: Slot) -> bool:
    return session.get(KIOSK) == _grant_key(slot.id)


def open_kiosk(slot: Slot) -> None:
    session[KIOSK] = _grant_key(slot.id)


def close_kiosk() -> None:
    session.pop(KIOSK, None)


def signed_in_here() -> bool:
    """The browser holds a login of this organization (a staff member, not the trainee)."""
    return str(session.get("_user_id") or "").startswith(f"{current_tenant().slug}:")
