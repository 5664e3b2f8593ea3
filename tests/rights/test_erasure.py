"""Erasure by category: after it, a search of every text and binary column of every table of the organization
finds none of the erased values, except in what is kept under the recorded legal obligation (listed below by
table and column); the evidence kept is anonymised when its date passes; a person in a running session is told
about first; and the erasure ledger, kept apart, brings an erasure back after a database restore."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

from sqlalchemy import JSON, LargeBinary, String, Text, select, text
from sqlalchemy.engine import make_url

from tests.conftest import login, run_jobs
from tests.rights.test_export import add_rows
from tests.signing.conftest import data_url, link_path, png

# What the erased person is, everywhere it could be.
ERASED = (
    "Paul",
    "Martin",
    "paul@acme-client.fr",
    "612345678",
    "PaulCorp",
    "Chief Paul",
    "FR-PAUL-123",
    "Allergic",
)
# Kept under the legal obligation the admin records: the documents issued to them, as issued (their file name
# and the PDF itself, which name them).
KEPT = {("documents", "filename"), ("blobs", "data"), ("blobs", "filename")}
# While the attendance evidence is kept (until the obligation's date), its funder file reference stays too.
KEPT_WITH_EVIDENCE = KEPT | {("enrollments", "funder_reference")}


def admin_client(app, world):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, "acme", world.admin).status_code == 303
    return client


def fill_paul(app, world) -> str:
    """Paul signs, is messaged (email and SMS), gets a document, writes a request, is exported; his profile
    is complete. Returns his signing link."""
    from blueprints.messages.models import DevSms, Message
    from blueprints.participants.models import Enrollment, Participant
    from tenants import tenant_scope
    from tenants.db import db

    path = link_path(app, world, world.paul)
    client = app.test_client()
    client.post(path, data={"slot": str(world.remote_slot), "signature": data_url(png())})
    add_rows(app, world)
    client.post(
        f"{path}/my-data/", data={"kind": "erasure", "message": "I am Paul Martin of PaulCorp: erase me."}
    )
    client.post(f"{path}/my-data/export")
    run_jobs(app)
    with tenant_scope(world.slug, app):
        paul = db.session.get(Participant, world.paul)
        paul.mobile, paul.job_title, paul.notes = "+33612345678", "Chief Paul", "Allergic"
        # A rectification, audited with the values before and after.
        from blueprints.audit.services import Actor
        from blueprints.participants.services import update_participant

        update_participant(paul, {"company": "PaulCorp"}, Actor.system("test"))
        enrollment = db.session.scalars(select(Enrollment).where(Enrollment.participant_id == paul.id)).one()
        enrollment.funder_reference = "FR-PAUL-123"
        sms = Message(
            channel="sms",
            template="invitation_signin",
            recipient="+33612345678",
            recipient_name="Paul Martin",
            subject="Paul, sign here",
            body_text="Paul, sign here",
            status="sent",
            participant_id=paul.id,
        )
        db.session.add(sms)
        db.session.flush()
        db.session.add(
            DevSms(message_id=sms.id, recipient="+33612345678", sender="Emarge", body="Paul, sign here")
        )
        db.session.commit()
    return path


def findings(app, world) -> set[tuple[str, str, str]]:
    """(table, column, value) for every erased value still found, in every text and binary column of every
    table of the organization's schema; the blobs of the documents kept are reported as ("blobs", column)."""
    from blueprints.documents.models import Document
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.schema import metadata

    found = set()
    with tenant_scope(world.slug, app):
        document_blobs = {str(k) for k in db.session.scalars(select(Document.blob_key))}
        for table in metadata("tenant").sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary | JSON)]
            if not columns:
                continue
            for row in db.session.execute(select(table)).mappings():
                for column in columns:
                    value = row[column.name]
                    if value is None:
                        continue
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    for erased in ERASED:
                        if erased.encode() in blob:
                            if table.name == "blobs" and str(row["id"]) not in document_blobs:
                                found.add((table.name + "(not a document)", column.name, erased))
                            else:
                                found.add((table.name, column.name, erased))
    return found


def erase(client, world, **form):
    data = {
        "categories": ["contact", "messages", "evidence"],
        "evidence": "keep",
        "keep_years": "6",
        "basis": "Opco rule: attendance kept 6 years",
        **form,
    }
    return client.post(f"/acme/rights/participants/{world.paul}/erase", data=data)


