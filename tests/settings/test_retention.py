"""The retention engine: an organization whose end of service is 3 years and a day ago is dropped (schema or
file and blobs gone, its billing record and verification index kept: its code still answers); one a day younger
is kept and its admins warned, 7 and 30 days before, once each, through the real SMTP server; a deletion asked
for is dropped at the end of its grace; the dry run deletes nothing; the job run twice changes nothing more."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from tests.conftest import run_jobs


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


NOW = datetime.now(UTC).replace(microsecond=0)


def years_ago(years: int, **delta) -> datetime:
    return NOW.replace(year=NOW.year - years) - timedelta(**delta)


def issue_document(app, tenant) -> tuple[str, str]:
    """A certificate with a verification code in ``tenant``; returns (code, sha256)."""
    from blueprints.documents.models import CERTIFICATE, Document, DocumentCode, subject_key
    from blueprints.trainings.models import Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    with tenant_scope(tenant, app):
        training = Training(title="First aid", planned_hours=7)
        session = TrainingSession(training=training, start_date=date(2023, 3, 6), end_date=date(2023, 3, 7))
        db.session.add_all([training, session])
        db.session.flush()
        blob = storage().put(b"%PDF-1.4 certificate", content_type="application/pdf", filename="c.pdf")
        code = "K7QR-M9XD"
        document = Document(
            kind=CERTIFICATE,
            subject_key=subject_key(session.id, participant_id=None),
            session_id=session.id,
            blob_key=blob.key,
            filename="certificate.pdf",
            content_type="application/pdf",
            size=blob.size,
            sha256=blob.sha256,
            verification_code=code,
        )
        db.session.add(document)
        db.session.flush()
        db.session.add(DocumentCode(code=code, tenant_id=tenant.id, document_id=document.id))
        db.session.commit()
        return code, blob.sha256


def set_tenant(app, slug: str, **values) -> None:
    from tenants.db import db
    from tenants.models import Tenant

    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.slug == slug).values(**values))
        db.session.commit()


def add_billing(app, slug: str) -> None:
    from tenants import find_tenant
    from tenants.db import db
    from tenants.models import BillingProfile

    with app.app_context():
        db.session.add(
            BillingProfile(
                tenant_id=find_tenant(slug=slug).id, billing_name="Old SAS", billing_address="1 rue X"
            )
        )
        db.session.commit()


def schema_exists(app, ref) -> bool:
    from tenants.db import db, tenant_file

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                return bool(
                    connection.execute(
                        text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                        {"s": ref.schema},
                    ).first()
                )
        return os.path.exists(tenant_file(app.instance_path, ref.schema))


def test_the_engine_drops_what_is_due_keeps_the_rest_and_warns_once(app, make_tenant, smtp_server):
    from blueprints.documents.models import DocumentCode
    from jobs.retention import run_retention
    from tenants import find_tenant
    from tenants.db import db
    from tenants.models import BillingProfile

    old = make_tenant("old", admin="ada@old.fr", language="en")
    young = make_tenant("young", admin="yan@young.fr", language="en")
    month = make_tenant("month", admin="mo@month.fr", language="en")
    leaving = make_tenant("leaving", admin="lea@leaving.fr", language="en")
    code, sha = issue_document(app, old)
    add_billing(app, "old")
    set_tenant(app, "old", end_of_service_at=years_ago(3, days=1))
    set_tenant(app, "young", end_of_service_at=years_ago(3, days=-1))
    set_tenant(app, "month", end_of_service_at=years_ago(3, days=-20))
    set_tenant(
        app,
        "leaving",
        deletion_requested_at=NOW - timedelta(days=8),
        end_of_service_at=NOW - timedelta(days=8),
    )

    # The dry run lists, and deletes nothing.
    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "drop    old" in result.output and "drop    leaving" in result.output
    assert "warn    young  (7 days" in result.output and "warn    month  (30 days" in result.output
    assert "young" not in [line.split()[1] for line in result.output.splitlines() if line.startswith("drop")]
    assert schema_exists(app, old) and schema_exists(app, leaving)

    with app.app_context():
        assert run_retention(NOW.isoformat()) == {"drops": 2, "warnings": 2}
    run_jobs(app)
    assert not schema_exists(app, old) and not schema_exists(app, leaving)
    assert schema_exists(app, young) and schema_exists(app, month)
    with app.app_context():
        assert find_tenant(slug="old").status == "deleted"
        assert db.session.scalars(select(BillingProfile)).one().billing_name == "Old SAS"
        entry = db.session.get(DocumentCode, code)
        assert entry.sha256 == sha and entry.kind == "certificate" and entry.start_date == date(2023, 3, 6)
    # The code still answers, with nothing but the facts of the document.
    page = app.test_client().get(f"/verify/{code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "an organization that has left Emarge" in page and sha in page and "First aid" not in page
    # The old organization's pages are gone.
    assert app.test_client().get("/old/login").status_code == 404

    # The warnings arrived once each; running again the same day sends nothing more and drops nothing more.
    (seven,) = smtp_server.to("yan@young.fr")
    assert (
        "7 days" in seven["Subject"] and "/young/settings/archive" in seven.get_body(("plain",)).get_content()
    )
    (thirty,) = smtp_server.to("mo@month.fr")
    assert "30 days" in thirty["Subject"]
    assert "even the evidence you chose to keep" in thirty.get_body(("plain",)).get_content()
    with app.app_context():
        assert run_retention(NOW.isoformat()) == {"drops": 0, "warnings": 0}
    run_jobs(app)
    assert len(smtp_server.to("yan@young.fr")) == 1 and len(smtp_server.to("mo@month.fr")) == 1


def test_an_organization_whose_deletion_was_undone_is_not_dropped_by_a_job_already_queued(app, make_tenant):
    from jobs.retention import retire_organization
    from tenants import find_tenant

    ref = make_tenant("keep", admin="kim@keep.fr", language="en")
    with app.app_context():
        assert retire_organization(find_tenant(slug="keep").id, NOW.isoformat()) is False  # nothing due
    set_tenant(
        app, "keep", deletion_requested_at=NOW - timedelta(days=6), end_of_service_at=NOW - timedelta(days=6)
    )
    with app.app_context():
        assert retire_organization(ref.id, NOW.isoformat()) is False  # its grace is not over
    assert schema_exists(app, ref)
