"""CSV import: what Excel writes (encodings, separators, French headers), the preview with every invalid line,
upsert by email, all-or-nothing, the 5 MB limit, formulas, the background job for big files."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from tests.participants.conftest import (
    SLUG,
    actions,
    add_participant,
    enrollments,
    make_session,
    participants,
    text,
)

BASE = f"/{SLUG}/participants/import"

FRENCH = (
    "Civilité;Prénom;Nom;Courriel;Téléphone portable;Société;Fonction;Langue\n"
    "Mme;Hélène;Lefèvre;Helene.Lefevre@Example.fr;06 12 34 56 78;Crédit Agricole;Comptable;fr\n"
    "M.;François;Dupré;francois@example.fr;+44 20 7946 0958;Ça Marche SARL;Directeur général;anglais\n"
)


def upload(client, data: bytes, *, session_id="", funder="employer", filename="participants.csv"):
    return client.post(
        BASE,
        data={"file": (io.BytesIO(data), filename), "session_id": str(session_id), "funder": funder},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    assert response.status_code == 303, text(response)[:2000]
    return re.search(r"[?&]t=([^&]+)", response.location).group(1)


def preview(client, token, **mapping):
    return client.get(f"{BASE}/preview", query_string={"t": token, **mapping})


def confirm(client, token, **mapping):
    return client.post(f"{BASE}/confirm", data={"t": token, **mapping})


def import_file(client, data: bytes, **options):
    token = token_of(upload(client, data, **options))
    shown = preview(client, token)
    assert shown.status_code == 200, text(shown)
    return shown, confirm(client, token)


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [
        ("utf-8", ";"),
        ("utf-8-sig", ";"),
        ("cp1252", ";"),
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("cp1252", ","),
    ],
)
def test_excel_encodings_and_separators(app, admin, encoding, separator):
    content = FRENCH.replace(";", separator) if separator == "," else FRENCH
    if separator == ",":  # a cell with the separator inside is quoted, as Excel does
        content = content.replace("Directeur général", '"Directeur général, ventes"')
    shown, done = import_file(admin, content.replace("\n", "\r\n").encode(encoding))
    page = text(shown)
    assert "Hélène" in page and "Lefèvre" in page
    assert {"cp1252": "Windows-1252"}.get(encoding, "UTF-8") in page
    assert done.status_code == 303
    people = participants(app)
    assert [
        (p["civility"], p["first_name"], p["last_name"], p["email"], p["mobile"], p["company"], p["language"])
        for p in people
    ] == [
        ("mme", "Hélène", "Lefèvre", "helene.lefevre@example.fr", "+33612345678", "Crédit Agricole", "fr"),
        ("m", "François", "Dupré", "francois@example.fr", "+442079460958", "Ça Marche SARL", "en"),
    ]
    assert people[1]["job_title"] == (
        "Directeur général, ventes" if separator == "," else "Directeur général"
    )


def test_english_headers_and_utf16(app, admin):
    content = "First name\tLast name\tE-mail\tMobile\tCompany\tJob title\nAda\tLovelace\tada@example.org\t0612345678\tAnalytical\tEngineer\n"
    shown, done = import_file(admin, content.encode("utf-16"))
    assert done.status_code == 303
    [p] = participants(app)
    assert (p["first_name"], p["email"], p["job_title"]) == ("Ada", "ada@example.org", "Engineer")


def test_every_invalid_line_is_reported_with_its_number_and_reason(app, admin):
    content = (
        "Prénom;Nom;Email;Portable;Civilité\n"
        "Alice;Martin;alice@example.fr;0612345678;Mme\n"  # line 2: fine
        ";Durand;durand@example.fr;;\n"  # 3: no first name
        "Bob;Leroy;bob@@example;;\n"  # 4: malformed email
        "Carl;Petit;carl@example.fr;12345;\n"  # 5: bad phone
        "Alice2;Martin;ALICE@example.fr;;\n"  # 6: duplicate within the file
        "Dan;Roux;;;\n"  # 7: no email
        "Eve;Noir;eve@example.fr;;Docteur\n"  # 8: civility
        "\n"
        "Fay;Blanc;fay@example.fr;;M\n"  # 10: fine (blank line 9 skipped)
    )
    token = token_of(upload(admin, content.encode()))
    page = text(preview(admin, token))
    rows = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", page))
    assert set(rows) == {"3", "4", "5", "6", "7", "8"}
    assert "First name is missing" in rows["3"]
    assert "malformed email address" in rows["4"]
    assert "phone number not recognised" in rows["5"]
    assert "same email as line 2" in rows["6"]
    assert "Email is missing" in rows["7"]
    assert "civility not recognised" in rows["8"]
    assert "2 lines ready to import" in page and "6 lines cannot be imported" in page
    # Nothing is saved until the user confirms.
    assert participants(app) == []
    assert confirm(admin, token).status_code == 303
    assert [p["first_name"] for p in participants(app)] == ["Alice", "Fay"]
    assert "6 invalid lines skipped" in text(admin.get(f"/{SLUG}/participants/"))


def test_reimport_updates_by_email_and_changes_nothing_the_second_time(app, admin):
    existing = add_participant(
        app,
        first_name="Hélène",
        last_name="Old",
        email="helene.lefevre@example.fr",
        notes="kept",
        sms_consent=True,
    )
    import_file(admin, FRENCH.encode("cp1252"))
    people = participants(app)
    assert len(people) == 2
    assert (
        people[0]["id"] == existing and people[0]["last_name"] == "Lefèvre" and people[0]["notes"] == "kept"
    )
    events = len(actions(app))
    before = participants(app)
    shown, done = import_file(admin, FRENCH.encode("cp1252"))
    assert participants(app) == before
    assert "0 added, 0 updated, 2 already up to date" in text(admin.get(f"/{SLUG}/participants/"))
    # Only the upload and the import summary are recorded: no participant changed.
    assert actions(app)[events:] == ["participants.import_uploaded", "participants.imported"]
    # Blank cells do not erase.
    import_file(admin, b"Prenom;Nom;Email;Societe\nHelene;Lefevre;helene.lefevre@example.fr;\n")
    assert participants(app)[0]["company"] == "Crédit Agricole"


def test_import_into_a_session_with_a_funder(app, admin):
    sid = make_session(app)
    shown, done = import_file(admin, FRENCH.encode(), session_id=sid, funder="opco")
    assert "funded by: OPCO" in text(shown)
    assert done.status_code == 303
    ids = [p["id"] for p in participants(app)]
    assert enrollments(app) == [(sid, ids[0], "opco", None), (sid, ids[1], "opco", None)]
    import_file(admin, FRENCH.encode(), session_id=sid, funder="cpf")
    assert len(enrollments(app)) == 2  # already enrolled: not twice, funder untouched


def test_a_failure_halfway_leaves_the_directory_as_it_was(app, admin, monkeypatch):
    from blueprints.participants import imports

    add_participant(app, first_name="Hélène", last_name="Before", email="helene.lefevre@example.fr")
    before, events = participants(app), actions(app)
    real, calls = imports.upsert, []

    def flaky(line, existing, actor, language):
        calls.append(line.number)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(line, existing, actor, language)

    monkeypatch.setattr(imports, "upsert", flaky)
    token = token_of(upload(admin, FRENCH.encode()))
    response = confirm(admin, token)
    assert response.status_code == 500
    assert "nothing was changed" in text(response)
    assert len(calls) == 2
    assert participants(app) == before
    assert actions(app) == events + ["participants.import_uploaded"]


def test_a_file_over_5_mb_is_refused(app, admin):
    line = "Jean;Dupont;jean{}@example.fr;0612345678;Une société au nom assez long pour remplir\n"
    data = ("Prénom;Nom;Email;Portable;Société\n" + "".join(line.format(i) for i in range(80_000))).encode()
    assert len(data) > 5 * 1024 * 1024
    response = upload(admin, data)
    assert response.status_code == 422
    assert "larger than 5 MB" in text(response)
    assert participants(app) == []


def test_a_header_without_email_is_refused_clearly(app, admin):
    token = token_of(upload(admin, "Prénom;Nom;Société\nJean;Dupont;ACME\n".encode()))
    response = preview(admin, token)
    assert response.status_code == 422
    assert "No column holds the email address" in text(response)
    assert "Import 1 participant" not in text(response)
    # Confirming anyway is refused the same way.
    assert confirm(admin, token).status_code == 422
    assert participants(app) == []


def test_the_user_can_change_the_mapping(app, admin):
    token = token_of(upload(admin, b"A,B,C,D\nJean,Dupont,jean@example.fr,x\n"))
    assert preview(admin, token).status_code == 422  # nothing recognised
    mapping = {"map-0": "first_name", "map-1": "last_name", "map-2": "email", "map-3": ""}
    shown = preview(admin, token, **mapping)
    assert shown.status_code == 200 and "1 line ready to import" in text(shown)
    assert 'type="hidden" name="map-2" value="email"' in text(shown)
    twice = preview(admin, token, **{**mapping, "map-3": "email"})
    assert twice.status_code == 422 and "Two columns are read as Email" in text(twice)
    assert confirm(admin, token, **mapping).status_code == 303
    assert participants(app)[0]["email"] == "jean@example.fr"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"PK\x03\x04\x00\x00binary\x00spreadsheet", "cannot be read as a CSV file"),
        (bytes([0x81, 0x8D, 0x8F]) * 10, "cannot be read as a CSV file"),
    ],
)
def test_unreadable_files_are_refused(app, admin, data, message):
    response = upload(admin, data, filename="export.xlsx")
    assert response.status_code == 422
    assert message in text(response)


def test_the_upload_token_belongs_to_its_user_and_organization(app, admin, client, make_tenant):
    from tests.conftest import login

    token = token_of(upload(admin, FRENCH.encode()))
    for forged in ("", "abc", token[:-3] + "xyz"):
        response = preview(admin, forged)
        assert response.status_code == 303 and response.location.endswith(BASE)
        assert confirm(admin, forged).status_code == 303
    # Another admin of the same organization cannot use it.
    from blueprints.accounts.models import ADMIN, User
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(SLUG, app):
        other = db.session.query(User).filter_by(email="fred@acme.fr").one()
        other.role = ADMIN
        db.session.commit()
    second = app.test_client()
    login(second, SLUG, "fred@acme.fr")
    assert preview(second, token).status_code == 303
    assert confirm(second, token).status_code == 303
    assert participants(app) == []


def test_formulas_are_stored_as_text_and_neutralised_on_export(app, admin):
    payload = "=cmd|' /C calc'!A0"
    content = f'Prénom;Nom;Email;Société\n"{payload}";"+1+1";a@example.fr;@SUM(A1)\n'
    import_file(admin, content.encode())
    [p] = participants(app)
    assert (p["first_name"], p["last_name"], p["company"]) == (payload, "+1+1", "@SUM(A1)")
    exported = admin.post(f"/{SLUG}/participants/export").get_data().decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in exported and ";'+1+1;" in exported and ";'@SUM(A1);" in exported
    # And the exported file imports back unchanged.
    before = participants(app)
    import_file(admin, exported.encode("utf-8-sig"))
    assert participants(app) == before


def test_more_than_300_lines_run_in_the_background(app, admin, jobs):
    rows = "".join(f"P{i};Nom{i};p{i}@example.fr\n" for i in range(301))
    token = token_of(upload(admin, ("Prénom;Nom;Email\n" + rows + "X;Y;bad\n").encode()))
    page = text(preview(admin, token))
    assert "runs in the background" in page
    response = confirm(admin, token)
    assert response.status_code == 303 and "task=" in response.location
    task_id = int(re.search(r"task=(\d+)", response.location).group(1))
    assert participants(app) == []  # not in the request
    waiting = text(admin.get(response.location))
    assert f"/tasks/{task_id}" in waiting
    jobs()
    bar = text(admin.get(f"/{SLUG}/tasks/{task_id}", headers={"HX-Request": "true"}))
    assert (
        "Done." in bar and "301 added" in bar and "1 invalid lines skipped" in bar and "hx-trigger" not in bar
    )
    assert len(participants(app)) == 301
    assert actions(app).count("participant.created") == 301


def test_a_failing_background_import_changes_nothing_and_says_so(app, admin, jobs, monkeypatch):
    from blueprints.participants import imports
    from blueprints.tasks.models import Task
    from tenants import tenant_scope
    from tenants.db import db

    real, calls = imports.upsert, []

    def flaky(line, existing, actor, language):
        calls.append(1)
        if len(calls) == 250:
            raise RuntimeError("disk full")
        return real(line, existing, actor, language)

    monkeypatch.setattr(imports, "upsert", flaky)
    rows = "".join(f"P{i};Nom{i};p{i}@example.fr\n" for i in range(400))
    token = token_of(upload(admin, ("Prénom;Nom;Email\n" + rows).encode()))
    response = confirm(admin, token)
    task_id = int(re.search(r"task=(\d+)", response.location).group(1))
    jobs()
    with tenant_scope(SLUG, app):
        task = db.session.get(Task, task_id)
        assert task.status == "failed" and "disk full" in task.error
    assert "This task failed" in text(admin.get(f"/{SLUG}/tasks/{task_id}"))
    assert participants(app) == []
    assert "participant.created" not in actions(app)


def test_an_upload_never_confirmed_is_deleted_once_its_preview_expired(app, admin):
    from sqlalchemy import select, update

    from blueprints.audit.models import AuditEvent
    from jobs.maintenance import purge_stale_files
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import Blob

    abandoned = token_of(upload(admin, FRENCH.encode()))
    fresh = token_of(upload(admin, FRENCH.encode(), filename="today.csv"))
    with tenant_scope(SLUG, app):
        first, second = db.session.scalars(select(Blob.id).order_by(Blob.id)).all()
        db.session.execute(
            update(AuditEvent)
            .where(AuditEvent.action == "participants.import_uploaded", AuditEvent.object_id == first)
            .values(occurred_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
    with app.app_context():
        from tenants import find_tenant

        assert purge_stale_files(find_tenant(slug=SLUG).id)["uploads"] == 1
    with tenant_scope(SLUG, app):
        assert db.session.scalars(select(Blob.id)).all() == [second]
    # The abandoned preview says so; the fresh one still works.
    assert "Send the file again" in text(
        admin.get(f"{BASE}/preview", query_string={"t": abandoned}, follow_redirects=True)
    )
    assert preview(admin, fresh).status_code == 200
