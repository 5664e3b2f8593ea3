"""CSRF protection, on: a POST needs the token of the page, in the form or in the header HTMX sends."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import csrf_from, english, text
from tests.conftest import PASSWORD


@pytest.fixture
def guarded(make_app, app, make_tenant):
    """A browser on an app that checks CSRF tokens, sharing the database of ``app``."""
    make_tenant("acme", admin="ada@acme.fr", language="en")
    strict = make_app(
        WTF_CSRF_ENABLED=True,
        MAIL_SERVER=app.config["MAIL_SERVER"],
        MAIL_PORT=app.config["MAIL_PORT"],
        REDIS_URL=app.config["REDIS_URL"],
    )
    return english(strict.test_client())


def test_post_without_token_is_refused(guarded, app):
    from tenants import all_tenants

    response = guarded.post("/acme/login", data={"email": "ada@acme.fr", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired or was not sent from Emarge" in text(response)
    assert guarded.get("/acme/").status_code == 302

    forged = guarded.post(
        "/acme/login", data={"email": "ada@acme.fr", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert "This form has expired" in text(forged)

    signup = guarded.post("/signup", data={"organization_name": "X", "slug": "xyz"})
    assert signup.status_code == 400
    with app.app_context():
        assert [t.slug for t in all_tenants(active_only=False)] == ["acme"]


def test_post_with_the_token_of_the_page_passes(guarded):
    token = csrf_from(text(guarded.get("/acme/login")))
    response = guarded.post(
        "/acme/login", data={"email": "ada@acme.fr", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert guarded.get("/acme/").status_code == 200

    # HTMX sends the token in a header, as base.html tells it to for every request.
    page = text(guarded.get("/acme/users"))
    header = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]

    data = {
        "first_name": "Fred",
        "last_name": "Martin",
        "email": "fred@acme.fr",
        "role": "admin",
        "language": "en",
    }
    refused = guarded.post("/acme/users", data=data, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    done = guarded.post("/acme/users", data=data, headers={"HX-Request": "true", "X-CSRFToken": header})
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == "/acme/users"
