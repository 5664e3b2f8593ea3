"""Who gets what: invitations with the personal sign-in link, reminders around each slot, the facilitator's
link and the end-of-slot summary.

Plain functions that take the actor; the messages are written in the caller's transaction (through
``queue_email``/``queue_sms``) and go out when it commits. Nobody whose processing is restricted, who is
archived or who is not enrolled is ever messaged, and every message says why the person receives it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from blueprints.accounts.models import Organization, User, organization
from blueprints.audit.services import Actor, record
from blueprints.messages.models import EMAIL, FAILED, SMS, Message
from blueprints.messages.services import N_, queue_email, queue_sms
from blueprints.participants.models import Participant
from blueprints.signing import roster, signin_links
from blueprints.signing import services as signing
from blueprints.trainings.models import Slot, TrainingSession
from blueprints.web.urls import external_url
from tenants import TenantRef
from tenants.db import db

logger = logging.getLogger(__name__)

# Template names: the same name for the email and the SMS of one purpose, so the log and the session page
# find a person's invitation whatever its channel.
INVITATION = "invitation_signin"
REMINDER_BEFORE = "reminder_before"
REMINDER_LATE = "reminder_late"
FACILITATOR_LINK = "facilitator_link"
SLOT_SUMMARY = "slot_summary"

# The organization's choice (Organization.signin_channels), or a per-participant one.
BOTH = "both"
PREFERENCES = (EMAIL, SMS, BOTH)

# A summary is sent in the hours after its slot ends; one a long outage delayed more is not sent late.
SUMMARY_WINDOW = timedelta(hours=3)
MAX_REMINDER_MINUTES = 1440


# --- who can be reached, and how -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How a participant can be messaged: the channels to use, or why none (``reason``)."""

    participant: Participant
    channels: tuple[str, ...] = ()
    reason: str | None = None  # lazy string, translated when shown

    @property
    def reachable(self) -> bool:
        return bool(self.channels)


def is_mobile(number: str | None) -> bool:
    """A number an SMS can reach (the SMS layer's own rule)."""
    from blueprints.shared.phones import mobile_number

    return mobile_number(number)[0] is not None


def _sms_problem(participant: Participant):
    if not participant.mobile:
        return _l("no mobile number")
    if not is_mobile(participant.mobile):
        return _l("the phone number is not a mobile")
    if not participant.sms_consent:
        return _l("no SMS consent")
    return None


def reach(participant: Participant, preference: str, *, fallback: bool = True) -> Reach:
    """The channels for ``participant`` given a preference (email, sms, both).

    SMS needs a mobile number and the person's consent; without them the message falls back to email where
    there is an address (unless ``fallback`` is off: a channel chosen for this one person).
    """
    if participant.processing_restricted:
        return Reach(participant, reason=_l("processing restricted"))
    if participant.archived_at is not None:
        return Reach(participant, reason=_l("archived"))
    email_ok = bool(participant.email)
    sms_problem = _sms_problem(participant)
    channels: list[str] = []
    if preference in (EMAIL, BOTH) and email_ok:
        channels.append(EMAIL)
    if preference in (SMS, BOTH) and sms_problem is None:
        channels.append(SMS)
    if preference == SMS and sms_problem is not None and email_ok and fallback:
        channels.append(EMAIL)
    if channels:
        return Reach(participant, tuple(channels))
    if preference == EMAIL:
        return Reach(participant, reason=_l("no email address"))
    if not email_ok and (fallback or preference == BOTH):
        return Reach(participant, reason=_l("%(sms)s and no email address", sms=sms_problem))
    return Reach(participant, reason=sms_problem)


def preference_of(org: Organization | None) -> str:
    chosen = org.signin_channels if org is not None else EMAIL
    return chosen if chosen in PREFERENCES else EMAIL


def language_of(person, tenant: TenantRef) -> str:
    return getattr(person, "language", None) or tenant.language


# --- sending one message to a participant ------------------------------------------------------------------


def session_context(session: TrainingSession) -> dict:
    return {
        "training": session.training.title,
        "start_date": session.start_date,
        "end_date": session.end_date,
        "location": session.location_name,
        "timezone": session.timezone,
    }


def queue_for(
    template: str,
    channel: str,
    participant: Participant,
    *,
    subject: str,
    context: dict,
    session: TrainingSession,
    slot: Slot | None = None,
    dedupe_key: str | None = None,
    tenant: TenantRef,
) -> Message | None:
    common = dict(
        tenant=tenant,
        name=participant.full_name,
        language=language_of(participant, tenant),
        context=context,
        session_id=session.id,
        participant_id=participant.id,
        slot_id=slot.id if slot is not None else None,
        dedupe_key=dedupe_key,
    )
    if channel == SMS:
        return queue_sms(template, to=participant.mobile, **common)
    return queue_email(template, to=participant.email, subject=subject, **common)


def sign_url(
    session: TrainingSession,
    participant: Participant,
    actor: Actor,
    *,
    tenant: TenantRef,
    reissue: bool = True,
):
    """The participant's signing link. A withdrawn one is made anew when a person sends it (``reissue``);
    the reminder job gets None instead: someone withdrew it, a machine must not undo that."""
    link = signin_links.trainee_link(session, participant, actor)
    if link.revoked_at is not None:
        if not reissue:
            return None
        link = signin_links.reissue_link(link, actor, reason="sent by message")
    return external_url("signing.sign_page", token=signin_links.token_of(link, tenant))


# --- invitations ---------------------------------------------------------------------------------------------


@dataclass
class InvitationOutcome:
    sent: list[tuple[Participant, tuple[str, ...]]] = field(default_factory=list)
    skipped: list[tuple[Participant, str]] = field(default_factory=list)
    already: list[Participant] = field(default_factory=list)


