"""Personal sign-in links: one per trainee (or facilitator) and session, issued when the trainee is enrolled or
the facilitator assigned (or, for one still missing, when invitations are sent or an admin asks), valid until
the session's last day plus a grace period; reissued (every earlier token stops working), revoked, resolved from
a token, renewed on the trainee's request. Pages only read them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import User
from blueprints.audit.services import Actor, record
from blueprints.participants.models import Participant
from blueprints.signing.models import (
    FACILITATOR,
    TRAINEE,
    SignInLink,
)
from blueprints.signing.services import LINK_GRACE_DAYS, LinkProblem, SigningError, is_enrolled, setting
from blueprints.signing.tokens import link_token, read_link_token
from blueprints.trainings.models import TrainingSession
from tenants import TenantRef
from tenants.changes import NOTED_BY_CALLER, note_change
from tenants.db import db, utcnow
from tenants.sql import insert_ignore, insert_or_nothing

# --- links ---------------------------------------------------------------------------------------------------


def link_expiry(session: TrainingSession) -> datetime:
    """The end of the session's last day, in its timezone, plus the grace period."""
    end = datetime.combine(session.end_date, time(23, 59, 59), tzinfo=ZoneInfo(session.timezone))
    return end.astimezone(UTC) + timedelta(days=setting("SIGNIN_LINK_GRACE_DAYS", LINK_GRACE_DAYS))


def token_of(link: SignInLink, tenant: TenantRef) -> str:
    return link_token(link.kind, tenant.slug, link.id, link.nonce)


def _find_link(session: TrainingSession, *, participant_id=None, user_id=None) -> SignInLink | None:
    query = select(SignInLink).where(SignInLink.session_id == session.id)
    if participant_id is not None:
        query = query.where(SignInLink.participant_id == participant_id)
    else:
        query = query.where(SignInLink.user_id == user_id)
    return db.session.scalars(query).first()


def _issue(session: TrainingSession, actor: Actor, *, participant=None, user=None) -> SignInLink:
    kind = TRAINEE if participant is not None else FACILITATOR
    holder = {"participant_id": participant.id} if participant is not None else {"user_id": user.id}
    link = _find_link(session, **holder)
    if link is not None:
        return link
    # Two staff opening the page at once get the same row: the unique constraint decides, not a check.
    insert_or_nothing(
        db.session,
        SignInLink,
        dict(
            kind=kind,
            session_id=session.id,
            nonce=secrets.token_urlsafe(12),
            issued_at=utcnow(),
            expires_at=link_expiry(session),
            **holder,
        ),
        ["session_id", "participant_id" if participant is not None else "user_id"],
    )
    link = _find_link(session, **holder)
    record(actor, "signin_link.issued", link, kind=kind, session_id=session.id, **holder)
    return link


def issue_links(session: TrainingSession, actor: Actor, *, participant_ids=(), user_ids=()) -> list[int]:
    """Links for those of ``session``'s holders who have none yet, in one statement and one audit event
    (an import enrolls thousands at once). Returns the ids of the holders it issued a link for."""
    issued = []
    for kind, column, ids in (
        (TRAINEE, "participant_id", sorted(set(participant_ids))),
        (FACILITATOR, "user_id", sorted(set(user_ids))),
    ):
        if not ids:
            continue
        holder = getattr(SignInLink, column)
        have = set(
            db.session.scalars(select(holder).where(SignInLink.session_id == session.id, holder.in_(ids)))
        )
        missing = [i for i in ids if i not in have]
        if not missing:
            continue
        expires, now = link_expiry(session), utcnow()
        rows = [
            dict(
                kind=kind,
                session_id=session.id,
                nonce=secrets.token_urlsafe(12),
                issued_at=now,
                expires_at=expires,
                **{column: i},
            )
            for i in missing
        ]
        # Two clicks at once: the unique constraint decides, the second inserts nothing.
        statement = insert_ignore(
            SignInLink, db.session.get_bind().dialect.name, ["session_id", column]
        ).execution_options(**{NOTED_BY_CALLER: True})
        made = list(db.session.scalars(statement.values(rows).returning(holder)))
        if made:
            note_change(db.session, SignInLink.__tablename__)
            record(
                actor, "signin_link.issued", session, kind=kind, session_id=session.id, **{column + "s": made}
            )
            issued += made
    return issued