def test_after_erasure_no_column_of_any_table_holds_the_erased_values_but_what_the_law_keeps(app, world):
    from blueprints.participants.models import Participant
    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db

    fill_paul(app, world)
    before = findings(app, world)
    # The search is real: before, Paul is in the participant row, messages, SMS, audit, requests, evidence…
    for place in (
        ("participants", "email"),
        ("messages", "body_text"),
        ("dev_sms", "body"),
        ("audit_events", "actor_label"),
        ("audit_events", "details"),
        ("rights_requests", "message"),
        ("enrollments", "funder_reference"),
    ):
        assert any(f[:2] == place for f in before), place

    admin = admin_client(app, world)
    page = admin.get(f"/acme/rights/participants/{world.paul}/erase").get_data(as_text=True)
    assert "running until" in page  # his session runs: he is told about first
    refused = erase(admin, world)
    assert refused.status_code == 422 and "Tick to confirm" in refused.get_data(as_text=True)
    assert findings(app, world) == before  # nothing was erased
    assert erase(admin, world, confirm_running="y").status_code == 303

    left = findings(app, world)
    assert {(t, c) for t, c, _ in left} <= KEPT_WITH_EVIDENCE, sorted(left)
    with tenant_scope(world.slug, app):
        paul = db.session.get(Participant, world.paul)
        assert paul.full_name == f"#{world.paul}" and paul.erased_at and paul.evidence_kept_until
        attendance = db.session.scalars(
            select(Attendance).where(Attendance.participant_id == world.paul)
        ).one()
        assert attendance.signature_blob_id is not None  # kept under the obligation, for now
        kept_until = paul.evidence_kept_until
    # His link no longer opens anything; the others still sign.
    assert app.test_client().get(link_path_of_revoked(app, world)).status_code in (404, 410)
    again = erase(admin, world, confirm_running="y")
    assert again.status_code == 422 and "already erased" in again.get_data(as_text=True)
    late = admin.post(
        "/acme/rights/new",
        data={
            "participant_id": str(world.paul),
            "kind": "access",
            "channel": "letter",
            "received_on": "2026-12-01",
            "message": "x",
        },
    )
    assert late.status_code == 422 and "already erased" in late.get_data(as_text=True)

    # The day after the obligation ends, the daily pass anonymises the evidence too.
    from blueprints.rights import erasure

    with tenant_scope(world.slug, app):
        assert erasure.anonymise_expired(kept_until) == 0
        assert erasure.anonymise_expired(kept_until + timedelta(days=1)) == 1
        db.session.commit()
        attendance = db.session.scalars(
            select(Attendance).where(Attendance.participant_id == world.paul)
        ).one()
        assert (
            attendance.signature_blob_id is None and attendance.ip is None and attendance.status == "present"
        )
    assert {(t, c) for t, c, _ in findings(app, world)} <= KEPT


def link_path_of_revoked(app, world) -> str:
    """Paul's link as it was issued (the one in his emails), not a fresh one."""
    from blueprints.signing import signin_links
    from blueprints.signing.models import SignInLink
    from tenants import current_tenant, tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        link = db.session.scalars(select(SignInLink).where(SignInLink.participant_id == world.paul)).first()
        return f"/{world.slug}/sign/{signin_links.token_of(link, current_tenant())}"


def test_an_erasure_comes_back_after_a_database_restore(app, world, tmp_path, monkeypatch):
    """Dump, erase, restore the dump, replay: the person is erased again (the ledger was not restored)."""
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db, tenant_file

    monkeypatch.setitem(app.config, "ERASURE_LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")
    fill_paul(app, world)
    schema = f"tenant_{world.slug}"
    dump = tmp_path / "backup"
    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if postgres:
            subprocess.run(
                [
                    "pg_dump",
                    "-h",
                    url.host,
                    "-p",
                    str(url.port or 5432),
                    "-U",
                    url.username,
                    "-n",
                    schema,
                    "-f",
                    str(dump),
                    url.database,
                ],
                check=True,
            )
        else:
            engine.dispose()
            shutil.copyfile(tenant_file(app.instance_path, schema), dump)

    assert erase(admin_client(app, world), world, confirm_running="y", evidence="erase").status_code == 303

    with app.app_context():
        engine = db.engine
        if postgres:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            subprocess.run(
                [
                    "psql",
                    "-q",
                    "-h",
                    url.host,
                    "-p",
                    str(url.port or 5432),
                    "-U",
                    url.username,
                    "-d",
                    url.database,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-f",
                    str(dump),
                ],
                check=True,
                capture_output=True,
            )
        else:
            engine.dispose()
            shutil.copyfile(dump, tenant_file(app.instance_path, schema))
    with tenant_scope(world.slug, app):
        assert (
            db.session.get(Participant, world.paul).email == "paul@acme-client.fr"
        )  # the restore brought him back

    result = app.test_cli_runner().invoke(args=["privacy", "replay-erasures"])
    assert result.exit_code == 0 and "1 erasure(s) applied again in 1 organization(s)" in result.output, (
        result.output
    )
    assert {(t, c) for t, c, _ in findings(app, world)} <= KEPT
    with tenant_scope(world.slug, app):
        paul = db.session.get(Participant, world.paul)
        assert paul.erased_at is not None and paul.email is None
    # The ledger names nobody.
    ledger = (tmp_path / "ledger.db").read_bytes()
    for erased in ERASED:
        assert erased.encode() not in ledger
    # A second replay changes nothing more.
    assert "1 erasure(s)" in app.test_cli_runner().invoke(args=["privacy", "replay-erasures"]).output
