"""Fixtures of the tenancy tests: two organizations holding objects with the same ids."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tenants.models import TenantRef


@dataclass
class Twins:
    alpha: TenantRef
    beta: TenantRef


# The objects each organization holds, all with id 1: user 1 is the admin, user 2 a facilitator, task 1 is
# finished with a file to download, participant 1 is enrolled (enrollment 1) in session 1 of training 1, which
# has slot 1, login 1 is a signed-in browser of the admin. Only the tenant tells alpha's from beta's. URL arguments the isolation walk knows how to fill:
# Text arguments the walk fills with a value every organization has: a help page.
TEXT_ARGS = {"area": "today", "fmt": "csv"}
FILLED_ARGS = (
    "user_id",
    "task_id",
    "training_id",
    "session_id",
    "slot_id",
    "participant_id",
    "enrollment_id",
    "message_id",
    "document_id",
    "paper_sheet_id",
    "login_id",
    "grant_id",
    "support_session_id",
    "request_id",
    "group_id",
    "entry_id",
    "breach_id",
    "justification_id",
)


def add_objects(app, tenant: TenantRef, user_id: int) -> None:
    """One object of each kind in ``tenant``'s schema, each with id 1 (user 2 apart)."""
    from datetime import UTC, date, datetime, time

    from blueprints.messages.models import Message
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.tasks.models import DONE
    from blueprints.tasks.services import start_task
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import storage

    with tenant_scope(tenant, app):
        task = start_task("test", f"export of {tenant.slug}", user_id)
        blob = storage().put(f"{tenant.slug} data".encode(), content_type="text/plain", filename="data.txt")
        task.status, task.result, task.finished_at = DONE, {"blob": blob.key}, utcnow()
        today = date.today()
        training = Training(title=f"{tenant.slug} training", planned_hours=7)
        session = TrainingSession(training=training, start_date=today, end_date=today)
        slot = Slot(
            session=session,
            day=today,
            starts_at=datetime.combine(today, time(8), UTC),
            ends_at=datetime.combine(today, time(20), UTC),
        )
        participant = Participant(
            first_name="Paul", last_name=tenant.slug.title(), email=f"paul@{tenant.slug}.fr"
        )
        db.session.add_all([training, session, slot, participant])
        db.session.flush()
        db.session.add(Enrollment(session_id=session.id, participant_id=participant.id))
        from blueprints.signing.signin_links import issue_links
        from tenants.scope import Actor

        issue_links(session, Actor.system("fixture"), participant_ids=[participant.id])
        message = Message(
            channel="email",
            template="invitation_signin",
            recipient=f"paul@{tenant.slug}.fr",
            subject=f"{tenant.slug} training",
            body_text=f"{tenant.slug} data",
            status="failed",
            session_id=session.id,
            participant_id=participant.id,
        )
        db.session.add(message)
        db.session.flush()
        add_documents(tenant, session, slot, participant)
        from blueprints.accounts.logins import open_login
        from blueprints.accounts.models import User

        login = open_login(
            db.session.get(User, user_id), {"ip": "192.0.2.1", "user_agent": "Firefox/1"}, remember=False
        )
        from datetime import timedelta

        from blueprints.support.models import SupportGrant
        from tenants.db import utcnow

        grant = SupportGrant(ends_at=utcnow() + timedelta(hours=24), granted_by_id=user_id)
        db.session.add(grant)
        db.session.flush()
        from blueprints.rights.models import ACCESS, RightsRequest

        rights = RightsRequest(
            kind=ACCESS, participant_id=participant.id, received_on=today, due_on=today, message="paul's data"
        )
        db.session.add(rights)
        from blueprints.tracking.models import Justification

        proof = storage().put(b"%PDF-1.4 proof", content_type="application/pdf", filename="proof.pdf")
        justification = Justification(
            slot_id=slot.id,
            participant_id=participant.id,
            reason="illness",
            text="flu",
            proof_blob_id=int(proof.key),
            proof_content_type="application/pdf",
        )
        db.session.add(justification)
        db.session.flush()
        assert (message.id, login.login_id, grant.id, rights.id, justification.id) == (1, 1, 1, 1, 1), (
            message.id,
            login.login_id,
        )
        made = (task.id, training.id, session.id, slot.id, participant.id)
        db.session.commit()
    assert made == (1, 1, 1, 1, 1), made


