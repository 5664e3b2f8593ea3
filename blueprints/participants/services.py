"""The directory of trainees and their enrollments. Plain functions that take the actor; they flush, the caller
commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from blueprints.audit.services import Actor, record
from blueprints.participants.models import FUNDERS, Enrollment, Participant
from blueprints.shared.cells import write_csv
from blueprints.signing.signin_links import issue_links
from blueprints.trainings.models import TrainingSession
from tenants import TenantRef
from tenants.db import db, utcnow

DEFAULT_REGION = "FR"
LANGUAGES = ("fr", "en")
# What a participant's own form may change; ``processing_restricted`` has its own event (a GDPR request).
EDITABLE = (
    "civility",
    "first_name",
    "last_name",
    "email",
    "mobile",
    "company",
    "job_title",
    "language",
    "sms_consent",
    "notes",
)


class ParticipantError(Exception):
    """A refusal the person can act on; ``str()`` is the message to show."""


class DuplicateEmail(ParticipantError):
    pass


class ContactProblem(ParticipantError):
    """The employer contact's address refused."""


# --- values ------------------------------------------------------------------------------------------------


def funder_labels() -> dict[str, str]:
    return {
        "opco": _l("OPCO (skills operator)"),
        "cpf": _l("CPF (personal training account)"),
        "employer": _l("Employer"),
        "region": _l("Region or public body"),
        "personal": _l("The trainee personally"),
        "other": _l("Other funder"),
    }


def funder_choices() -> list[tuple[str, str]]:
    labels = funder_labels()
    return [(code, labels[code]) for code in FUNDERS]


def civility_labels() -> dict[str, str]:
    return {"mme": _l("Ms"), "m": _l("Mr")}


def normalize_email(value: str | None) -> str | None:
    """The address as stored (lower-cased), or None when blank; ParticipantError when malformed.

    Syntax only: the network may be closed, so no DNS lookup.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ParticipantError(
            _l("This email address is not valid (%(reason)s).", reason=str(error))
        ) from None
    return checked.normalized.lower()


def normalize_phone(value: str | None) -> str | None:
    """E.164 (``+33612345678``), or None when blank; French numbers may be written the French way."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ParticipantError(
            _l("This phone number is not valid. Write it like 06 12 34 56 78, or +44 20 7946 0958 abroad.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str | None) -> str:
    """A stored E.164 number the way people read it: national for French numbers, international otherwise."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- the directory -----------------------------------------------------------------------------------------


def search(query: Select, text: str | None) -> Select:
    """Narrow ``query`` to participants whose name, email or company contain every word of ``text``."""
    for word in (text or "").split()[:6]:
        query = query.where(
            or_(
                Participant.first_name.icontains(word, autoescape=True),
                Participant.last_name.icontains(word, autoescape=True),
                Participant.email.icontains(word, autoescape=True),
                Participant.company.icontains(word, autoescape=True),
            )
        )
    return query


def unreachable():
    """Current participants with neither an email address nor a mobile number: no link can reach them."""
    return and_(
        Participant.archived_at.is_(None),
        or_(Participant.email.is_(None), Participant.email == ""),
        or_(Participant.mobile.is_(None), Participant.mobile == ""),
    )


def ordered(query: Select) -> Select:
    return query.order_by(
        func.lower(Participant.last_name), func.lower(Participant.first_name), Participant.id
    )


def find_by_email(email: str, *, excluding: int | None = None) -> Participant | None:
    query = select(Participant).where(func.lower(Participant.email) == email.lower())
    if excluding is not None:
        query = query.where(Participant.id != excluding)
    return db.session.scalars(query).first()


def _check_unique(email: str | None, excluding: int | None = None) -> None:
    if email is None:
        return
    other = find_by_email(email, excluding=excluding)
    if other is not None:
        raise DuplicateEmail(
            _l(
                "%(name)s already has the address %(email)s in the directory: each address belongs to one "
                "participant.",
                name=other.full_name,
                email=email,
            )
        )


def _clean(data: dict) -> dict:
    """The form's values as stored: trimmed, blanks as None, email lower-cased, phone in E.164."""
    clean = {}
    for name in EDITABLE:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str):
            value = value.strip() or None
        clean[name] = value
    if "email" in clean:
        clean["email"] = normalize_email(clean["email"])
    if "mobile" in clean:
        clean["mobile"] = normalize_phone(clean["mobile"])
    if "language" in clean and clean["language"] not in LANGUAGES:
        del clean["language"]  # the caller's default applies: the organization's language
    if "civility" in clean:
        clean["civility"] = clean["civility"] or None
    return clean


