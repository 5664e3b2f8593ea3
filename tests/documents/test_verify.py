"""The public verification page: what was issued under a code, and whether a file is byte-for-byte that one."""

from __future__ import annotations

import io

from tests.documents.plumbing import SLUG, english_world, fake_renderer, issue, stored, text


def public(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(client, code: str, data: bytes, name: str = "document.pdf"):
    return client.post(
        f"/verify/{code}",
        data={"document": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_page_shows_what_was_issued_and_nothing_personal(app, make_tenant, monkeypatch):
    from blueprints.documents.models import CERTIFICATE

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    certificate = issue(app, CERTIFICATE, world.session_id, participant_id=world.participant_ids[0])
    code = certificate["verification_code"]
    client = public(app)
    response = client.get(f"/verify/{code}")
    page = text(response)
    assert response.status_code == 200
    for shown in (
        "Acme Formation",
        "Certificate of completion",
        "Sécurité au travail",
        certificate["sha256"],
    ):
        assert shown in page
    assert "2 November 2026" in page  # the session's dates
    # The trainee's name, company, email: not there (the holder has the paper; a passer-by learns nothing).
    name = world.names[0]
    assert name not in page and name.split()[0] not in page and "Client SA" not in page
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # No measurement script on this page (a trainee's page: never measured).
    assert "js/audience.js" not in page and "js/consent.js" not in page
    assert getattr(app.view_functions["verify.document"], "never_measured", False)
    assert getattr(app.view_functions["verify.check"], "never_measured", False)

    # A code typed from paper, in lower case with a space, finds it; the form on /verify leads there.
    assert (
        client.get(f"/verify/{code.lower().replace('-', ' ')}")
        .headers["Location"]
        .endswith(f"/verify/{code}")
    )
    response = client.get("/verify", query_string={"code": code.lower()})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/verify/{code}")
    assert client.get("/verify").status_code == 200
    response = client.get("/verify", query_string={"code": "nope"})
    assert response.status_code == 422 and "8 letters and digits" in text(response)


def test_genuine_accepted_altered_refused(app, make_tenant, monkeypatch):
    from blueprints.documents.models import SESSION_SHEET

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    sheet = issue(app, SESSION_SHEET, world.session_id)
    newer = issue(app, SESSION_SHEET, world.session_id)
    genuine = stored(app, sheet["blob_key"])
    client = public(app)

    response = upload(client, sheet["verification_code"], genuine)
    assert response.status_code == 200
    assert "byte-for-byte identical" in text(response) and "Does not match" not in text(response)
    assert "a newer version of this document was issued since" in text(response)

    altered = bytearray(genuine)
    middle = len(altered) // 2
    altered[middle] = (altered[middle] + 1) % 256
    response = upload(client, sheet["verification_code"], bytes(altered))
    assert response.status_code == 200
    assert "Does not match" in text(response) and "byte-for-byte identical" not in text(response)

    # The right file under another code (a later version) does not match either.
    response = upload(client, newer["verification_code"], genuine)
    assert "Does not match" in text(response)
    assert "newer version" not in text(client.get(f"/verify/{newer['verification_code']}"))


def test_unknown_code_is_a_clear_404(app, make_tenant):
    client = public(app)
    for code in ("ZZZZ-ZZZZ", "not-a-code", "a" * 300):
        response = client.get(f"/verify/{code}")
        assert response.status_code == 404
        assert "No document has this code" in text(response)
    assert upload(client, "ZZZZ-ZZZZ", b"%PDF-1.4").status_code == 404


def test_wrong_files_are_answered_clearly(app, make_tenant, monkeypatch):
    from blueprints.documents import services
    from blueprints.documents.models import SESSION_SHEET

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    code = issue(app, SESSION_SHEET, world.session_id)["verification_code"]
    client = public(app)

    response = upload(client, code, b"hello, this is not a PDF at all", "notes.txt")
    assert response.status_code == 422 and "This file is not a PDF" in text(response)

    response = client.post(f"/verify/{code}", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the file to check" in text(response)

    # Over the limit, announced by the request: refused before the body is read.
    big = b"%PDF-1.4\n" + b"0" * (services.MAX_UPLOAD_BYTES + 100 * 1024)
    response = upload(client, code, big)
    assert response.status_code == 413 and "too large: 20 MB at most" in text(response)
    # Over the limit without a length announced (streamed): hashing stops at the limit.
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1024)
    try:
        services.hash_upload(io.BytesIO(b"%PDF" + b"x" * 5000), limit=1024)
    except services.DocumentError as error:
        assert error.status == 413
    else:
        raise AssertionError("a stream over the limit was hashed whole")


def test_checks_are_throttled_per_address(app, make_tenant, monkeypatch):
    from blueprints.documents import verify_views as verify
    from blueprints.documents.models import SESSION_SHEET

    fake_renderer(monkeypatch)
    world = english_world(app, make_tenant)
    sheet = issue(app, SESSION_SHEET, world.session_id)
    genuine = stored(app, sheet["blob_key"])
    monkeypatch.setattr(verify, "VERIFY_IP", verify.throttle.Limit("verify-ip-test", 2, 600))
    client = public(app)
    assert upload(client, sheet["verification_code"], genuine).status_code == 200
    assert upload(client, sheet["verification_code"], genuine).status_code == 200
    response = upload(client, sheet["verification_code"], genuine)
    assert response.status_code == 429 and "Too many checks" in text(response)
    assert SLUG