def add_documents(tenant: TenantRef, session, slot, participant) -> None:
    """Document 1 (a certificate of participant 1, its code on the platform) and paper sheet 1 of slot 1."""
    from blueprints.documents.models import CERTIFICATE, Document, DocumentCode, PaperSheet, subject_key
    from tenants.db import db
    from tenants.storage import storage

    pdf = storage().put(f"%PDF-1.4 {tenant.slug}".encode(), content_type="application/pdf", filename="c.pdf")
    document = Document(
        kind=CERTIFICATE,
        subject_key=subject_key(session.id, participant_id=participant.id),
        session_id=session.id,
        participant_id=participant.id,
        version=1,
        blob_key=pdf.key,
        filename="c.pdf",
        content_type="application/pdf",
        size=pdf.size,
        sha256=pdf.sha256,
        verification_code=f"{tenant.slug.upper()[:4]:A<4}-2222",
    )
    sheet = PaperSheet(
        slot_id=slot.id,
        blob_key=pdf.key,
        filename="scan.pdf",
        content_type="application/pdf",
        size=pdf.size,
        sha256=pdf.sha256,
        confirmed_by_name="Fred",
    )
    db.session.add_all([document, sheet])
    db.session.flush()
    db.session.add(
        DocumentCode(code=document.verification_code, tenant_id=tenant.id, document_id=document.id)
    )
    db.session.flush()
    assert (document.id, sheet.id) == (1, 1), (document.id, sheet.id)


@pytest.fixture
def twins(app, make_tenant) -> Twins:
    alpha = make_tenant("alpha", admin="ada@alpha.fr", facilitators=("fred@alpha.fr",))
    beta = make_tenant("beta", admin="bob@beta.fr", facilitators=("fay@beta.fr",))
    for tenant in (alpha, beta):
        add_objects(app, tenant, 1)
    add_support_session(app, alpha)
    return Twins(alpha, beta)


def add_support_session(app, tenant: TenantRef) -> None:
    """Support session 1 and support request 1 with its message 1 (platform rows: ids are the platform's), in
    ``tenant``: the session by a support member, the request by user 1."""
    from datetime import date, timedelta

    from blueprints.staff.models import SUPPORT, Staff
    from blueprints.support.models import ENDED, SupportRequest, SupportRequestMessage, SupportSession
    from tenants.db import db, utcnow

    with app.app_context():
        staff = Staff(
            email="sue@emarge.fr", name="Sue Support", password_hash="x", totp_secret="x", role=SUPPORT
        )
        db.session.add(staff)
        db.session.flush()
        now = utcnow()
        row = SupportSession(
            staff_id=staff.id,
            tenant_id=tenant.id,
            user_id=1,
            reason="Request 12",
            key_hash="0" * 64,
            started_at=now - timedelta(minutes=20),
            last_seen_at=now - timedelta(minutes=15),
            expires_at=now + timedelta(minutes=10),
            ended_at=now - timedelta(minutes=15),
            end_reason=ENDED,
        )
        db.session.add(row)
        request = SupportRequest(
            tenant_id=tenant.id,
            user_id=1,
            user_name="Ann Alpha",
            user_email="ann@alpha.fr",
            subject="The export",
        )
        db.session.add(request)
        db.session.flush()
        db.session.add(
            SupportRequestMessage(
                request_id=request.id,
                body="It does not open.",
                screenshot=b"\x89PNG\r\n\x1a\n",
                screenshot_type="image/png",
            )
        )
        from blueprints.diagnostics.models import ErrorGroup, ErrorReport

        group = ErrorGroup(
            fingerprint="f" * 64, kind="request", exception="RuntimeError", where="/<org>/", count=1
        )
        db.session.add(group)
        db.session.flush()
        db.session.add(
            ErrorReport(
                group_id=group.id,
                reference="ABCD1234",
                kind="request",
                where="/<org>/",
                release="test",
                traceback="Traceback",
                headers="{}",
            )
        )
        from blueprints.changelog.models import ChangelogEntry

        entry = ChangelogEntry(
            published_on=date(2026, 1, 5),
            published=True,
            title_fr="Nouveau",
            title_en="New",
            body_fr="x",
            body_en="x",
        )
        db.session.add(entry)
        from blueprints.breaches.models import Breach, BreachNotice, BreachOrganization

        breach = Breach(
            title="Lost laptop",
            discovered_at=now - timedelta(hours=5),
            recorded_by=staff.id,
            nature=["confidentiality"],
            data_categories="names",
            consequences="x",
            measures_taken="x",
            measures_proposed="",
            contact="dpo@emarge.fr",
        )
        db.session.add(breach)
        db.session.flush()
        db.session.add(
            BreachOrganization(breach_id=breach.id, tenant_id=tenant.id, slug=tenant.slug, name="x")
        )
        db.session.add(BreachNotice(breach_id=breach.id, seq=0, tenant_id=tenant.id, queued_by=staff.id))
        db.session.commit()
        assert row.id == 1 and request.id == 1 and group.id == 1 and entry.id == 1 and breach.id == 1, (
            row.id,
            request.id,
            group.id,
        )
