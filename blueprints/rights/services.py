"""Rights requests: received (from the person's page, or entered by an admin), extended once, answered or refused.
Plain functions: they take values and an actor (never the request), audit each change and flush; the caller
commits. The person is told of an extension and of the answer by email, even when their processing is
restricted: a restriction stops the organization's processing, not its answer to the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from blueprints.accounts.models import User
from blueprints.audit.models import AuditEvent
from blueprints.audit.services import Actor, record
from blueprints.participants.models import Participant
from blueprints.rights import deadlines
from blueprints.rights.models import (
    ACCESS,
    ANSWERED,
    BY_HAND,
    CHANNELS,
    EMAIL,
    ERASURE,
    IN_APP,
    IN_PERSON,
    KINDS,
    LETTER,
    OBJECTION,
    OPEN,
    PHONE,
    PORTABILITY,
    RECTIFICATION,
    REFUSED,
    RESTRICTION,
    RightsRequest,
)
from blueprints.shared.problems import FieldProblem
from tenants import TenantRef
from tenants.db import db, utcnow

RECEIVED_ACTION = "rights_request.received"
EXTENDED_ACTION = "rights_request.extended"
ANSWERED_ACTION = "rights_request.answered"
REFUSED_ACTION = "rights_request.refused"
MAX_MESSAGE = 5000

KIND_NAMES = {
    ACCESS: _l("See my data (access)"),
    PORTABILITY: _l("Receive my data to reuse it (portability)"),
    RECTIFICATION: _l("Correct my data (rectification)"),
    ERASURE: _l("Erase my data (erasure)"),
    RESTRICTION: _l("Limit the use of my data (restriction)"),
    OBJECTION: _l("Object to the use of my data (objection)"),
}
CHANNEL_NAMES = {
    IN_APP: _l("From their page in Emarge"),
    EMAIL: _l("By email"),
    LETTER: _l("By letter"),
    PHONE: _l("By phone"),
    IN_PERSON: _l("In person"),
}


class RightsProblem(FieldProblem):
    """A request that cannot be made or changed, with the form field to show the message at."""


@dataclass(frozen=True)
class Person:
    """Whom a request is about, read from the live row (the request keeps only the id)."""

    participant_id: int | None
    user_id: int | None
    name: str
    email: str | None
    language: str
    erased: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return ("participant", self.participant_id) if self.participant_id else ("user", self.user_id)


def find_person(*, participant_id: int | None = None, user_id: int | None = None) -> Person:
    """The participant or the user the request is about; refused when there is no such person."""
    if participant_id is not None:
        row = db.session.get(Participant, participant_id)
        if row is not None:
            return Person(
                row.id, None, row.full_name, row.email, row.language or "fr", row.erased_at is not None
            )
    elif user_id is not None:
        row = db.session.get(User, user_id)
        if row is not None:
            return Person(None, row.id, row.full_name, row.email, row.language or "fr")
    raise RightsProblem(
        "person", _("Nobody in the organization has this number: pick the person from the list.")
    )


def person_of(request: RightsRequest) -> Person | None:
    try:
        return find_person(participant_id=request.participant_id, user_id=request.user_id)
    except RightsProblem:
        return None


def _text(value: str | None) -> str:
    return (value or "").strip()


def receive(
    actor: Actor,
    *,
    kind: str,
    person: Person,
    message: str = "",
    channel: str = IN_APP,
    received_on: date | None = None,
    today: date,
) -> RightsRequest:
    """Record a request: from the person themselves (``IN_APP``), or entered by an admin with how it came and
    when. Its deadline is a month from its receipt."""
    if kind not in KINDS:
        raise RightsProblem("kind", _("Pick what the person asks for."))
    if person.erased:
        raise RightsProblem(
            "message", _("This person's data was already erased: there is nothing left to ask about.")
        )
    if channel not in CHANNELS:
        raise RightsProblem("channel", _("Pick how the request came."))
    message = _text(message)
    if len(message) > MAX_MESSAGE:
        raise RightsProblem("message", _("Keep it under 5,000 characters."))
    if kind == RECTIFICATION and not message:
        raise RightsProblem("message", _("Say what is wrong and what it should be."))
    received_on = received_on or today
    if received_on > today:
        raise RightsProblem("received_on", _("A request cannot be received in the future."))
    if channel == IN_APP:
        already = db.session.scalar(
            select(RightsRequest).where(
                RightsRequest.kind == kind,
                RightsRequest.status == OPEN,
                RightsRequest.participant_id == person.participant_id
                if person.participant_id
                else RightsRequest.user_id == person.user_id,
            )
        )
        if already is not None:
            raise RightsProblem(
                "kind",
                _(
                    "You already asked for this on %(day)s: the organization answers by %(due)s.",
                    day=already.received_on.strftime("%d/%m/%Y"),
                    due=already.deadline.strftime("%d/%m/%Y"),
                ),
            )
    request = RightsRequest(
        kind=kind,
        participant_id=person.participant_id,
        user_id=person.user_id,
        channel=channel,
        message=message,
        received_on=received_on,
        due_on=deadlines.due_on(received_on),
        status=OPEN,
        created_by=None if channel == IN_APP else actor.user_id,
    )
    db.session.add(request)
    db.session.flush()
    record(actor, RECEIVED_ACTION, request, kind=kind, channel=channel, **_subject(person))
    return request


def _subject(person: Person) -> dict:
    return {"participant_id": person.participant_id} if person.participant_id else {"user_id": person.user_id}


def _check_open(request: RightsRequest, version: int) -> None:
    if request.version != version:
        raise RightsProblem(
            "version", _("Another admin changed this request meanwhile: read it again below.")
        )
    if not request.is_open:
        raise RightsProblem("version", _("This request is already answered."))


def extend(
    request: RightsRequest, actor: Actor, *, reason: str, version: int, tenant: TenantRef, today: date
) -> RightsRequest:
    """Two more months, once, with the reason; decided and told within the first month."""
    _check_open(request, version)
    if request.extended_due_on is not None:
        raise RightsProblem("reason", _("The deadline was already extended once: it cannot be again."))
    if today > request.due_on:
        raise RightsProblem(
            "reason",
            _(
                "The first month is over: an extension had to be told before %(due)s.",
                due=request.due_on.strftime("%d/%m/%Y"),
            ),
        )
    reason = _text(reason)
    if not reason:
        raise RightsProblem("reason", _("Give the reason: the person is told it."))
    request.extended_due_on = deadlines.extended_due_on(request.received_on)
    request.extension_reason = reason[:MAX_MESSAGE]
    db.session.flush()
    record(actor, EXTENDED_ACTION, request, due_on=request.extended_due_on.isoformat())
    _tell(request, tenant, "rights_extended")
    return request


def answer(
    request: RightsRequest, actor: Actor, *, outcome: str, text: str, version: int, tenant: TenantRef
) -> RightsRequest:
    """Close the request with the answer the person is sent: done (what was done) or refused (why)."""
    _check_open(request, version)
    if outcome not in (ANSWERED, REFUSED):
        raise RightsProblem("outcome", _("Say whether the request was carried out or refused."))
    text = _text(text)
    if not text:
        raise RightsProblem(
            "text", _("Write the answer the person receives (what was done, or why it is refused).")
        )
    request.status, request.answer = outcome, text[:MAX_MESSAGE]
    request.answered_at, request.answered_by = utcnow(), actor.user_id
    db.session.flush()
    record(actor, ANSWERED_ACTION if outcome == ANSWERED else REFUSED_ACTION, request)
    _tell(request, tenant, "rights_answered")
    return request


def _tell(request: RightsRequest, tenant: TenantRef, template: str) -> None:
    """Email the person (when they have an address; otherwise the page says to tell them another way)."""
    from blueprints.messages.services import N_, queue_email

    person = person_of(request)
    if person is None or not person.email:
        return
    subjects = {
        "rights_extended": N_("Your request to %(organization)s: more time is needed"),
        "rights_answered": N_("Your request to %(organization)s: the answer"),
    }
    queue_email(
        template,
        tenant=tenant,
        to=person.email,
        name=person.name,
        language=person.language,
        subject=subjects[template],
        context={"request": request, "kind": KIND_NAMES[request.kind]},
        participant_id=person.participant_id,
        user_id=person.user_id,
        about_their_rights=True,
    )


# --- reading -----------------------------------------------------------------------------------------------


def inbox(status: str | None = OPEN) -> list[RightsRequest]:
    """Open requests soonest deadline first; answered ones latest first."""
    query = select(RightsRequest)
    if status in (OPEN, ANSWERED, REFUSED):
        query = query.where(RightsRequest.status == status)
    deadline = func.coalesce(RightsRequest.extended_due_on, RightsRequest.due_on)
    query = query.order_by(
        case((RightsRequest.status == OPEN, 0), else_=1), deadline, RightsRequest.id.desc()
    )
    return list(db.session.scalars(query))


def open_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(RightsRequest).where(RightsRequest.status == OPEN)
    )


def of_person(person: Person) -> list[RightsRequest]:
    column, value = (
        (RightsRequest.participant_id, person.participant_id)
        if person.participant_id
        else (RightsRequest.user_id, person.user_id)
    )
    return list(
        db.session.scalars(select(RightsRequest).where(column == value).order_by(RightsRequest.id.desc()))
    )


def timeline(request: RightsRequest) -> list[AuditEvent]:
    """The request's audit events, oldest first: its status history."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == RightsRequest.__tablename__, AuditEvent.object_id == request.id)
            .order_by(AuditEvent.id)
        )
    )


__all__ = ["BY_HAND", "RightsProblem", "answer", "extend", "inbox", "receive"]


def send_data_link(given: str, actor: Actor, *, tenant: TenantRef) -> bool:
    """Email (or text) a 7-day link to their data page to the participant whose address or mobile ``given``
    is; nothing when nobody has it. The caller answers the same either way."""
    from blueprints.messages.services import N_, queue_email, queue_sms
    from blueprints.rights import links
    from blueprints.web.urls import external_url

    participant = links.find_on_file(given)
    if participant is None or participant.erased_at is not None:
        return False
    url = external_url("my_data.page", token=links.data_token(tenant, participant.id))
    common = {
        "tenant": tenant,
        "name": participant.full_name,
        "language": participant.language or tenant.language,
        "context": {"link": url},
        "participant_id": participant.id,
        "about_their_rights": True,
    }
    if "@" in given:
        queue_email(
            "my_data_link", to=participant.email, subject=N_("Your data at %(organization)s"), **common
        )
    else:
        queue_sms("my_data_link", to=participant.mobile, **common)
    record(actor, "participant.data_link_sent", participant, channel="email" if "@" in given else "sms")
    return True
