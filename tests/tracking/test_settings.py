"""The tracking settings: refused plainly when out of range, saved and audited otherwise, and followed by the
pages (the threshold, the absence proofs' period on the record of processing); a training's own threshold; an
enrolment's employer contact."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.tracking.conftest import tracked

VALID = {
    "attendance_threshold": "80",
    "risk_absences": "2",
    "followup_enabled": "y",
    "followup_absences": "2",
    "proof_keep_months": "12",
}


def test_the_settings_refuse_what_is_out_of_range_and_save_the_rest(app, admin_client):
    from blueprints.accounts.models import organization
    from blueprints.audit.models import AuditEvent
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    client = admin_client()
    assert client.get("/acme/settings/tracking").status_code == 200
    for field, value, message in (
        ("attendance_threshold", "0", "Between 1 and 100."),
        ("attendance_threshold", "abc", "Not a valid integer"),
        ("followup_absences", "99", "Between 1 and 20."),
        ("proof_keep_months", "18", "Not a valid choice"),
    ):
        refused = client.post("/acme/settings/tracking", data={**VALID, field: value})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), (field, value)
    with app.app_context():
        acme = find_tenant(slug="acme")
    with tenant_scope(acme, app):
        assert organization().attendance_threshold == 80
    saved = client.post(
        "/acme/settings/tracking",
        data={**VALID, "attendance_threshold": "70", "proof_keep_months": "24", "alsace_moselle": "y"},
    )
    assert saved.status_code == 303
    with tenant_scope(acme, app):
        org = organization()
        assert (org.attendance_threshold, org.proof_keep_months, org.alsace_moselle) == (70, 24, True)
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "organization.tracking_settings_updated")
        ).one()
        assert event.details["changes"]["attendance_threshold"] == [80, 70]
    record = client.get("/acme/settings/processing").get_data(as_text=True)
    assert "24\u00a0months after their session ended" in record


def test_a_training_sets_its_own_threshold_and_an_enrolment_its_employer_contact(app, admin_client):
    from blueprints.participants.models import Enrollment
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    world = tracked(
        app,
        acme,
        days=[date.today() - timedelta(days=2)],
        people=["Alice"],
        marks={("Alice", 0): ("present", 180, 0, 0), ("Alice", 1): ("present", 126, 54, 0)},
    )
    # 306 of 360 minutes: 85 %, over the organization's 80 %, under a training's 90 %.
    page = client.get(f"/acme/sessions/{world.session_id}/attendance").get_data(as_text=True)
    assert "data-at-risk-count>0<" in page
    form = {
        "title": "Safety at work",
        "planned_hours": "6",
        "modality": "in_person",
        "nature": "training_action",
    }
    too_high = client.post(
        f"/acme/trainings/{world.training_id}/edit", data={**form, "attendance_threshold": "101"}
    )
    assert too_high.status_code == 422 and "Between 1 and 100." in too_high.get_data(as_text=True)
    assert client.post(
        f"/acme/trainings/{world.training_id}/edit", data={**form, "attendance_threshold": "90"}
    ).status_code in (302, 303)
    page = client.get(f"/acme/sessions/{world.session_id}/attendance").get_data(as_text=True)
    assert "data-at-risk-count>1<" in page and ">90%<" in page

    with tenant_scope(acme, app):
        enrollment_id = db.session.scalars(
            select(Enrollment.id).where(Enrollment.session_id == world.session_id)
        ).one()
    url = f"/acme/sessions/{world.session_id}/enrollments/{enrollment_id}"
    bad = client.post(url, data={"funder": "cpf", "employer_contact_email": "not an address"})
    assert bad.status_code == 422 and "not valid" in bad.get_data(as_text=True)
    assert client.post(
        url,
        data={"funder": "cpf", "employer_contact_name": "Boss", "employer_contact_email": "Boss@Employer.fr"},
    ).status_code in (200, 302, 303)
    with tenant_scope(acme, app):
        row = db.session.get(Enrollment, enrollment_id)
        assert (row.employer_contact_name, row.employer_contact_email) == ("Boss", "boss@employer.fr")
