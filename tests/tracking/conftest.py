"""A session built slot by slot with the marks each trainee got, through the models (the signing services are
tested on their own): ``tracked(app, tenant, days=…, people=…, marks=…)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.conftest import login


@dataclass
class Tracked:
    session_id: int
    slot_ids: list[int]
    people: dict[str, int]  # first name → participant id
    training_id: int


def tracked(
    app,
    tenant,
    *,
    days: list[date],
    people: list[str],
    marks: dict[
        tuple[str, int], tuple
    ],  # (first name, slot index) → (status, attended, late, early[, signed_at, ip, ua, sha, method])
    signed_off: set[int] | None = None,
    facilitator_email: str | None = None,
    capacity: int | None = None,
    title: str = "Safety at work",
    employer: dict[str, str] | None = None,
    restricted: set[str] = frozenset(),
    reuse: dict[str, int] | None = None,
) -> Tracked:
    """Two 3-hour half-days a day (9:00–12:00 and 13:00–16:00 UTC), each signed off unless not in
    ``signed_off`` (None: every one that has ended)."""
    from blueprints.accounts.models import User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing.models import Attendance, SlotState
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope(tenant, app):
        training = Training(title=title, planned_hours=len(days) * 6)
        session = TrainingSession(
            training=training, start_date=days[0], end_date=days[-1], timezone="UTC", capacity=capacity
        )
        if facilitator_email:
            session.facilitators = [db.session.query(User).filter_by(email=facilitator_email).one()]
        db.session.add_all([training, session])
        slots = []
        for day in days:
            for start in (time(9), time(13)):
                slots.append(
                    Slot(
                        session=session,
                        day=day,
                        starts_at=datetime.combine(day, start, UTC),
                        ends_at=datetime.combine(day, start, UTC) + timedelta(hours=3),
                    )
                )
        found = {}
        for name in people:
            if reuse and name in reuse:
                with db.session.no_autoflush:
                    found[name] = db.session.get(Participant, reuse[name])
                continue
            found[name] = Participant(
                first_name=name,
                last_name="Doe",
                email=f"{name.lower()}@trainee.fr",
                language="en",
                processing_restricted=name in restricted,
            )
        db.session.add_all([*slots, *(p for p in found.values() if p.id is None)])
        db.session.flush()
        for name, person in found.items():
            contact = (employer or {}).get(name)
            db.session.add(
                Enrollment(
                    session_id=session.id,
                    participant_id=person.id,
                    funder="cpf",
                    funder_reference=f"CPF-{name}",
                    employer_contact_name="Boss" if contact else None,
                    employer_contact_email=contact,
                )
            )
        now = utcnow()
        for index, slot in enumerate(slots):
            if (signed_off is None and slot.ends_at <= now) or (
                signed_off is not None and index in signed_off
            ):
                db.session.get(SlotState, slot.id).signed_off_at = slot.ends_at
        for (name, index), values in marks.items():
            status, attended, late, early, *extra = values
            signed_at, ip, agent, sha, method = (extra + [None] * 5)[:5]
            slot = slots[index]
            db.session.add(
                Attendance(
                    slot_id=slot.id,
                    participant_id=found[name].id,
                    status=status,
                    attended_minutes=attended,
                    late_minutes=late,
                    early_minutes=early,
                    signed_at=signed_at
                    or (slot.starts_at + timedelta(minutes=late) if status in ("present", "late") else None),
                    ip=ip,
                    user_agent=agent,
                    signature_sha256=sha
                    if sha is not None
                    else (f"{found[name].id:032d}{index:032d}" if status in ("present", "late") else None),
                    method=method or ("own_link" if status in ("present", "late") else None),
                )
            )
        db.session.commit()
        return Tracked(session.id, [s.id for s in slots], {n: p.id for n, p in found.items()}, training.id)


@pytest.fixture
def admin_client(app, make_tenant):
    def build(slug="acme"):
        make_tenant(
            slug, admin=f"ada@{slug}.fr", facilitators=(f"fred@{slug}.fr", f"olga@{slug}.fr"), language="en"
        )
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert login(client, slug, f"ada@{slug}.fr").status_code == 303
        return client

    return build


def client_of(app, slug: str, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, slug, email).status_code == 303
    return client
