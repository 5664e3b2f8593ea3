"""Closing the account and deleting the organization: once closed, admins read and take the archive and nothing
else happens (changes refused, other users and personal links turned away, tenant jobs skipped); a deletion is
confirmed by typing the web address, emailed to every admin at the request and the day before, and can be
undone for 7 days only."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import login, run_jobs
from tests.signing.conftest import build_world, data_url, link_path, png


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def world(app, make_tenant):
    return build_world(app, make_tenant)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def browser(app, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, "acme", email).status_code == 303
    return client


def tenant_row(app):
    from tenants import find_tenant

    with app.app_context():
        return find_tenant(slug="acme")


def set_tenant(app, **values):
    from sqlalchemy import update

    from tenants.db import db
    from tenants.models import Tenant

    with app.app_context():
        db.session.execute(update(Tenant.__table__).where(Tenant.__table__.c.slug == "acme").values(**values))
        db.session.commit()


def test_a_closed_account_is_read_only_but_its_archive_can_be_taken(app, world):
    ada = browser(app, world.admin)
    refused = ada.post("/acme/settings/close", data={})
    assert refused.status_code == 422 and "Tick to confirm" in text(refused)
    assert tenant_row(app).end_of_service_at is None
    assert ada.post("/acme/settings/close", data={"confirm_close": "y"}).status_code == 303
    assert tenant_row(app).closed

    # The admin reads every page, sees why nothing changes, and takes the archive.
    page = ada.get("/acme/participants/")
    assert page.status_code == 200 and "closed-banner" in text(page)
    made = ada.post("/acme/participants/", data={"first_name": "New", "last_name": "One"})
    assert made.status_code == 403 and "account is closed" in text(made)
    assert ada.post("/acme/settings/archive").status_code == 303
    run_jobs(app)
    archive = text(ada.get("/acme/settings/archive"))
    task_id = int(archive.split('id="task-')[1].split('"')[0])
    assert ada.get(f"/acme/tasks/{task_id}/download").status_code == 200

    # A facilitator, and a trainee's personal link, are turned away; a tenant job does nothing there.
    fred = app.test_client()
    login(fred, "acme", world.facilitator)
    assert fred.get("/acme/").status_code == 403
    from jobs.statistics import refresh_stats

    with app.app_context():
        assert refresh_stats(tenant_row(app).id) is None  # skipped: closed


def test_a_trainee_link_opens_nothing_once_closed(app, world):
    path = link_path(app, world, world.paul)
    assert app.test_client().get(path).status_code == 200
    set_tenant(app, end_of_service_at=datetime.now(UTC))
    assert app.test_client().get(path).status_code == 410
    signed = app.test_client().post(path, data={"slot": str(world.remote_slot), "signature": data_url(png())})
    assert signed.status_code == 410
    assert app.test_client().get(f"{path}/my-data/").status_code == 410
    # The organization's own signing pages stay readable for its admins.
    ada = browser(app, world.admin)
    assert ada.get(f"/acme/slots/{world.open_slot}/live").status_code == 200


def test_deletion_is_confirmed_emailed_and_undone_within_7_days_only(app, world, smtp_server):
    from jobs.platform_mail import remind_deletions

    ada = browser(app, world.admin)
    wrong = ada.post("/acme/settings/delete", data={"typed": "acne"})
    assert wrong.status_code == 422 and "Type the organization's web address, acme" in text(wrong)
    assert tenant_row(app).deletion_requested_at is None
    assert ada.post("/acme/settings/delete", data={"typed": " /acme/ "}).status_code == 303
    row = tenant_row(app)
    assert row.deletion_requested_at and row.end_of_service_at and row.closed
    run_jobs(app)
    (mail,) = smtp_server.to(world.admin)
    body = mail.get_body(("plain",)).get_content()
    assert (
        "deletion" in mail["Subject"]
        and "/acme/settings/closing" in body
        and "/acme/settings/archive" in body
    )

    # Undone within the 7 days: the organization is as it was, open again.
    assert "Undo the deletion" in text(ada.get("/acme/settings/closing"))
    assert ada.post("/acme/settings/undo-deletion", data={}).status_code == 303
    row = tenant_row(app)
    assert row.deletion_requested_at is None and not row.closed
    assert "closed-banner" not in text(ada.get("/acme/participants/"))

    # Asked again; the day before, every admin is told once more, once.
    ada.post("/acme/settings/delete", data={"typed": "acme"})
    asked = tenant_row(app).deletion_requested_at
    run_jobs(app)
    smtp_server.messages.clear()
    with app.app_context():
        assert remind_deletions((asked + timedelta(days=5)).isoformat()) == 0
        assert remind_deletions((asked + timedelta(days=6, hours=2)).isoformat()) == 1
        assert remind_deletions((asked + timedelta(days=6, hours=3)).isoformat()) == 0
    (tomorrow,) = smtp_server.to(world.admin)
    assert "tomorrow" in tomorrow["Subject"]

    # Past the 7 days, undoing is refused with why.
    set_tenant(app, deletion_requested_at=asked - timedelta(days=8))
    late = ada.post("/acme/settings/undo-deletion", data={})
    assert late.status_code == 422 and "7 days to undo the deletion are over" in text(late)
    assert tenant_row(app).deletion_requested_at is not None
