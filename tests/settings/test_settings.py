"""Organization settings: identity, images checked with Pillow, half-days, language and timezone."""

from __future__ import annotations

import base64
from io import BytesIO

from PIL import Image

from tests.conftest import login
from tests.trainings.conftest import FRED, audit_actions, in_acme, text

VALID = {
    "name": "Acme Formation SAS",
    "siret": "732 829 320 00074",
    "activity_number": "11 75 12345 67",
    "address": "12 rue des Lilas",
    "postal_code": "67000",
    "city": "Strasbourg",
    "contact_email": "contact@acme.fr",
    "contact_phone": "03 88 00 00 00",
    "representative_name": "Ada Acme",
    "representative_title": "Présidente",
    "morning_start": "08:30",
    "morning_end": "12:00",
    "afternoon_start": "13:00",
    "afternoon_end": "16:30",
    "late_tolerance_minutes": "15",
    "language": "en",
    "timezone": "Europe/Paris",
    "signin_channels": "both",
}


def _png(size=(120, 60), kind="PNG") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def _organization(app):
    from blueprints.accounts.models import organization
    from tenants.db import db

    with in_acme(app):
        org = organization()
        db.session.expunge(org)
        return org


def _blob_count(app) -> int:
    from sqlalchemy import func, select

    from tenants.db import db
    from tenants.storage import Blob

    with in_acme(app):
        return db.session.scalar(select(func.count()).select_from(Blob))


def test_settings_are_saved_with_a_logo_and_a_drawn_signature(app, admin):
    page = admin.get("/acme/settings/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in text(page)
    assert "js/signature-pad.js" in text(page)
    assert admin.get("/acme/settings/logo").status_code == 204  # none yet
    drawn = "data:image/png;base64," + base64.b64encode(_png((300, 100))).decode()
    response = admin.post(
        "/acme/settings/",
        data={
            **VALID,
            "timezone": "America/Martinique",
            "logo": (BytesIO(_png(kind="JPEG")), "logo.jpg"),
            "signature_data": drawn,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, text(response)
    org = _organization(app)
    assert (org.name, org.siret, org.activity_number) == (
        "Acme Formation SAS",
        "73282932000074",
        "11751234567",
    )
    assert (str(org.morning_start), str(org.afternoon_end), org.late_tolerance_minutes) == (
        "08:30:00",
        "16:30:00",
        15,
    )
    assert org.signin_channels == "both" and org.representative_title == "Présidente"
    logo = admin.get("/acme/settings/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/jpeg"
    signature = admin.get("/acme/settings/signature")
    assert signature.mimetype == "image/png" and signature.data == base64.b64decode(drawn.split(",")[1])

    from tenants import find_tenant

    with app.app_context():
        assert find_tenant(slug="acme").timezone == "America/Martinique"
    assert audit_actions(app)[-1] == "organization.settings_updated"

    # New sessions take the new half-days.
    from tests.trainings.conftest import new_session, new_training, slots_of

    session_id = new_session(admin, new_training(admin), "2028-03-06", "2028-03-06", timezone="Europe/Paris")
    assert [s[1] for s in slots_of(app, session_id)] == ["08:30", "13:00"]

    # Removing the logo removes its blob.
    blobs = _blob_count(app)
    admin.post("/acme/settings/", data={**VALID, "remove_logo": "y"}, content_type="multipart/form-data")
    assert _organization(app).logo_blob_id is None and _blob_count(app) == blobs - 1
    assert admin.get("/acme/settings/logo").status_code == 204


def test_bad_settings_save_nothing(app, admin):
    before = _organization(app)
    events = audit_actions(app)
    blobs = _blob_count(app)
    cases = [
        ({"siret": "73282932000075"}, "This SIRET number is not valid: check its 14 digits."),
        ({"activity_number": "1234"}, "The declaration of activity number has 11 digits."),
        ({"morning_end": "14:00"}, "The half-days must follow each other"),
        (
            {"logo": (BytesIO(b"just some text, not an image"), "logo.png")},
            "This file is not a PNG or JPEG image.",
        ),
        ({"logo": (BytesIO(_png((4100, 20))), "wide.png")}, "between 16 and 4000 pixels"),
        (
            {"logo": (BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 40), "broken.png")},
            "This file is not a PNG or JPEG image.",
        ),
        (
            {"signature_data": "data:image/png;base64,bm90IGFuIGltYWdl"},
            "This file is not a PNG or JPEG image.",
        ),
        ({"timezone": "Mars/Olympus"}, "Choose a timezone from the list."),
    ]
    for change, message in cases:
        response = admin.post("/acme/settings/", data={**VALID, **change}, content_type="multipart/form-data")
        assert response.status_code == 422, change
        assert message in text(response), change
        assert "Nothing was saved" in text(response)
    after = _organization(app)
    assert (after.name, after.siret, after.logo_blob_id) == (before.name, before.siret, None)
    assert audit_actions(app) == events and _blob_count(app) == blobs


def test_settings_are_for_administrators(app, client, acme):
    login(client, "acme", FRED)
    assert client.get("/acme/settings/").status_code == 403
    assert client.post("/acme/settings/", data=VALID).status_code == 403
    assert client.get("/acme/settings/signature").status_code == 403
    assert client.get("/acme/settings/logo").status_code == 204
