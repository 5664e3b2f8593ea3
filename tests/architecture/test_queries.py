"""A page's SQL statements do not grow with its rows.

The walk requests every GET page (the walk of tests/architecture/test_reads.py, with a real sign-in link for the
trainee's page): an organization's as its admin, the staff console's as a staff member, the rest as a visitor,
counting the statements each one sends, at two sizes: a few rows of everything, then ten more of each kind
(trainings, sessions of the training, trainees enrolled and signed in the same session and half-day, messages,
documents, users, logins, tasks; organizations, policy versions and sub-processors on the platform). A
page whose count grew loads something per row: it fails here with both counts, until it loads them together
(``selectinload``, a join, one query for all).

Every request is made twice and the second is counted: the first fills the per-process copies of the
organization and the policies (``tenants/lookups.py``), which a warm process does not read again.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.architecture.test_reads import _url
from tests.conftest import login, run_jobs
from tests.tenants.conftest import add_objects

SKIPPED = {
    "accounts.logout": "signs out",
    "static": "files, no SQL",
}


def _grow(app, tenant, start: int, count: int) -> None:
    """``count`` more of each kind of row around the objects with id 1, made through the services."""
    from blueprints.accounts.logins import open_login
    from blueprints.accounts.models import FACILITATOR, User
    from blueprints.accounts.services import invite_user
    from blueprints.demo.seed import signature_png
    from blueprints.documents.models import CERTIFICATE, Document, DocumentCode, subject_key
    from blueprints.documents.services import new_code
    from blueprints.messages import outreach
    from blueprints.participants import services as participants
    from blueprints.participants.models import Participant
    from blueprints.signing import services as signing
    from blueprints.signing.models import FACILITATOR_DEVICE
    from blueprints.tasks.services import start_task
    from blueprints.trainings import services as trainings
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import Actor, tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    with tenant_scope(tenant, app):
        admin, fred = db.session.get(User, 1), db.session.get(User, 2)
        actor = Actor.for_user(admin)
        training, session, slot = (db.session.get(kind, 1) for kind in (Training, TrainingSession, Slot))
        trainings.update_session(
            session,
            trainings.SessionData(
                start_date=session.start_date,
                end_date=session.end_date,
                facilitator_ids=sorted({fred.id, *(u.id for u in session.facilitators)}),
            ),
            actor,
        )
        paul = db.session.get(Participant, 1)
        pdf = storage().put(b"%PDF-1.4 grown", content_type="application/pdf", filename="c.pdf")
        today = date.today()
        for k in range(start, start + count):
            other = trainings.create_training(
                trainings.TrainingData(
                    title=f"Training {k}",
                    reference=f"T{k}",
                    objectives=None,
                    planned_hours=Decimal(7),
                    modality="in_person",
                    nature="training_action",
                ),
                actor,
            )
            dates = trainings.SessionData(start_date=today, end_date=today, facilitator_ids=[fred.id])
            options = trainings.SlotOptions(include_holidays=True)
            trainings.create_session(other, dates, actor, options)
            more, *_ = trainings.create_session(training, dates, actor, options)
            participants.enroll(more, paul, "employer", None, actor)
            person = participants.create_participant(
                {"first_name": f"Trainee{k}", "last_name": f"Number{k}", "email": f"t{k}@example.org"},
                actor,
                language="fr",
            )
            participants.enroll(session, person, "opco", f"REF-{k}", actor)
            signing.sign(
                slot,
                person,
                signature_png(k),
                Actor.for_user(fred),
                method=FACILITATOR_DEVICE,
                now=slot.starts_at + timedelta(minutes=5),
            )
            outreach.invite(session, person, actor, tenant=tenant, channel="email")
            document = Document(
                kind=CERTIFICATE,
                subject_key=subject_key(session.id, participant_id=person.id),
                session_id=session.id,
                participant_id=person.id,
                version=1,
                blob_key=pdf.key,
                filename=f"c{k}.pdf",
                content_type="application/pdf",
                size=pdf.size,
                sha256=pdf.sha256,
                verification_code=new_code(),
            )
            db.session.add(document)
            db.session.flush()
            db.session.add(
                DocumentCode(code=document.verification_code, tenant_id=tenant.id, document_id=document.id)
            )
            invite_user(
                email=f"user{k}@alpha.fr",
                first_name="User",
                last_name=f"Number{k}",
                role=FACILITATOR,
                language="fr",
                inviter=admin,
                actor=actor,
                tenant=tenant,
            )
            open_login(admin, {"ip": "192.0.2.9", "user_agent": "Firefox/1"}, remember=False)
            start_task("test", f"task {k}", admin.id)
        db.session.commit()


def _grow_platform(app, make_tenant, start: int, count: int) -> None:
    """``count`` more organizations, policy versions and sub-processors: what the staff's lists show."""
    from blueprints.privacy import policy_versions
    from tenants.db import db

    for k in range(start, start + count):
        make_tenant(f"org{k:02d}", admin=f"admin@org{k:02d}.fr")
    with app.app_context():
        for k in range(start, start + count):
            for kind in ("privacy", "cookies", "legal"):
                policy_versions.publish(
                    kind, body_fr=f"Version {k}", body_en=f"Version {k}", summary_en=f"{k}"
                )
            policy_versions.save_sub_processor(
                None,
                name=f"Host {k}",
                role_fr="Hébergement",
                role_en="Hosting",
                country="FR",
                leaves_eu=False,
                safeguards="",
                position=100 + k,
            )
        db.session.commit()