def links_of(session: TrainingSession) -> dict[tuple[str, int], SignInLink]:
    """Every link of ``session`` in one query, by ("participant" or "user", holder id)."""
    rows = db.session.scalars(select(SignInLink).where(SignInLink.session_id == session.id))
    return {
        ("participant", link.participant_id) if link.participant_id else ("user", link.user_id): link
        for link in rows
    }


def find_trainee_link(session: TrainingSession, participant: Participant) -> SignInLink | None:
    """The participant's link for ``session`` if it was issued and they are enrolled (a read: pages never
    issue)."""
    if not is_enrolled(session, participant):
        return None
    return _find_link(session, participant_id=participant.id)


def trainee_link(session: TrainingSession, participant: Participant, actor: Actor) -> SignInLink:
    """The participant's link for ``session``, made on first use."""
    if not is_enrolled(session, participant):
        raise SigningError(404, _l("This participant is not enrolled in this session."))
    return _issue(session, actor, participant=participant)


def facilitator_link(session: TrainingSession, user: User, actor: Actor) -> SignInLink:
    if user not in session.facilitators:
        raise SigningError(404, _l("This person does not facilitate this session."))
    return _issue(session, actor, user=user)


def reissue_link(link: SignInLink, actor: Actor, *, reason: str = "reissued") -> SignInLink:
    """A new token for the same person and session: every earlier one stops working."""
    session = db.session.get(TrainingSession, link.session_id)
    link.nonce = secrets.token_urlsafe(12)
    link.revoked_at = None
    link.issued_at = utcnow()
    link.expires_at = link_expiry(session)
    db.session.flush()
    record(actor, "signin_link.reissued", link, reason=reason)
    return link


def revoke_link(link: SignInLink, actor: Actor) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()
        record(actor, "signin_link.revoked", link)


def resolve_link(
    token: str, kind: str, *, tenant: TenantRef, now: datetime | None = None, allow_dead: bool = False
) -> SignInLink:
    """The link a token opens. Forged, foreign or unknown: 404. Expired or withdrawn: 410 (unless
    ``allow_dead``, for the form that asks for a fresh one)."""
    now = now or utcnow()
    parsed = read_link_token(kind, token)
    if parsed is None or parsed[0] != tenant.slug:
        raise LinkProblem(404, _l("This link is not valid. Check that it was copied whole."))
    _, link_id, nonce = parsed
    link = db.session.get(SignInLink, link_id)
    if link is None or link.kind != kind:
        raise LinkProblem(404, _l("This link is not valid. Check that it was copied whole."))
    if allow_dead:
        return link
    if not secrets.compare_digest(link.nonce, nonce) or link.revoked_at is not None:
        raise LinkProblem(410, _l("This link has been withdrawn or replaced by a newer one."), link=link)
    if now >= link.expires_at:
        raise LinkProblem(410, _l("This link has expired."), link=link)
    return link


def request_fresh_link(link: SignInLink, email: str, actor: Actor, *, tenant: TenantRef) -> bool:
    """Send a fresh link to the participant of ``link`` if ``email`` is theirs. The caller answers the
    same either way; the return value is for tests and the audit."""
    participant = db.session.get(Participant, link.participant_id) if link.participant_id else None
    given = (email or "").strip().lower()
    if (
        participant is None
        or not participant.email
        or not secrets.compare_digest(participant.email.lower().encode(), given.encode())
        or participant.processing_restricted
        or participant.archived_at is not None
    ):
        record(actor, "signin_link.renewal_refused", link)
        return False
    session = db.session.get(TrainingSession, link.session_id)
    reissue_link(link, actor, reason="asked by the participant")
    from blueprints.messages.services import N_, queue_email
    from blueprints.web.urls import external_url

    queue_email(
        "signin_link",
        tenant=tenant,
        to=participant.email,
        name=participant.full_name,
        language=participant.language or tenant.language,
        subject=N_("Your sign-in link for %(training)s"),
        context={
            "training": session.training.title,
            "link": external_url("signing.sign_page", token=token_of(link, tenant)),
        },
    )
    return True
