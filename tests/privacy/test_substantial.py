"""A substantial policy version: emailed to every account holder, acknowledged by users at their next login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.privacy.conftest import sign_in_staff, text


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


def publish_substantial(app, kind: str = "privacy"):
    staff = app.test_client()
    sign_in_staff(app, staff)
    response = staff.post(
        "/staff/privacy/publish",
        data={
            "kind": kind,
            "substantial": "y",
            "summary_fr": "Nous ajoutons un sous-traitant pour le support.",
            "summary_en": "We add a sub-processor for support.",
            "body_fr": "<p>Texte révisé</p>",
            "body_en": "<p>Revised text</p>",
        },
    )
    assert response.status_code == 303


def test_substantial_version_emails_account_holders_once(app, client, make_tenant, smtp_server, jobs):
    from blueprints.privacy.models import PolicyNotification
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    make_tenant("beta", admin="bob@beta.fr", language="fr")
    make_tenant("gamma")  # no administrator: its contact address is written to
    publish_substantial(app)
    jobs()
    to = sorted(m["To"] for m in smtp_server.messages)
    assert to == ["ada@acme.fr", "bob@beta.fr", "contact@gamma.fr"]  # never a facilitator
    english = smtp_server.to("ada@acme.fr")[0]
    assert english["Subject"] == "Emarge: our privacy policy changes"
    body = english.get_body(("plain",)).get_content()
    assert "We add a sub-processor for support." in body
    assert "http://localhost/privacy/privacy/v2" in body
    french = smtp_server.to("bob@beta.fr")[0].get_body(("plain",)).get_content()
    assert "Nous ajoutons un sous-traitant pour le support." in french
    # Safe to run twice: nobody gets it again.
    from jobs import enqueue

    with app.app_context():
        version_id = db.session.scalars(select(PolicyNotification.version_id)).first()
        enqueue("jobs.privacy.notify_policy_version", version_id, queue="messaging")
    jobs()
    assert len(smtp_server.messages) == 3


def test_minor_version_emails_nobody_and_new_users_are_not_asked(app, client, make_tenant, smtp_server, jobs):
    from blueprints.privacy import policy_versions
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr")
    with app.app_context():
        policy_versions.publish("privacy", body_fr="<p>x</p>", body_en="<p>x</p>")
        db.session.commit()
    jobs()
    assert smtp_server.messages == []
    login(client, "acme", "ada@acme.fr")
    assert client.get("/acme/").status_code == 200

    # People who join after a substantial change agreed to it as it stands: they are not asked.
    publish_substantial(app)
    jobs()
    make_tenant("beta", admin="bob@beta.fr")
    newcomer = app.test_client()
    login(newcomer, "beta", "bob@beta.fr")
    assert newcomer.get("/beta/").status_code == 200


def test_users_acknowledge_a_substantial_change_at_their_next_login(app, client, make_tenant, jobs):
    from blueprints.privacy.models import PolicyAcknowledgement
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get("/acme/").status_code == 200
    publish_substantial(app, "cookies")
    jobs()
    # Already signed in: asked before the next page of the app, whatever it is.
    response = client.get("/acme/account")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/acme/privacy/acknowledge?next=/acme/account")
    htmx = client.get("/acme/users", headers={"HX-Request": "true"})
    assert htmx.status_code == 204  # an empty answer: htmx then loads the page itself
    assert htmx.headers["HX-Redirect"].startswith("/acme/privacy/acknowledge")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "We add a sub-processor for support." in text(page)
    assert "/privacy/cookies/v2" in text(page)
    # Public pages stay readable meanwhile, and logging out is always possible.
    assert client.get("/privacy/cookies/v2").status_code == 200
    done = client.post(response.headers["Location"])
    assert done.status_code == 303 and done.headers["Location"] == "/acme/account"
    assert client.get("/acme/account").status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(PolicyAcknowledgement)).all()) == 1
    # Another user is asked at login; once acknowledged, never again.
    other = app.test_client()
    assert login(other, "acme", "fred@acme.fr").status_code == 303
    assert other.get("/acme/").headers["Location"].startswith("/acme/privacy/acknowledge")
    other.post("/acme/privacy/acknowledge")
    other.post("/acme/logout")
    login(other, "acme", "fred@acme.fr")
    assert other.get("/acme/").status_code == 200
