"""Email delivery: batches through a real SMTP server (aiosmtpd) and, on PostgreSQL, a real RQ worker on Redis.

The helpers here (the SMTP sink, the world, ``queue``) are shared by the other delivery tests of this folder.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tenants import current_tenant
from tests.conftest import _free_port, run_jobs
from tests.signing.conftest import build_world

# --- an SMTP sink that can refuse, drop and stall ------------------------------------------------------------


class Sink:
    """A real SMTP server (aiosmtpd) keeping what it receives, that can be told to misbehave per recipient.

    ``refuse``: addresses answered "550" at RCPT (a permanent refusal); ``busy``: answered "451" (temporary);
    ``drop``: the connection is closed at RCPT ("421"); ``stall_after``: once that many messages were taken,
    the next one (only) is received but not answered until ``release()``.
    """

    def __init__(self):
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        self.host, self.port = "127.0.0.1", _free_port()
        self.messages, self.refuse, self.busy, self.drop = [], set(), set(), set()
        self.stall_after: int | None = None
        self.stalled = threading.Event()
        self._release = threading.Event()
        self.connections = 0
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in sink.refuse:
                    return "550 5.1.1 no such mailbox"
                if address in sink.busy:
                    return "451 4.3.0 try again later"
                if address in sink.drop:
                    return "421 4.3.2 closing the connection"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.content, policy=policy.default)
                if len(sink.messages) == sink.stall_after and not sink.stalled.is_set():
                    sink.stalled.set()
                    sink.messages.append(message)
                    while not sink._release.is_set():
                        await asyncio.sleep(0.05)
                    return "451 released"
                sink.messages.append(message)
                return "250 2.0.0 OK queued"

        self.controller = Controller(Handler(), hostname=self.host, port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self._release.set()
        self.controller.stop()

    def release(self):
        self._release.set()

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def sink():
    box = Sink().start()
    yield box
    box.stop()


def closed_port() -> int:
    return _free_port()  # nothing listens there once the probe socket is closed


@pytest.fixture
def mail_app(make_app, sink):
    return make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port, MAIL_TIMEOUT=5)


@pytest.fixture
def dispatched(monkeypatch):
    """Every job the message services handed to the queue: (tenant id, ids, delay)."""
    from blueprints.messages import services

    calls = []
    real = services.dispatch

    def record(call, app=None):
        calls.append((call.args[0], list(call.args[1]), call.delay))
        return real(call, app)

    monkeypatch.setattr(services, "dispatch", record)
    return calls


def world_of(app, make_tenant):
    return build_world(app, make_tenant)


def queue(app, slug: str, recipients, **extra) -> list[int]:
    """Queue a sign-in email to each ``(address, name, language)`` in one transaction; their ids."""
    from blueprints.messages.services import N_, queue_email
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        messages = [
            queue_email(
                "signin_link",
                tenant=current_tenant(),
                to=address,
                name=name,
                language=language,
                subject=N_("Your sign-in link for %(training)s"),
                context={"training": "Safety at work", "link": f"http://localhost/{slug}/sign/abc"},
                **extra,
            )
            for address, name, language in recipients
        ]
        db.session.commit()
        return [m.id if m else None for m in messages]


def rows(app, slug: str, ids=None) -> dict:
    """Messages by id, detached, as another connection sees them now."""
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        query = select(Message).order_by(Message.id)
        if ids is not None:
            query = query.where(Message.id.in_(ids))
        found = list(db.session.scalars(query))
        for message in found:
            db.session.expunge(message)
        return {m.id: m for m in found}


def backdate(app, slug: str, ids, **deltas) -> None:
    """Move the clock: each column named in ``deltas`` (created_at=…) goes back by that timedelta."""
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope(slug, app):
        for column, delta in deltas.items():
            db.session.execute(update(Message).where(Message.id.in_(ids)).values({column: utcnow() - delta}))
        db.session.commit()


def sweep_messages(app, slug: str = "acme") -> dict | None:
    """The minute's pass of message repairs for ``slug``: its job runs here, only if the platform's work index
    says the tenant is due (None otherwise, as the pass would skip it)."""
    from jobs.messages import sweep_tenant_messages
    from tenants import find_tenant, work

    with app.app_context():
        ref = find_tenant(slug=slug)
        if ref.id not in work.due_tenants("message-repairs"):
            return None
        return sweep_tenant_messages(ref.id)


def send_now(app, slug: str, ids) -> dict:
    """Run the send job in this process (as a second run of the same job would)."""
    from jobs.messages import send_messages
    from tenants import find_tenant

    with app.app_context():
        tenant_id = find_tenant(slug=slug).id
    with app.app_context():
        return send_messages(tenant_id, list(ids))


PEOPLE = [
    ("paul@acme-client.fr", "Paul Martin", "en"),
    ("zoe@acme-client.fr", "Zoé Petit", "fr"),
    ("max@acme-client.fr", "Max Durand", "en"),
]


# --- tests -----------------------------------------------------------------------------------------------------


def test_a_batch_goes_out_in_one_job_multipart_in_each_language_from_the_organization(
    mail_app, make_tenant, sink, dispatched, backend
):
    world_of(mail_app, make_tenant)
    ids = queue(mail_app, "acme", PEOPLE)
    assert len(dispatched) == 1 and sorted(dispatched[0][1]) == sorted(ids)
    if backend == "postgresql":
        # Handed to Redis: queued, waiting for a worker.
        assert {m.status for m in rows(mail_app, "acme", ids).values()} == {"queued"}
    run_jobs(mail_app)
    assert len(sink.messages) == 3 and sink.connections == 1
    for message in sink.messages:
        assert message["From"].addresses[0].display_name == "Acme"
        assert message["From"].addresses[0].addr_spec == "no-reply@emarge.localhost"
        assert message["Reply-To"] == "ada@acme.fr"
        assert message.get_content_type() == "multipart/alternative"
        assert message.get_body(("html",)).get_content().count("http://localhost/acme/sign/abc") >= 1
    assert sink.to("paul@")[0]["Subject"] == "Your sign-in link for Safety at work"
    assert sink.to("zoe@")[0]["Subject"] == "Votre lien d’émargement pour Safety at work"
    sent = rows(mail_app, "acme", ids).values()
    assert {(m.status, m.attempts) for m in sent} == {("sent", 1)}
    assert all(m.sent_at and m.provider_answer.startswith("250") for m in sent)


def test_more_than_a_batch_is_split_into_jobs_of_at_most_BATCH(app, make_tenant, dispatched, monkeypatch):
    from blueprints.messages import services

    assert services.BATCH <= 200
    monkeypatch.setattr(services, "BATCH", 2)
    world_of(app, make_tenant)
    ids = queue(
        app, "acme", PEOPLE + [("eve@acme-client.fr", "Eve", "en"), ("bob@acme-client.fr", "B", "en")]
    )
    assert [len(call[1]) for call in dispatched] == [2, 2, 1]
    assert sorted(i for call in dispatched for i in call[1]) == sorted(ids)


def test_a_job_run_twice_sends_once(mail_app, make_tenant, sink, backend):
    world_of(mail_app, make_tenant)
    ids = queue(mail_app, "acme", PEOPLE[:2])
    if backend == "postgresql":
        # The same job twice in the queue, as after a sweep that raced a slow worker.
        from blueprints.messages.services import dispatch_messages
        from tenants import tenant_scope

        with tenant_scope("acme", mail_app) as tenant:
            dispatch_messages(tenant, ids)
    run_jobs(mail_app)
    assert send_now(mail_app, "acme", ids) == {"sent": 0, "failed": 0, "retry": 0, "unknown": 0}
    assert len(sink.messages) == 2
    assert {m.attempts for m in rows(mail_app, "acme", ids).values()} == {1}


def test_a_refused_connection_is_retried_with_backoff_then_sent(make_app, make_tenant, sink, backend):
    from jobs.messages import BACKOFF

    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_TIMEOUT=2)
    world_of(down, make_tenant)
    ids = queue(down, "acme", PEOPLE)
    run_jobs(down)
    waiting = rows(down, "acme", ids).values()
    # A delayed job was handed over for each: queued, not before the backoff.
    assert {(m.status, m.attempts) for m in waiting} == {("queued", 1)}
    for m in waiting:
        assert "cannot connect" in m.provider_answer and m.last_attempt_at is not None
        wait = (m.not_before - m.last_attempt_at).total_seconds()
        assert BACKOFF[0] - 2 <= wait <= BACKOFF[0] + 2
    if backend == "postgresql":
        from rq.registry import ScheduledJobRegistry

        backend_ = down.extensions["emarge.jobs"]
        assert len(ScheduledJobRegistry(queue=backend_.queue("messaging"))) == 1  # one delayed job, not three
    # Before its not_before, a job leaves it alone …
    assert send_now(down, "acme", ids)["retry"] == 0
    # … after it, the server is back: sent on the second attempt.
    up = make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    backdate(up, "acme", ids, not_before=timedelta(seconds=1))
    assert send_now(up, "acme", ids)["sent"] == 3
    assert {(m.status, m.attempts) for m in rows(up, "acme", ids).values()} == {("sent", 2)}
    assert len(sink.messages) == 3


def test_the_last_attempt_fails_for_good(make_app, make_tenant):
    from blueprints.messages.models import Message
    from jobs.messages import MAX_ATTEMPTS
    from tenants import tenant_scope
    from tenants.db import db

    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_TIMEOUT=2)
    world_of(down, make_tenant)
    ids = queue(down, "acme", PEOPLE[:1])
    run_jobs(down)
    with tenant_scope("acme", down):
        db.session.execute(
            update(Message).values(attempts=MAX_ATTEMPTS - 1, status="pending", not_before=None)
        )
        db.session.commit()
    assert send_now(down, "acme", ids)["failed"] == 1
    (message,) = rows(down, "acme", ids).values()
    assert message.status == "failed" and message.attempts == MAX_ATTEMPTS
    assert message.provider_answer.startswith(f"gave up after {MAX_ATTEMPTS} attempts")


def test_a_5xx_refusal_fails_that_one_for_good_while_the_others_go(mail_app, make_tenant, sink, backend):
    sink.refuse.add("zoe@acme-client.fr")
    sink.busy.add("max@acme-client.fr")
    world_of(mail_app, make_tenant)
    ids = queue(mail_app, "acme", PEOPLE)
    run_jobs(mail_app)
    by_address = {m.recipient: m for m in rows(mail_app, "acme", ids).values()}
    assert by_address["paul@acme-client.fr"].status == "sent"
    assert by_address["zoe@acme-client.fr"].status == "failed"
    assert by_address["zoe@acme-client.fr"].provider_answer.startswith("550")
    assert by_address["max@acme-client.fr"].status in ("pending", "queued")  # 451: tried again later
    assert by_address["max@acme-client.fr"].provider_answer.startswith("451")
    assert [m["To"] for m in sink.messages] == ["Paul Martin <paul@acme-client.fr>"]
    assert sink.connections == 1  # a refusal does not cost the connection


def test_a_dropped_connection_is_reopened_for_the_rest_of_the_batch(mail_app, make_tenant, sink):
    sink.drop.add("paul@acme-client.fr")
    world_of(mail_app, make_tenant)
    ids = queue(mail_app, "acme", PEOPLE)
    run_jobs(mail_app)
    by_address = {m.recipient: m for m in rows(mail_app, "acme", ids).values()}
    assert by_address["paul@acme-client.fr"].status in ("pending", "queued")
    assert by_address["zoe@acme-client.fr"].status == by_address["max@acme-client.fr"].status == "sent"
    assert sink.connections == 2
    assert "sending" not in {m.status for m in by_address.values()}


def test_an_answer_lost_after_the_message_was_handed_over_makes_it_unknown(make_app, make_tenant, sink):
    sink.stall_after = 1  # the second message is taken but never answered
    app = make_app(MAIL_SERVER=sink.host, MAIL_PORT=sink.port, MAIL_TIMEOUT=1)
    world_of(app, make_tenant)
    ids = queue(app, "acme", PEOPLE)
    run_jobs(app)
    sink.release()
    by_id = rows(app, "acme", ids)
    statuses = [by_id[i].status for i in ids]
    assert statuses[:2] == ["sent", "unknown"]
    assert "outcome unknown" in by_id[ids[1]].provider_answer
    # The third went out on a new connection; the unknown one is never sent again by a job.
    assert statuses[2] == "sent"
    assert send_now(app, "acme", ids)["sent"] == 0
    assert len(sink.to("zoe@")) == 1


def test_malformed_addresses_are_skipped_with_a_reason_and_never_enqueued(app, make_tenant, dispatched):
    world_of(app, make_tenant)
    ids = queue(app, "acme", [("not-an-address", "X", "en"), ("", "Y", "en")])
    assert dispatched == []
    found = rows(app, "acme", ids)
    assert [found[i].status for i in ids] == ["failed", "failed"]
    assert found[ids[0]].provider_answer.startswith("skipped: malformed address")
    assert found[ids[1]].provider_answer == "skipped: no address"


def test_a_participant_whose_processing_is_restricted_gets_nothing(app, make_tenant, dispatched):
    from blueprints.messages.services import can_resend

    world = world_of(app, make_tenant)
    ids = queue(app, "acme", [("rita@acme-client.fr", "Rita Bernard", "en")], participant_id=world.rita)
    assert dispatched == []
    (message,) = rows(app, "acme", ids).values()
    assert message.status == "failed" and message.provider_answer == "skipped: processing restricted"
    assert message.body_text is None and not can_resend(message)


def test_a_used_dedupe_key_writes_nothing_and_the_transaction_goes_on(app, make_tenant, dispatched):
    from blueprints.messages.models import Message
    from blueprints.messages.services import N_, queue_email
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    world_of(app, make_tenant)
    queue(app, "acme", PEOPLE[:1], dedupe_key="reminder-1-1-email")
    with tenant_scope("acme", app):
        db.session.add(Participant(first_name="New", last_name="One", email="new@acme-client.fr"))
        again = queue_email(
            "signin_link",
            tenant=current_tenant(),
            to="paul@acme-client.fr",
            name="Paul",
            language="en",
            subject=N_("Your sign-in link for %(training)s"),
            context={"training": "T", "link": "http://x"},
            dedupe_key="reminder-1-1-email",
        )
        assert again is None
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Message)) == 1
        assert db.session.scalar(select(func.count()).where(Participant.email == "new@acme-client.fr")) == 1
    assert len(dispatched) == 1


def test_a_certificate_is_attached_from_storage(mail_app, make_tenant, sink):
    from blueprints.documents.models import CERTIFICATE, Document, subject_key
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    world = world_of(mail_app, make_tenant)
    pdf = b"%PDF-1.4\n% a certificate\n%%EOF\n"
    with tenant_scope("acme", mail_app):
        blob = storage().put(pdf, content_type="application/pdf", filename="certificate.pdf")
        document = Document(
            kind=CERTIFICATE,
            subject_key=subject_key(world.session_id, participant_id=world.paul),
            session_id=world.session_id,
            participant_id=world.paul,
            blob_key=blob.key,
            filename="certificat-paul-martin.pdf",
            content_type="application/pdf",
            size=blob.size,
            sha256=blob.sha256,
            verification_code="ABCD-EFGH-JK",
        )
        db.session.add(document)
        db.session.commit()
        document_id = document.id
    queue(mail_app, "acme", PEOPLE[:1], attachment_document_id=document_id, participant_id=world.paul)
    run_jobs(mail_app)
    (message,) = sink.messages
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "certificat-paul-martin.pdf"
    assert attachment.get_content() == pdf
    assert message.get_body(("plain",)).get_content().startswith("Hello Paul Martin")


def test_sensitive_bodies_are_wiped_once_sent(mail_app, make_tenant, sink):
    world_of(mail_app, make_tenant)
    ids = queue(mail_app, "acme", PEOPLE[:1], sensitive=True)
    run_jobs(mail_app)
    (message,) = rows(mail_app, "acme", ids).values()
    assert message.status == "sent" and message.body_text is None and message.body_html is None
    assert len(sink.messages) == 1


def test_resend_makes_a_new_row_to_the_current_address_and_is_audited(mail_app, make_tenant, sink):
    from blueprints.audit.models import AuditEvent
    from blueprints.audit.services import Actor
    from blueprints.messages.models import Message
    from blueprints.messages.services import CannotResend, can_resend, resend, resend_failed
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    world = world_of(mail_app, make_tenant)
    sink.refuse.add("paul@acme-client.fr")
    (failed_id,) = queue(mail_app, "acme", PEOPLE[:1], participant_id=world.paul)
    (sent_id,) = queue(mail_app, "acme", PEOPLE[1:2], participant_id=world.zoe)
    run_jobs(mail_app)
    with tenant_scope("acme", mail_app):
        # The address was wrong; corrected since.
        db.session.get(Participant, world.paul).email = "paul.martin@acme-client.fr"
        failed, sent = db.session.get(Message, failed_id), db.session.get(Message, sent_id)
        assert can_resend(failed) and not can_resend(sent)
        with pytest.raises(CannotResend):
            resend(sent, Actor.system(), tenant=current_tenant())
        copy = resend(failed, Actor.system("ada@acme.fr"), tenant=current_tenant())
        assert copy.resend_of_id == failed_id and copy.recipient == "paul.martin@acme-client.fr"
        assert copy.status == "pending" and copy.body_text == failed.body_text
        db.session.commit()
        # Already resent: "resend all failed" leaves it alone.
        assert (
            resend_failed(
                select(Message).where(Message.status == "failed"), Actor.system(), tenant=current_tenant()
            )
            == 0
        )
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "message.resent")).all()
        assert [(e.object_id, e.details["new_message_id"]) for e in events] == [(failed_id, copy.id)]
    run_jobs(mail_app)
    assert [m["To"].addresses[0].addr_spec for m in sink.messages] == [
        "zoe@acme-client.fr",
        "paul.martin@acme-client.fr",
    ]


def test_resend_failed_resends_each_failed_or_unknown_one_once(app, make_tenant, dispatched):
    from blueprints.audit.services import Actor
    from blueprints.messages.models import Message
    from blueprints.messages.services import resend_failed
    from tenants import tenant_scope
    from tenants.db import db

    world_of(app, make_tenant)
    ids = queue(app, "acme", PEOPLE)
    run_jobs(app)
    with tenant_scope("acme", app):
        db.session.execute(update(Message).where(Message.id == ids[0]).values(status="failed"))
        db.session.execute(update(Message).where(Message.id == ids[1]).values(status="unknown"))
        db.session.execute(update(Message).where(Message.id == ids[2]).values(status="sent"))
        db.session.commit()
        assert resend_failed(select(Message), Actor.system(), tenant=current_tenant()) == 2
        db.session.commit()
        assert resend_failed(select(Message), Actor.system(), tenant=current_tenant()) == 0
        copies = db.session.scalars(select(Message.resend_of_id).where(Message.resend_of_id.is_not(None)))
        assert sorted(copies) == ids[:2]


def test_the_sweep_flags_stuck_rows_unknown_and_enqueues_what_waits_too_long(app, make_tenant, dispatched):
    from jobs.messages import sweep_tenant_messages
    from tenants import find_tenant, work

    world_of(app, make_tenant)
    ids = queue(
        app, "acme", PEOPLE + [("eve@acme-client.fr", "Eve", "en"), ("bob@acme-client.fr", "B", "en")]
    )
    stuck, lost, later, fresh, old_queued = ids
    run_jobs(app)
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope("acme", app):
        now = utcnow()
        values = {
            stuck: {"status": "sending", "last_attempt_at": now - timedelta(minutes=11)},
            lost: {"status": "pending", "created_at": now - timedelta(minutes=5), "not_before": None},
            later: {
                "status": "pending",
                "created_at": now - timedelta(hours=1),
                "not_before": now + timedelta(minutes=5),
            },
            fresh: {
                "status": "queued",
                "created_at": now - timedelta(minutes=5),
                "not_before": now - timedelta(minutes=4),
            },
            old_queued: {"status": "queued", "not_before": now - timedelta(minutes=11)},
        }
        for message_id, changes in values.items():
            db.session.execute(update(Message).where(Message.id == message_id).values(**changes))
        db.session.commit()
    dispatched.clear()
    with app.app_context():
        acme = find_tenant(slug="acme")
        # The commit of those rows told the platform's index: the minute's pass picks the tenant.
        assert work.due_tenants("message-repairs") == [acme.id]
        counts = sweep_tenant_messages(acme.id)
    assert counts == {"unknown": 1, "enqueued": 2}
    assert sorted(i for call in dispatched for i in call[1]) == sorted([lost, old_queued])
    found = rows(app, "acme", ids)
    assert found[stuck].status == "unknown" and "worker stopped" in found[stuck].provider_answer
    assert found[later].status == "pending"


def test_a_job_waits_for_commit_and_a_rollback_sends_nothing(app, make_tenant, dispatched):
    from blueprints.messages.services import N_, queue_email
    from tenants import tenant_scope
    from tenants.db import db

    world_of(app, make_tenant)
    with tenant_scope("acme", app):
        queue_email(
            "signin_link",
            tenant=current_tenant(),
            to="paul@acme-client.fr",
            name="Paul",
            language="en",
            subject=N_("Your sign-in link for %(training)s"),
            context={"training": "T", "link": "http://x"},
        )
        assert dispatched == []
        db.session.rollback()
        db.session.commit()
    assert dispatched == []
    started = time.monotonic()
    queue(app, "acme", PEOPLE[:1])
    assert len(dispatched) == 1 and time.monotonic() - started < 5