def default_language(tenant: TenantRef) -> str:
    """A new participant's language, until they or an admin say otherwise: their organization's."""
    return tenant.language if tenant.language in LANGUAGES else "fr"


def create_participant(
    data: dict, actor: Actor, *, language: str, restricted: bool = False, source: str = "form"
) -> Participant:
    """A new participant from ``data``; ``language`` (the organization's) unless ``data`` gives theirs."""
    clean = _clean(data)
    _check_unique(clean.get("email"))
    participant = Participant(**{"language": language, **clean}, processing_restricted=bool(restricted))
    db.session.add(participant)
    db.session.flush()
    record(actor, "participant.created", participant, source=source)
    if participant.processing_restricted:
        record(actor, "participant.processing_restricted", participant)
    return participant


def update_participant(
    participant: Participant, data: dict, actor: Actor, *, source: str = "form"
) -> list[str]:
    """Apply ``data``; returns the names of the fields that changed. A rectification is audited with each
    field's value before and after (an erasure of the person blanks them there too)."""
    clean = _clean(data)
    if "email" in clean and clean["email"] != participant.email:
        _check_unique(clean["email"], excluding=participant.id)
    changed = [name for name, value in clean.items() if getattr(participant, name) != value]
    changes = {name: [_plain(getattr(participant, name)), _plain(clean[name])] for name in changed}
    for name in changed:
        setattr(participant, name, clean[name])
    if changed:
        db.session.flush()
        record(actor, "participant.updated", participant, fields=changed, changes=changes, source=source)
    return changed


def _plain(value):
    return value if value is None or isinstance(value, str | int | bool) else str(value)


def set_restricted(participant: Participant, restricted: bool, actor: Actor) -> None:
    """Restriction of processing (GDPR art. 18): no message and no new signature while it is set."""
    if participant.processing_restricted != restricted:
        participant.processing_restricted = restricted
        record(
            actor,
            "participant.processing_restricted" if restricted else "participant.processing_unrestricted",
            participant,
        )


def withdraw_sms_consent(participant: Participant, actor: Actor) -> bool:
    """The person withdraws their consent to text messages (from their own page): no SMS from now on."""
    if not participant.sms_consent:
        return False
    participant.sms_consent = False
    record(actor, "participant.sms_consent_withdrawn", participant)
    return True


def archive(participant: Participant, actor: Actor) -> None:
    if participant.archived_at is None:
        participant.archived_at = utcnow()
        record(actor, "participant.archived", participant)


def unarchive(participant: Participant, actor: Actor) -> None:
    if participant.archived_at is not None:
        participant.archived_at = None
        record(actor, "participant.unarchived", participant)


# --- enrollments -------------------------------------------------------------------------------------------


def roster(session: TrainingSession) -> list[Enrollment]:
    return list(
        db.session.scalars(
            select(Enrollment)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .options(contains_eager(Enrollment.participant))
            .where(Enrollment.session_id == session.id)
            .order_by(func.lower(Participant.last_name), func.lower(Participant.first_name), Enrollment.id)
        )
    )


def not_enrolled(query: Select, session: TrainingSession) -> Select:
    return query.where(
        Participant.archived_at.is_(None),
        ~exists().where(
            and_(Enrollment.participant_id == Participant.id, Enrollment.session_id == session.id)
        ),
    )


def _check_funder(funder: str) -> None:
    if funder not in FUNDERS:
        raise ParticipantError(_l("Choose who funds this training."))


def enroll(
    session: TrainingSession,
    participant: Participant,
    funder: str,
    reference: str | None,
    actor: Actor,
    *,
    source: str = "form",
) -> Enrollment | None:
    """Plan ``participant`` in ``session``, with their sign-in link; None when already enrolled (nothing to
    do)."""
    _check_funder(funder)
    if participant.archived_at is not None:
        raise ParticipantError(
            _l("%(name)s is archived: unarchive them to enroll them.", name=participant.full_name)
        )
    existing = db.session.scalars(
        select(Enrollment).where(
            Enrollment.session_id == session.id, Enrollment.participant_id == participant.id
        )
    ).first()
    if existing is not None:
        return None
    enrollment = Enrollment(
        session_id=session.id,
        participant_id=participant.id,
        funder=funder,
        funder_reference=(reference or "").strip() or None,
    )
    db.session.add(enrollment)
    db.session.flush()
    record(
        actor,
        "enrollment.created",
        enrollment,
        session_id=session.id,
        participant_id=participant.id,
        funder=funder,
        source=source,
    )
    issue_links(session, actor, participant_ids=[participant.id])
    return enrollment