def last_invitations(session: TrainingSession) -> dict[int, Message]:
    """Each participant's latest invitation for ``session``, by participant id."""
    rows = db.session.scalars(
        select(Message)
        .where(Message.session_id == session.id, Message.template == INVITATION)
        .order_by(Message.id)
    )
    return {m.participant_id: m for m in rows if m.participant_id is not None}


def invited_ids(session: TrainingSession) -> set[int]:
    """Participants with an invitation that went out, or is on its way (a failed one does not count)."""
    return set(
        db.session.scalars(
            select(Message.participant_id).where(
                Message.session_id == session.id,
                Message.template == INVITATION,
                Message.status != FAILED,
                Message.participant_id.is_not(None),
            )
        )
    )


def _invite(
    session: TrainingSession,
    participant: Participant,
    actor: Actor,
    channel: str | None,
    *,
    tenant: TenantRef,
    after: int | None = None,
) -> Reach | None:
    """Queue the invitation; None when it was already written by another request.

    ``after``: the id of the participant's last invitation as the caller saw it (0: none). Given, the message
    gets a dedupe key built on it, so two clicks on "Send invitations" at the same moment, both of which saw
    nobody invited, write it once; a later round (after a failure) sees another id and sends again.
    """
    if not signing.is_enrolled(session, participant):
        return Reach(participant, reason=_l("not enrolled in this session"))
    found = reach(participant, channel or preference_of(organization()), fallback=channel is None)
    if not found.reachable:
        return found
    context = {**session_context(session), "link": sign_url(session, participant, actor, tenant=tenant)}
    written = 0
    for ch in found.channels:
        key = None if after is None else f"invitation:{session.id}:{participant.id}:{ch}:{after}"
        message = queue_for(
            INVITATION,
            ch,
            participant,
            subject=N_("%(training)s: your personal link to sign your attendance"),
            context=context,
            session=session,
            dedupe_key=key,
            tenant=tenant,
        )
        written += message is not None
    return found if written else None


def invite(
    session: TrainingSession,
    participant: Participant,
    actor: Actor,
    *,
    tenant: TenantRef,
    channel: str | None = None,
) -> Reach:
    """Send ``participant`` their personal link for ``session`` by ``channel`` (email, sms, both) or, if
    None, as the organization chose. Returns how they were reached, or why not (nothing is sent then)."""
    found = _invite(session, participant, actor, channel, tenant=tenant)
    if found.reachable:
        record(
            actor,
            "session.invitation_sent",
            session,
            participant_id=participant.id,
            channels=list(found.channels),
        )
    return found


def invite_all(
    session: TrainingSession, actor: Actor, *, tenant: TenantRef, again: bool = False
) -> InvitationOutcome:
    """Invite every enrolled participant who has no invitation out yet (``again``: everyone)."""
    outcome = InvitationOutcome()
    done = set() if again else invited_ids(session)
    last = {} if again else last_invitations(session)
    for participant in roster.roster_of_session(session):
        if participant.id in done:
            outcome.already.append(participant)
            continue
        after = None if again else getattr(last.get(participant.id), "id", 0)
        found = _invite(session, participant, actor, None, tenant=tenant, after=after)
        if found is None:  # another request sent it a moment ago
            outcome.already.append(participant)
        elif found.reachable:
            outcome.sent.append((participant, found.channels))
        else:
            outcome.skipped.append((participant, found.reason))
    if outcome.sent:
        record(
            actor,
            "session.invitations_sent",
            session,
            again=again,
            participant_ids=[p.id for p, _ in outcome.sent],
            skipped_ids=[p.id for p, _ in outcome.skipped],
        )
    return outcome


@dataclass(frozen=True)
class InvitationLine:
    """A row of the session page: a participant, their last invitation, how they could be reached."""

    participant: Participant
    last: Message | None
    reach: Reach
    choices: tuple[str, ...]  # channels one may pick for this person alone

    @property
    def waiting(self) -> bool:
        """Reachable, and no invitation out yet: "Send invitations" will send them one."""
        return self.reach.reachable and (self.last is None or self.last.status == FAILED)


def invitation_lines(session: TrainingSession) -> list[InvitationLine]:
    last = last_invitations(session)
    preference = preference_of(organization())
    lines = []
    for participant in roster.roster_of_session(session):
        found = reach(participant, preference)
        choices = tuple(ch for ch in (EMAIL, SMS) if reach(participant, ch, fallback=False).channels == (ch,))
        lines.append(InvitationLine(participant, last.get(participant.id), found, choices))
    return lines


# --- facilitators --------------------------------------------------------------------------------------------


def send_facilitator_links(session: TrainingSession, actor: Actor, *, tenant: TenantRef) -> list[User]:
    """Email each active facilitator of ``session`` their personal link. Returns those emailed."""
    emailed = []
    for user in session.facilitators:
        if not user.active or not user.email:
            continue
        link = signin_links.facilitator_link(session, user, actor)
        if link.revoked_at is not None:
            link = signin_links.reissue_link(link, actor, reason="sent by message")
        queue_email(
            FACILITATOR_LINK,
            tenant=tenant,
            to=user.email,
            name=user.full_name,
            language=language_of(user, tenant),
            subject=N_("%(training)s: your personal link to run the session"),
            context={
                **session_context(session),
                "link": external_url("signing.facilitator_entry", token=signin_links.token_of(link, tenant)),
            },
            user_id=user.id,
            # The link opens the live pages without a password: its body is not kept in the log.
            sensitive=True,
            session_id=session.id,
        )
        emailed.append(user)
    if emailed:
        record(actor, "session.facilitator_links_sent", session, user_ids=[u.id for u in emailed])
    return emailed
