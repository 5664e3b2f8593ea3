"""A world for the outreach tests: an organization, a session with one slot, and participants who can be
reached in every way (or not at all)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Who is who. Mobile numbers are French mobiles (06…); "landline" is a fixed line.
PEOPLE = {
    # name: (email, mobile, sms consent, restricted, archived, enrolled)
    "ann": ("ann@client.fr", None, False, False, False, True),
    "bob": ("bob@client.fr", "+33612345678", True, False, False, True),
    "cid": (None, "+33612345679", True, False, False, True),
    "dan": ("dan@client.fr", "+33612345670", False, False, False, True),
    "eve": (None, "+33612345671", False, False, False, True),
    "rita": ("rita@client.fr", "+33612345672", True, True, False, True),
    "arch": ("arch@client.fr", None, False, False, True, True),
    "out": ("out@client.fr", None, False, False, False, False),
}


@dataclass
class OutreachWorld:
    slug: str
    tenant_id: int
    session_id: int
    other_session_id: int
    slot_id: int  # starts at ``start``, 3 hours
    next_slot_id: int  # the next day, same time
    start: datetime
    people: dict[str, int] = field(default_factory=dict)
    admin: str = ""
    facilitator: str = ""
    other_facilitator: str = ""


def build_outreach_world(
    app,
    make_tenant,
    *,
    slug: str = "acme",
    start: datetime | None = None,
    channels: str = "email",
    invited: bool = False,
) -> OutreachWorld:
    """``invited``: each enrolled participant with an address already had their invitation (a message row,
    sent), as reminders require."""
    from blueprints.accounts.models import Organization, User
    from blueprints.messages.models import Message
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    # Far from now by default: the periodic reminder job, which the job runners start at the real time,
    # finds nothing to do in this world unless a test says when "now" is.
    start = (start or datetime.now(UTC) + timedelta(days=10)).replace(second=0, microsecond=0)
    admin, fred, olga = f"ada@{slug}.fr", f"fred@{slug}.fr", f"olga@{slug}.fr"
    ref = make_tenant(
        slug, admin=admin, facilitators=(fred, olga), language="en", name=f"{slug.title()} Formation"
    )
    with tenant_scope(slug, app):
        db.session.scalars(db.select(Organization)).one().signin_channels = channels
        trainer = db.session.scalars(db.select(User).filter_by(email=fred)).one()
        training = Training(title="Safety at work", planned_hours=14)
        session = TrainingSession(
            training=training,
            start_date=start.date(),
            end_date=(start + timedelta(days=1)).date(),
            timezone="Europe/Paris",
            location_name="Room 4",
        )
        session.facilitators = [trainer]
        other = TrainingSession(training=training, start_date=start.date(), end_date=start.date())
        slot = Slot(session=session, day=start.date(), starts_at=start, ends_at=start + timedelta(hours=3))
        later = start + timedelta(days=1)
        next_slot = Slot(
            session=session, day=later.date(), starts_at=later, ends_at=later + timedelta(hours=3)
        )
        db.session.add_all([training, session, other, slot, next_slot])
        people = {}
        for name, (email, mobile, consent, restricted, archived, _enrolled) in PEOPLE.items():
            people[name] = Participant(
                first_name=name.title(),
                last_name="Client",
                email=email,
                mobile=mobile,
                sms_consent=consent,
                processing_restricted=restricted,
                archived_at=utcnow() if archived else None,
                language="en",
            )
        db.session.add_all(people.values())
        db.session.flush()
        for name, participant in people.items():
            enrolled = PEOPLE[name][5]
            db.session.add(
                Enrollment(session_id=(session if enrolled else other).id, participant_id=participant.id)
            )
            if invited and enrolled and (participant.email or participant.mobile):
                db.session.add(
                    Message(
                        channel="email" if participant.email else "sms",
                        template="invitation_signin",
                        recipient=participant.email or participant.mobile,
                        subject="Invitation",
                        status="sent",
                        session_id=session.id,
                        participant_id=participant.id,
                    )
                )
        db.session.commit()
        return OutreachWorld(
            slug=slug,
            tenant_id=ref.id,
            session_id=session.id,
            other_session_id=other.id,
            slot_id=slot.id,
            next_slot_id=next_slot.id,
            start=start,
            people={name: p.id for name, p in people.items()},
            admin=admin,
            facilitator=fred,
            other_facilitator=olga,
        )


def messages(app, slug: str, **where) -> list:
    """The tenant's messages (detached), oldest first, filtered by column values."""
    from sqlalchemy import select

    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        query = select(Message).filter_by(**where).order_by(Message.id)
        rows = db.session.scalars(query).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def dev_sms(app, slug: str) -> list:
    from sqlalchemy import select

    from blueprints.messages.models import DevSms
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        rows = db.session.scalars(select(DevSms).order_by(DevSms.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(app, slug: str) -> list[str]:
    from sqlalchemy import select

    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
