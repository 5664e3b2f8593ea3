"""A short help page per area, in French and English, linked from each page; an empty list says what to do first."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


@pytest.fixture
def org(app, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="fr")
    return "acme"


def _client(app, email, language=None):
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    if language:
        with tenant_scope("acme", app):
            db.session.query(User).filter_by(email=email).one().language = language
            db.session.commit()
    client = app.test_client()
    login(client, "acme", email)
    return client


def test_every_area_has_its_help_page_in_both_languages(app, org):
    from blueprints.help.content import PAGES

    for language, heading in (("fr", "Les étapes habituelles"), ("en", "The usual steps")):
        client = _client(app, "ada@acme.fr", language)
        for area, page in PAGES.items():
            response = client.get(f"/acme/help/{area}")
            assert response.status_code == 200, area
            body = _text(response)
            if page.steps:
                assert heading in body, (language, area)
        index = _text(client.get("/acme/help/"))
        titles = (
            ("Today", "Live attendance", "Audit trail")
            if language == "en"
            else ("Aujourd’hui", "Présences en direct", "Journal d’audit")
        )
        assert all(title in index for title in titles), (language, titles)
    french = _text(_client(app, "ada@acme.fr", "fr").get("/acme/help/signing"))
    assert "Ce que veulent dire les statuts" in french and "Non signé" in french and "Absent" in french


def test_each_page_links_to_the_help_of_its_area(app, org):
    client = _client(app, "ada@acme.fr", "en")
    for path, area in (
        ("/acme/", "today"),
        ("/acme/participants/", "participants"),
        ("/acme/trainings", "trainings"),
        ("/acme/messages", "messages"),
        ("/acme/audit/", "audit"),
        ("/acme/users", "users"),
        ("/acme/settings/", "settings"),
    ):
        html = client.get(path).get_data(as_text=True)
        assert f'href="/acme/help/{area}"' in html, path


def test_admin_help_is_for_admins(app, org):
    fred = _client(app, "fred@acme.fr", "en")
    assert fred.get("/acme/help/signing").status_code == 200
    assert fred.get("/acme/help/settings").status_code == 404
    assert "/acme/help/settings" not in fred.get("/acme/help/").get_data(as_text=True)
    assert app.test_client().get("/acme/help/signing").status_code in (302, 303)


def test_a_new_organizations_empty_lists_say_what_to_do_first(app, org):
    client = _client(app, "ada@acme.fr", "en")
    expected = {
        "/acme/participants/": "Add the first one, or import a CSV file",
        "/acme/trainings": "create your first one, then plan its sessions",
        "/acme/messages": "invitations, reminders and certificates sent will be listed here",
        "/acme/": "Sessions and their half-days are planned from a training's page",
    }
    for path, hint in expected.items():
        assert hint in _text(client.get(path)).replace("’", "'"), path
    fred = _client(app, "fred@acme.fr", "en")
    assert "An administrator assigns you to a session" in _text(fred.get("/acme/"))
    assert "they appear here once they are enrolled in a session you run" in _text(
        fred.get("/acme/participants/")
    )
