"""The rough edges a new user hit, each fixed where it arose (issue "daily use", point 7)."""

from __future__ import annotations

import io
import re

from tests.conftest import login
from tests.signing.conftest import build_world, data_url, png, room_code


def _text(response) -> str:
    return response.get_data(as_text=True)


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    found = re.search(r'<option[^>]*value="([^"]+)"[^>]*selected', select) or re.search(
        r'<option[^>]*selected[^>]*value="([^"]+)"', select
    )
    return found.group(1) if found else None


# --- sign-up and the public home -----------------------------------------------------------------------------


def test_signup_defaults_to_the_browsers_language(app):
    english = app.test_client().get("/signup", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _selected(_text(english), "language") == "en"
    french = app.test_client().get("/signup", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert _selected(_text(french), "language") == "fr"


def test_signup_suggests_a_free_address_from_the_organizations_name(app, make_tenant):
    from tests.accounts.test_signup import form

    client = app.test_client()
    answer = _text(
        client.get("/signup/address", query_string={"organization_name": "Formations Dupont & Fils"})
    )
    assert 'data-slug="formations-dupont-fils"' in answer
    make_tenant("formations-dupont-fils")
    answer = _text(
        client.get("/signup/address", query_string={"organization_name": "Formations Dupont & Fils"})
    )
    assert 'data-slug="formations-dupont-fils-2"' in answer
    assert 'data-slug="ecole-des-metiers"' in _text(
        client.get("/signup/address", query_string={"organization_name": "L’École des Métiers"})
    )
    # Sent without an address: the form comes back with the suggestion filled in, to confirm.
    response = client.post("/signup", data=form(slug="", organization_name="Atelier Été 2026"))
    assert response.status_code == 422
    assert 'value="atelier-ete-2026"' in _text(response)


def test_the_public_home_logs_in_directly_to_a_known_address(app, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    client = app.test_client()
    home = _text(client.get("/", headers={"Accept-Language": "en"}))
    assert 'action="/login"' in home and 'name="org"' in home
    for typed in ("acme", " ACME ", "https://emarge.example/acme/login", "emarge.example/acme"):
        response = client.get("/login", query_string={"org": typed})
        assert response.status_code == 303 and response.location.endswith("/acme/login"), typed
    unknown = client.get("/login", query_string={"org": "nobody-here"}, headers={"Accept-Language": "en"})
    assert unknown.status_code == 404
    assert "No organization uses the address “nobody-here”" in _text(unknown)
    assert 'value="nobody-here"' in _text(unknown)


# --- an English organization's people ------------------------------------------------------------------------


def test_an_english_organizations_new_participants_are_english(app, make_tenant):
    from sqlalchemy import select

    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("globex", admin="ada@globex.fr", language="en")
    client = app.test_client()
    login(client, "globex", "ada@globex.fr")
    assert _selected(_text(client.get("/globex/participants/new")), "language") == "en"
    # An import without a language column: the organization's language.
    data = b"first_name,last_name,email\nIris,Moreau,iris@client.fr\n"
    response = client.post(
        "/globex/participants/import",
        data={"file": (io.BytesIO(data), "people.csv"), "session_id": "", "funder": "employer"},
        content_type="multipart/form-data",
    )
    token = re.search(r"[?&]t=([^&]+)", response.location).group(1)
    assert client.post("/globex/participants/import/confirm", data={"t": token}).status_code in (200, 303)
    with tenant_scope("globex", app):
        assert (
            db.session.scalars(
                select(Participant.language).where(Participant.email == "iris@client.fr")
            ).one()
            == "en"
        )


def test_a_french_organizations_participants_stay_french(app, make_tenant):
    from blueprints.audit.services import Actor
    from blueprints.participants import services
    from tenants import current_tenant, tenant_scope
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", language="fr")
    with tenant_scope("acme", app):
        tenant = current_tenant()
        person = services.create_participant(
            {"first_name": "Léa", "last_name": "Roux", "email": "lea@client.fr", "language": "xx"},
            Actor.system(),
            language=services.default_language(tenant),
        )
        db.session.commit()
        assert person.language == "fr"


# --- dates -----------------------------------------------------------------------------------------------------


def test_one_date_style_per_language(app, make_tenant):
    from datetime import date

    from flask_babel import force_locale

    from blueprints.web.i18n import day_label, format_date

    with app.test_request_context("/"):
        with force_locale("en"):
            assert format_date(date(2026, 12, 2), "long") == "2 December 2026"
            assert day_label(date(2026, 11, 30)) == "Monday 30 November"
        with force_locale("fr"):
            assert format_date(date(2026, 12, 2), "long") == "2 décembre 2026"
            assert day_label(date(2026, 11, 30)) == "lundi 30 novembre"
    # The calendar no longer capitalizes every word of a day ("Lundi 30 Novembre").
    with open(app.static_folder + "/css/app.css", encoding="utf-8") as f:
        assert "capitalize" not in f.read()


def test_english_pages_write_dates_day_first(app, make_tenant):
    world = build_world(app, make_tenant)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)
    page = _text(client.get(f"/acme/sessions/{world.session_id}"))
    assert re.search(r"Session from \d{1,2} [A-Z][a-z]+ \d{4} to \d{1,2} [A-Z][a-z]+ \d{4}", page), page[
        :3000
    ]


# --- the facilitator's pages ------------------------------------------------------------------------------------


def test_the_facilitators_session_page_has_the_sign_in_links_button(app, make_tenant):
    world = build_world(app, make_tenant)
    client = app.test_client()
    login(client, "acme", world.facilitator)
    page = _text(client.get(f"/acme/sessions/{world.session_id}"))
    assert f'href="/acme/sessions/{world.session_id}/links"' in page
    assert client.get(f"/acme/sessions/{world.session_id}/links").status_code == 200


def test_a_wrong_room_code_keeps_the_drawn_signature(app, make_tenant):
    from tests.signing.conftest import link_path

    world = build_world(app, make_tenant)
    path = link_path(app, world, world.paul)
    trainee = app.test_client()
    drawn = data_url(png())
    refused = trainee.post(path, data={"slot": world.open_slot, "signature": drawn, "code": "ZZZZZZ"})
    assert refused.status_code == 422
    html = _text(refused)
    assert "room code is not valid" in html
    assert f'value="{drawn}" data-pad-kept' in html
    # The right code with the same drawing signs, nothing drawn again.
    code = room_code(app, world, world.open_slot)
    assert (
        trainee.post(path, data={"slot": world.open_slot, "signature": drawn, "code": code}).status_code
        == 303
    )
    # Anything but a PNG drawing is never echoed back into the page.
    other = trainee.post(
        path, data={"slot": world.open_slot, "signature": "javascript:alert(1)", "code": "ZZZZZZ"}
    )
    assert "data-pad-kept" not in _text(other)


# --- participants and messages ----------------------------------------------------------------------------------


def test_a_participants_page_names_them_once(app, make_tenant):
    world = build_world(app, make_tenant)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)
    html = _text(client.get(f"/acme/participants/{world.paul}"))
    top = html[html.index("<main") : html.index("Sessions</h2>")]
    assert top.count("Paul Martin") == 1 and 'class="directory"' not in top
    assert "paul@acme-client.fr" in top


def test_the_delivery_log_says_in_words_where_outbox_mail_went(app, make_tenant):
    from blueprints.messages.models import SENT, Message
    from tenants import tenant_scope
    from tenants.db import db

    world = build_world(app, make_tenant)
    with tenant_scope(world.slug, app):
        for answer in (
            "outbox: 1764761234.000001-paul@acme-client.fr.eml",
            "written to /srv/emarge/instance/outbox/x.eml",
        ):
            db.session.add(
                Message(
                    template="invitation_signin",
                    recipient="paul@acme-client.fr",
                    subject="Hi",
                    status=SENT,
                    provider_answer=answer,
                )
            )
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)
    log = _text(client.get("/acme/messages"))
    assert log.count("Kept in the local outbox, as no mail server is set up") == 2
    assert "/srv/emarge" not in log and "written to" not in log