def _real_urls(app, tenant) -> dict[str, str]:
    """Pages reached by a token or a code, with real ones: the trainee's page, the live poll of slot 1,
    the public check of a certificate."""
    from blueprints.documents.models import Document
    from blueprints.participants.models import Participant
    from blueprints.signing.models import TRAINEE
    from blueprints.signing.signin_links import find_trainee_link
    from blueprints.signing.tokens import link_token, live_token
    from blueprints.trainings.models import TrainingSession
    from blueprints.web.keys import secret_keys
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(tenant, app):
        link = find_trainee_link(db.session.get(TrainingSession, 1), db.session.get(Participant, 1))
        code = db.session.scalar(select(Document.verification_code).where(Document.filename == "c0.pdf"))
        return {
            "signing.sign_page": f"/{tenant.slug}/sign/{link_token(TRAINEE, tenant.slug, link.id, link.nonce)}",
            "signing_live.poll": f"/live/{live_token(secret_keys(app.config), tenant.schema, 1)}?v=0",
            "verify.document": f"/verify/{code}",
        }


def _counts(app, client, urls) -> dict[str, tuple[int, list[str]]]:
    """(status, statements sent) of the second request of each URL."""
    from tenants.db import db

    sent, here = [], threading.get_ident()

    def count(connection, cursor, statement, *args):
        # The request's own statements (the test client serves it in this thread), not the job thread's.
        if threading.get_ident() == here:
            sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        found = {}
        for url in urls:
            client.get(url)
            sent.clear()
            status = client.get(url).status_code
            found[url] = (status, list(sent))
        return found
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _repeated(statements: list[str]) -> str:
    """The statement sent most often, shortened: where to look."""
    statement, times = Counter(statements).most_common(1)[0]
    return f"{times} × {statement[:300]}"


def _measure(app, clients: dict[str, list[str]]) -> dict[str, tuple[int, list[str]]]:
    run_jobs(app)
    found = {}
    for client, urls in clients.items():
        found.update(_counts(app, client, urls))
    return found


@pytest.mark.slow
def test_no_page_sends_more_statements_for_more_rows(app, make_tenant):
    from tests.privacy.conftest import sign_in_staff

    alpha = make_tenant("alpha", admin="ada@alpha.fr", facilitators=("fred@alpha.fr",))
    add_objects(app, alpha, 1)
    _grow(app, alpha, 0, 2)
    _grow_platform(app, make_tenant, 0, 2)
    admin, staff, visitor = app.test_client(), app.test_client(), app.test_client()
    assert login(admin, "alpha", "ada@alpha.fr").status_code == 303
    sign_in_staff(app, staff)

    clients, problems = {admin: [], staff: [], visitor: []}, []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        url = _real_urls(app, alpha).get(rule.endpoint) or _url(rule, "alpha")
        if url is None:
            problems.append(
                f"{rule.rule}: an argument the walk cannot fill (teach tests/tenants/conftest.py)"
            )
            continue
        if rule.rule.startswith("/<org>"):
            clients[admin].append(url)
        elif rule.rule.startswith("/staff/"):
            clients[staff].append(url)
        else:
            clients[visitor].append(url)
    urls = [url for group in clients.values() for url in group]
    small = _measure(app, clients)
    _grow(app, alpha, 2, 10)
    _grow_platform(app, make_tenant, 2, 10)
    large = _measure(app, clients)

    for url in urls:
        (status, before), (_, after) = small[url], large[url]
        if status >= 500:
            problems.append(f"GET {url} answered {status}")
        elif len(after) > len(before):
            problems.append(
                f"GET {url}: {len(before)} statements with a few rows, {len(after)} with ten more of each; "
                f"most sent: {_repeated(after)}"
            )
    if os.environ.get("EMARGE_QUERY_REPORT"):  # bench/queries.py: the counts, for docs/performance.md
        with open(os.environ["EMARGE_QUERY_REPORT"], "w") as report:
            json.dump({url: [small[url][0], len(small[url][1]), len(large[url][1])] for url in urls}, report)
    assert problems == [], "\n".join(problems)
    # The pages that matter most were served, not refused: their counts mean something.
    served = {url for url in urls if small[url][0] == 200}
    for page in (
        "roster",
        "links",
        "sessions/1",
        "trainings/1",
        "participants/",
        "messages",
        "users",
        "staff/",
    ):
        assert any(url.endswith(page) or f"/{page}" in url for url in served), page
    assert len(served) >= 55, sorted(set(urls) - served)
