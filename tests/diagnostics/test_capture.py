"""Diagnostics: an unhandled error is kept scrubbed of anything personal, in its group, with a reference the
user's page shows; a request that works keeps nothing; a failing job is captured through the job hook; with the
database unreachable the report goes to the log; staff read, look up and resolve, and a new occurrence reopens."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from jobs import enqueue, tenant_job
from tests.conftest import PASSWORD, login

TOKEN = "Zk8pQ2rT9vX4mN7bL1cD5fG3hJ6kS0aW"


@pytest.fixture
def acme(app, make_tenant):
    return make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")


@pytest.fixture
def fred(app, acme):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, "acme", "fred@acme.fr").status_code == 303
    return client


def reports(app) -> list:
    from blueprints.diagnostics.models import ErrorReport
    from tenants.db import db

    with app.app_context():
        rows = db.session.scalars(select(ErrorReport).order_by(ErrorReport.id)).all()
        db.session.expunge_all()
        return rows


def groups(app) -> list:
    from blueprints.diagnostics.models import ErrorGroup
    from tenants.db import db

    with app.app_context():
        rows = db.session.scalars(select(ErrorGroup).order_by(ErrorGroup.id)).all()
        db.session.expunge_all()
        return rows


def explode(*args, **kwargs):
    from flask import request

    # What a database error's message carries: the values themselves.
    raise RuntimeError(
        'duplicate key value violates unique constraint "uq_users_email"\n'
        f"DETAIL:  Key (email)=({request.form.get('email')}) already exists. "
        f"token {request.form.get('token')} phone 0612345678 '{request.form.get('password')}'"
    )


def break_page(monkeypatch, app, endpoint: str = "participants.index") -> None:
    monkeypatch.setitem(app.view_functions, endpoint, explode)


def test_a_crafted_error_is_kept_without_anything_personal(app, fred, monkeypatch):
    break_page(monkeypatch, app, "participants.create")
    fred.set_cookie("emarge_consent", "secret-cookie-value")
    response = fred.post(
        f"/acme/participants/?token={TOKEN}&q=zoe@client.fr",
        data={"email": "zoe.petit@client.fr", "password": PASSWORD, "token": TOKEN},
        headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer abc"},
    )
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    [report] = reports(app)
    assert report.reference in page  # the user has a code to give support
    stored = " ".join(
        str(v) for v in (report.message, report.traceback, report.headers, report.where, report.tenant_slug)
    )
    for secret in (
        "zoe.petit@client.fr",
        "zoe@client.fr",
        PASSWORD,
        TOKEN,
        "secret-cookie-value",
        "0612345678",
        "203.0.113.9",
        "Bearer",
        "emarge_session",
        "?",
    ):
        assert secret not in stored, secret
    assert report.where == "/<org>/participants/" and report.method == "POST"
    assert report.tenant_slug == "acme" and report.user_id is not None and report.release
    assert "Key (email)=([value])" in report.message and '"uq_users_email"' in report.message
    assert "[token]" in report.message and "[number]" in report.message
    assert "tests/diagnostics/test_capture.py" in report.traceback and "in explode" in report.traceback
    assert '"User-Agent"' in report.headers and "Cookie" not in report.headers


def test_a_request_that_works_keeps_nothing(app, fred):
    assert fred.get("/acme/participants/").status_code == 200
    assert fred.post("/acme/logout").status_code in (302, 303)
    assert reports(app) == [] and groups(app) == []


def test_the_same_error_twice_is_one_group_counted_twice_and_a_fragment_shows_the_reference(
    app, fred, monkeypatch
):
    break_page(monkeypatch, app)
    assert fred.get("/acme/participants/").status_code == 500
    fragment = fred.get("/acme/participants/?q=a", headers={"HX-Request": "true"})
    assert fragment.status_code == 500
    [group] = groups(app)
    assert group.count == 2 and group.kind == "request" and group.exception == "RuntimeError"
    first, second = reports(app)
    assert first.reference != second.reference and second.reference in fragment.get_data(as_text=True)
    assert group.first_seen <= group.last_seen


@tenant_job
def failing_job(label: str) -> None:
    raise ValueError(f"could not write for ada@acme.fr: {label}")


def test_a_failing_job_is_captured_through_the_job_hook(app, acme, jobs):
    from tenants import find_tenant

    with app.app_context():
        tenant_id = find_tenant(slug="acme").id
        enqueue(failing_job, tenant_id, "the export")
    jobs()
    [report] = reports(app)
    assert report.kind == "job" and report.where == "tests.diagnostics.test_capture.failing_job"
    assert "ada@acme.fr" not in report.message and "[email]" in report.message
    assert "in failing_job" in report.traceback


def test_with_the_database_unreachable_the_report_goes_to_the_log(make_app, caplog):
    from blueprints.diagnostics.capture import capture
    from tenants.db import db

    app = make_app()
    with app.app_context():
        engine = db.engine
        url = engine.url
        dead = (
            url.set(host="127.0.0.1", port=1)
            if url.get_backend_name() == "postgresql"
            else url.set(database="/nonexistent/dir/none.db")
        )
        from sqlalchemy import create_engine

        broken = create_engine(dead)
        db.engines[None] = broken
        try:
            try:
                raise KeyError("ada@acme.fr")
            except KeyError as error:
                with caplog.at_level(logging.ERROR, logger="blueprints.diagnostics.capture"):
                    reference = capture(error, kind="job", where="jobs.example")
        finally:
            db.engines[None] = engine
            broken.dispose()
    assert reference and reference in caplog.text
    assert "could not be stored" in caplog.text and '"where": "jobs.example"' in caplog.text
    assert "ada@acme.fr" not in caplog.text


def test_an_error_inside_the_capture_still_gives_the_error_page(app, fred, monkeypatch):
    import blueprints.diagnostics.capture as capture_module

    def broken_store(*args, **kwargs):
        raise RuntimeError("the diagnostics table is broken")

    break_page(monkeypatch, app)
    monkeypatch.setattr(capture_module, "_store", broken_store)
    response = fred.get("/acme/participants/")
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    assert reports(app) == []


def test_staff_look_up_a_reference_resolve_and_a_new_occurrence_reopens(app, fred, monkeypatch):
    from tests.privacy.conftest import sign_in_staff

    break_page(monkeypatch, app)
    fred.get("/acme/participants/")
    [report] = reports(app)
    staff = app.test_client()
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, staff, email="sue@emarge.fr", role="support")
    listed = staff.get("/staff/diagnostics").get_data(as_text=True)
    assert "RuntimeError" in listed and "/&lt;org&gt;/participants/" in listed
    found = staff.get(f"/staff/diagnostics?ref={report.reference.lower()}")
    assert found.status_code == 302 and f"/staff/diagnostics/{report.group_id}" in found.location
    detail = staff.get(f"/staff/diagnostics/{report.group_id}").get_data(as_text=True)
    assert report.reference in detail and "in explode" in detail
    missing = staff.get("/staff/diagnostics?ref=NOPE0000", follow_redirects=True).get_data(as_text=True)
    assert "No error report has the reference NOPE0000" in missing

    assert staff.post(f"/staff/diagnostics/{report.group_id}/resolve").status_code == 303
    [group] = groups(app)
    assert group.resolved_at is not None
    assert "RuntimeError" not in staff.get("/staff/diagnostics").get_data(as_text=True)
    fred.get("/acme/participants/")
    [group] = groups(app)
    assert group.resolved_at is None and group.count == 2


def test_diagnostics_are_for_staff_only(app, fred, monkeypatch):
    assert fred.get("/staff/diagnostics").status_code in (302, 303, 403, 404)
    anonymous = app.test_client()
    assert anonymous.get("/staff/diagnostics").status_code in (302, 303, 403, 404)


def test_reports_older_than_90_days_are_purged(app, fred, monkeypatch):
    from datetime import timedelta

    from blueprints.diagnostics import services
    from tenants.db import db, utcnow

    break_page(monkeypatch, app)
    fred.get("/acme/participants/")
    with app.app_context():
        assert services.purge(utcnow() + timedelta(days=89)) == {"reports": 0, "groups": 0}
        assert services.purge(utcnow() + timedelta(days=91)) == {"reports": 1, "groups": 1}
        db.session.commit()
    assert reports(app) == [] and groups(app) == []


def test_the_scrubber_replaces_what_a_message_may_carry():
    from blueprints.diagnostics.capture import scrub

    text = scrub(
        "Key (email, phone)=(a.b@c.fr, 0612345678) already exists. [parameters: ('x@y.fr', 'Zoé')] "
        f"'Petit' link /sign/{TOKEN} user 42"
    )
    for secret in ("a.b@c.fr", "0612345678", "x@y.fr", "Zoé", "Petit", TOKEN):
        assert secret not in text, secret
    assert "user 42" in text  # short numbers (ids) are kept: they say which row without saying whose