def update_enrollment(
    enrollment: Enrollment,
    funder: str,
    reference: str | None,
    actor: Actor,
    *,
    contact_name: str | None = None,
    contact_email: str | None = None,
) -> bool:
    """Change who pays, the file reference, and the employer contact (kept as it was when not given)."""
    _check_funder(funder)
    reference = (reference or "").strip() or None
    names = ("funder", "funder_reference", "employer_contact_name", "employer_contact_email")
    if contact_name is None and contact_email is None:
        contact_name, contact_email = enrollment.employer_contact_name, enrollment.employer_contact_email
    contact_name = (contact_name or "").strip() or None
    contact_email = (contact_email or "").strip().lower() or None
    if contact_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", contact_email):
        raise ContactProblem(_l("The employer contact's email address is not valid."))
    before = {name: getattr(enrollment, name) for name in names}
    after = dict(zip(names, (funder, reference, contact_name, contact_email), strict=True))
    if before == after:
        return False
    for name, value in after.items():
        setattr(enrollment, name, value)
    changed = [name for name in names if before[name] != after[name]]
    before, after = {n: before[n] for n in changed}, {n: after[n] for n in changed}
    record(actor, "enrollment.updated", enrollment, before=before, after=after)
    return True


@dataclass(frozen=True)
class Consequences:
    """What removing an enrollment takes with it, shown before the admin confirms."""

    signed_slots: int = 0

    @property
    def blocking(self) -> bool:
        return False


def removal_consequences(enrollment: Enrollment) -> Consequences:
    # Attendance does not exist yet: the signing feature counts the slots signed here (and may block).
    return Consequences(signed_slots=0)


def remove_enrollment(enrollment: Enrollment, actor: Actor) -> None:
    consequences = removal_consequences(enrollment)
    if consequences.blocking:
        raise ParticipantError(_l("This enrollment cannot be removed."))
    record(
        actor,
        "enrollment.removed",
        enrollment,
        session_id=enrollment.session_id,
        participant_id=enrollment.participant_id,
        funder=enrollment.funder,
        signed_slots=consequences.signed_slots,
    )
    db.session.delete(enrollment)
    db.session.flush()


# --- export ------------------------------------------------------------------------------------------------


def export_columns() -> list[str]:
    # Headers the importer recognises, so an exported file can be edited and imported back.
    return [
        str(_l("Civility")),
        str(_l("First name")),
        str(_l("Last name")),
        str(_l("Email")),
        str(_l("Mobile phone")),
        str(_l("Company")),
        str(_l("Job title")),
        str(_l("Language")),
    ]


def _participant_cells(p: Participant) -> list:
    civility = civility_labels().get(p.civility or "", "")
    return [
        civility,
        p.first_name,
        p.last_name,
        p.email,
        format_phone(p.mobile),
        p.company,
        p.job_title,
        p.language,
    ]


def export_directory(query: Select, actor: Actor) -> bytes:
    yes, no = str(_l("yes")), str(_l("no"))
    header = export_columns() + [str(_l("SMS consent")), str(_l("Archived"))]
    people = db.session.scalars(ordered(query)).all()
    rows = (
        _participant_cells(p) + [yes if p.sms_consent else no, yes if p.archived_at else no] for p in people
    )
    data = write_csv(header, rows)
    record(actor, "participants.exported", object_type="participants", count=len(people))
    return data


def export_roster(session: TrainingSession, actor: Actor) -> bytes:
    labels = funder_labels()
    header = export_columns() + [str(_l("Funder")), str(_l("Funder's file reference"))]
    enrollments = roster(session)
    rows = (
        _participant_cells(e.participant) + [labels.get(e.funder, e.funder), e.funder_reference]
        for e in enrollments
    )
    data = write_csv(header, rows)
    record(actor, "session.roster_exported", session, count=len(enrollments))
    return data
