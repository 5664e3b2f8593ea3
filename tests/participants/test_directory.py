"""The directory: create, validate, search, page, edit inline, archive; need-to-know; audit."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.participants.conftest import (
    FAY,
    FRED,
    SLUG,
    actions,
    add_participant,
    audit,
    enroll,
    make_session,
    participants,
    text,
)

BASE = f"/{SLUG}/participants"
HX = {"HX-Request": "true"}


def new(**fields):
    data = {
        "civility": "",
        "first_name": "Jean",
        "last_name": "Dupont",
        "email": "",
        "mobile": "",
        "language": "fr",
    }
    data.update(fields)
    return data


def test_create_normalises_email_and_phone(app, admin):
    response = admin.post(f"{BASE}/", data=new(email="  Jean.Dupont@Example.FR ", mobile="06 12 34 56 78"))
    assert response.status_code == 303
    [p] = participants(app)
    assert p["email"] == "jean.dupont@example.fr"
    assert p["mobile"] == "+33612345678"
    assert ("participant.created", "participants", p["id"]) == audit(app)[-1][:3]
    page = text(admin.get(f"{BASE}/"))
    assert "06 12 34 56 78" in page


def test_international_number_is_kept_and_shown_internationally(app, admin):
    assert admin.post(f"{BASE}/", data=new(mobile="+44 20 7946 0958")).status_code == 303
    [p] = participants(app)
    assert p["mobile"] == "+442079460958"
    assert "+44 20 7946 0958" in text(admin.get(f"{BASE}/"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "email address is not valid"),
        ({"email": "a@b@c.fr"}, "email address is not valid"),
        ({"mobile": "12"}, "phone number is not valid"),
        ({"mobile": "06 12 34"}, "phone number is not valid"),
        ({"first_name": ""}, "This field is required"),
    ],
)
def test_invalid_values_are_refused_with_the_form(app, admin, fields, message):
    response = admin.post(f"{BASE}/", data=new(**fields))
    assert response.status_code == 422
    assert message in text(response)
    assert participants(app) == []


def test_duplicate_email_is_refused_whatever_its_case(app, admin):
    add_participant(app, first_name="Marie", last_name="Curie", email="marie@example.fr")
    response = admin.post(f"{BASE}/", data=new(email="MARIE@Example.fr"))
    assert response.status_code == 422
    assert "Marie Curie already has the address marie@example.fr" in text(response)
    assert len(participants(app)) == 1
    # Editing another participant to that address is refused the same way.
    other = add_participant(app, email="jean@example.fr")
    response = admin.post(f"{BASE}/{other}", data=new(email="Marie@EXAMPLE.fr"), headers=HX)
    assert response.status_code == 422
    assert "already has the address" in text(response)


def test_a_name_with_script_is_escaped_everywhere(app, admin, org):
    evil = '<script>alert("x")</script>'
    pid = add_participant(app, first_name=evil, last_name="<b>Bold</b>", company=evil, email="x@example.fr")
    add_participant(app, first_name=evil, last_name="<b>Bold</b>", email="y@example.fr")  # a candidate
    session_id = make_session(app)
    enroll(app, session_id, pid)
    for url in (
        f"{BASE}/",
        f"{BASE}/?q=script",
        f"{BASE}/{pid}",
        f"{BASE}/{pid}/edit",
        f"/{SLUG}/sessions/{session_id}/roster",
        f"/{SLUG}/sessions/{session_id}/enrollments/new?q=bold",
    ):
        for headers in ({}, HX):
            body = text(admin.get(url, headers=headers))
            assert "<script>alert" not in body, url
            assert "<b>Bold" not in body, url
            assert "&lt;script&gt;" in body or "&lt;b&gt;Bold" in body, url


def test_active_search_returns_the_results_fragment(app, admin):
    add_participant(app, first_name="Hélène", last_name="Martin", email="helene@alpha.fr", company="Alpha")
    add_participant(app, first_name="Paul", last_name="Durand", email="paul@beta.fr", company="Beta SA")
    add_participant(app, first_name="Zoé", last_name="Zola", email="zoe@gamma.fr", company="100%_sure")
    page = admin.get(f"{BASE}/?q=beta")
    assert "<html" in text(page) and "Paul" in text(page) and "Hélène" not in text(page)
    fragment = admin.get(f"{BASE}/?q=alpha", headers=HX)
    body = text(fragment)
    assert "<html" not in body and 'id="participant-results"' in body
    assert "Hélène" in body and "Paul" not in body
    assert "HX-Request" in fragment.vary
    assert "Paul" in text(admin.get(f"{BASE}/?q=paul+durand", headers=HX))
    # LIKE wildcards are searched as text.
    body = text(admin.get(f"{BASE}/?q=%25_", headers=HX))
    assert "Zoé" in body and "Paul" not in body


def test_pagination(app, admin):
    for i in range(30):
        add_participant(app, first_name=f"P{i:02d}", last_name=f"Name{i:02d}", email=f"p{i}@example.fr")
    first = text(admin.get(f"{BASE}/"))
    assert "Name00" in first and "Name29" not in first and "Page 1 of 2" in first
    second = text(admin.get(f"{BASE}/?page=2", headers=HX))
    assert "Name29" in second and "Name00" not in second


def test_inline_edit_row_form_save_and_cancel(app, admin):
    pid = add_participant(app, email="jean@example.fr")
    form = admin.get(f"{BASE}/{pid}/edit", headers=HX)
    body = text(form)
    assert form.status_code == 200
    assert body.lstrip().startswith(f'<tr id="participant-{pid}"') and "<form" in body and "<html" not in body
    # Cancel: the row comes back.
    row = text(admin.get(f"{BASE}/{pid}", headers=HX))
    assert row.lstrip().startswith(f'<tr id="participant-{pid}"') and 'class="editing"' not in row
    saved = admin.post(
        f"{BASE}/{pid}",
        data=new(
            first_name="Jeanne", email="jean@example.fr", mobile="0612345678", company="ACME", language="en"
        ),
        headers=HX,
    )
    assert saved.status_code == 200
    assert "Jeanne" in text(saved) and "<html" not in text(saved)
    [p] = participants(app)
    assert (p["first_name"], p["mobile"], p["company"], p["language"]) == (
        "Jeanne",
        "+33612345678",
        "ACME",
        "en",
    )
    action, _type, object_id, details = audit(app)[-1]
    assert action == "participant.updated" and object_id == pid
    assert set(details["fields"]) == {"first_name", "mobile", "company", "language"}
    # Invalid: the row form again, with the error, as a 422 htmx swaps.
    bad = admin.post(f"{BASE}/{pid}", data=new(email="nope"), headers=HX)
    assert bad.status_code == 422 and "<tr" in text(bad) and "not valid" in text(bad)
    # Without htmx: a whole page, then a redirect.
    assert "<html" in text(admin.get(f"{BASE}/{pid}/edit"))
    assert admin.post(f"{BASE}/{pid}", data=new(first_name="Jo", email="jean@example.fr")).status_code == 303


def test_processing_restriction_is_set_by_an_admin_and_audited(app, admin):
    pid = add_participant(app, email="jean@example.fr")
    response = admin.post(
        f"{BASE}/{pid}", data=new(email="jean@example.fr", processing_restricted="y"), headers=HX
    )
    assert response.status_code == 200
    assert "Processing restricted" in text(response)
    assert participants(app)[0]["processing_restricted"] is True
    assert "participant.processing_restricted" in actions(app)
    admin.post(f"{BASE}/{pid}", data=new(email="jean@example.fr"), headers=HX)
    assert participants(app)[0]["processing_restricted"] is False
    assert actions(app)[-1] == "participant.processing_unrestricted"


def test_archive_and_unarchive(app, admin):
    pid = add_participant(app, first_name="Archie", email="archie@example.fr")
    assert admin.post(f"{BASE}/{pid}/archive").status_code == 303
    assert participants(app)[0]["archived_at"] is not None
    assert "Archie" not in text(admin.get(f"{BASE}/", headers=HX))
    assert "Archie" in text(admin.get(f"{BASE}/?archived=1", headers=HX))
    row = admin.post(f"{BASE}/{pid}/unarchive", headers=HX)
    assert row.status_code == 200 and "Archive" in text(row) and "<html" not in text(row)
    assert participants(app)[0]["archived_at"] is None
    assert actions(app)[-2:] == ["participant.archived", "participant.unarchived"]


def test_facilitator_sees_only_the_participants_of_their_sessions(app, client, org):
    mine = make_session(app, facilitators=(FRED,))
    theirs = make_session(app, facilitators=(FAY,))
    alice = add_participant(app, first_name="Alice", email="alice@example.fr", notes="secret note")
    bruno = add_participant(app, first_name="Bruno", email="bruno@example.fr")
    add_participant(app, first_name="Nobody", email="nobody@example.fr")
    enroll(app, mine, alice)
    enroll(app, theirs, bruno)
    login(client, SLUG, FRED)
    page = text(client.get(f"{BASE}/"))
    assert "Alice" in page and "Bruno" not in page and "Nobody" not in page
    assert "Bruno" not in text(client.get(f"{BASE}/?q=bruno", headers=HX))
    shown = client.get(f"{BASE}/{alice}")
    assert shown.status_code == 200 and "secret note" not in text(shown)
    assert client.get(f"{BASE}/{bruno}").status_code == 404
    assert client.get(f"/{SLUG}/sessions/{mine}/roster").status_code == 200
    assert client.get(f"/{SLUG}/sessions/{theirs}/roster").status_code == 404
    # Read-only: no edit controls, and every change is refused.
    assert "Edit" not in text(client.get(f"{BASE}/{alice}"))
    for method, url in (
        ("get", f"{BASE}/new"),
        ("post", f"{BASE}/"),
        ("get", f"{BASE}/{alice}/edit"),
        ("post", f"{BASE}/{alice}"),
        ("post", f"{BASE}/{alice}/archive"),
        ("get", f"{BASE}/import"),
        ("post", f"{BASE}/export"),
    ):
        assert getattr(client, method)(url).status_code == 403, url
    assert participants(app)[0]["archived_at"] is None


def test_export_directory_neutralises_formulas(app, admin):
    add_participant(
        app,
        first_name="=cmd|' /C calc'!A0",
        last_name="+SUM(1)",
        email="a@example.fr",
        company="@evil",
        job_title="-2+3",
        mobile="+33612345678",
    )
    response = admin.post(f"{BASE}/export")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    content = data.decode("utf-8-sig")
    header, row = content.splitlines()[:2]
    assert header.split(";")[:3] == ["Civility", "First name", "Last name"]
    cells = row.split(";")
    assert "'=cmd|' /C calc'!A0" in row
    assert "'+SUM(1)" in cells and "'@evil" in cells and "'-2+3" in cells
    assert "06 12 34 56 78" in cells
    assert actions(app)[-1] == "participants.exported"


def test_french_elides_de_before_a_vowel_in_the_documents_link(app, admin):
    from sqlalchemy import update

    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    def speaks(language: str) -> None:
        with tenant_scope(SLUG, app):
            db.session.execute(update(User).values(language=language))
            db.session.commit()

    ines, paul = (
        add_participant(app, first_name="Inès", last_name="Benali"),
        add_participant(app, first_name="Paul"),
    )
    speaks("fr")
    assert "Documents d’Inès Benali" in text(admin.get(f"{BASE}/{ines}"))
    assert "Documents de Paul Dupont" in text(admin.get(f"{BASE}/{paul}"))
    assert "Documents d’Inès Benali" in text(admin.get(f"/{SLUG}/participants/{ines}/documents"))
    speaks("en")
    assert "Documents of Inès Benali" in text(admin.get(f"{BASE}/{ines}"))
