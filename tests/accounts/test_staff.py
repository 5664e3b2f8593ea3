"""Platform staff: created on the command line, logged in with a password and a TOTP code."""

from __future__ import annotations

import re
import time

import pyotp

from tests.accounts.helpers import text
from tests.conftest import login

STAFF_PASSWORD = "granite-heron-paper-58"


def create(app, email="sam@emarge.fr", password=STAFF_PASSWORD):
    return app.test_cli_runner().invoke(
        args=["staff", "create", email, "--name", "Sam Support", "--password", password]
    )


def secret_of(output: str) -> str:
    return re.search(r"TOTP secret: ([A-Z2-7]+)", output).group(1)


def test_cli_creates_staff_and_prints_the_totp_secret(app):
    from blueprints.staff.models import Staff
    from tenants.db import db

    result = create(app, email="Sam@Emarge.fr")
    assert result.exit_code == 0, result.output
    assert "Staff account sam@emarge.fr created (platform-admin)." in result.output
    secret = secret_of(result.output)
    assert "otpauth://totp/" in result.output
    with app.app_context():
        staff = db.session.scalars(db.select(Staff)).one()
        assert (staff.email, staff.name, staff.active) == ("sam@emarge.fr", "Sam Support", True)
        # Encrypted at rest, under a key derived from SECRET_KEY.
        assert secret not in staff.totp_secret
        from blueprints.staff.totp import decrypt_secret

        assert decrypt_secret(staff.totp_secret) == secret
        assert staff.password_hash != STAFF_PASSWORD

    weak = create(app, email="weak@emarge.fr", password="password")
    assert weak.exit_code != 0
    assert "Use at least 12 characters" in weak.output
    with app.app_context():
        assert db.session.scalars(db.select(Staff).where(Staff.email == "weak@emarge.fr")).first() is None


def test_staff_login_needs_password_and_code(app, client, make_tenant):
    totp = pyotp.TOTP(secret_of(create(app).output))
    assert client.get("/staff/").status_code == 302
    # An organization's login is not a staff login.
    make_tenant("acme", admin="ada@acme.fr")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get("/staff/").status_code == 302

    def attempt(password, code):
        return client.post(
            "/staff/login", data={"email": "sam@emarge.fr", "password": password, "code": code}
        )

    wrong_code = f"{(int(totp.now()) + 500000) % 1000000:06d}"
    for response in (attempt(STAFF_PASSWORD, wrong_code), attempt("not-the-password", totp.now())):
        assert response.status_code == 422
        assert "Email, password or code is not correct." in text(response)
        assert client.get("/staff/").status_code == 302
    # A code of long ago is refused too.
    assert attempt(STAFF_PASSWORD, totp.at(time.time() - 3600)).status_code == 422

    response = attempt(STAFF_PASSWORD, totp.now())
    assert response.status_code == 303
    assert response.location.endswith("/staff/")
    assert client.get("/staff/").status_code == 200

    client.post("/staff/logout")
    assert client.get("/staff/").status_code == 302

    # Five failures in a row, and even the right password and code wait.
    for _ in range(5):
        assert attempt("not-the-password", totp.now()).status_code == 422
    blocked = attempt(STAFF_PASSWORD, totp.now())
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_an_authenticator_code_works_once(app, client):
    totp = pyotp.TOTP(secret_of(create(app).output))
    code = totp.now()
    form = {"email": "sam@emarge.fr", "password": STAFF_PASSWORD, "code": code}
    assert client.post("/staff/login", data=form).status_code == 303
    client.post("/staff/logout")
    # The same code again, from another browser or the same one: refused, even within its 30 seconds.
    other = app.test_client()
    replay = other.post("/staff/login", data=form)
    assert replay.status_code == 422
    assert other.get("/staff/").status_code == 302
    # A code of the step before is refused too once a later one was used.
    assert other.post("/staff/login", data={**form, "code": totp.at(time.time() - 30)}).status_code == 422


def test_staff_logout_ends_the_session_a_copied_cookie_opens_nothing(app, client):
    totp = pyotp.TOTP(secret_of(create(app).output))
    form = {"email": "sam@emarge.fr", "password": STAFF_PASSWORD, "code": totp.now()}
    assert client.post("/staff/login", data=form).status_code == 303
    stolen = client.get_cookie("emarge_session").value
    assert client.get("/staff/").status_code == 200
    client.post("/staff/logout")
    thief = app.test_client()
    thief.set_cookie("emarge_session", stolen, path="/")
    assert thief.get("/staff/").status_code == 302


def test_secrets_still_decrypt_after_the_key_is_rotated(make_app):
    from blueprints.staff.totp import decrypt_secret, encrypt_secret

    old = make_app(SECRET_KEY="the-old-key")
    with old.app_context():
        stored = encrypt_secret("JBSWY3DPEHPK3PXP")
    rotated = make_app(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=["the-old-key"])
    with rotated.app_context():
        assert decrypt_secret(stored) == "JBSWY3DPEHPK3PXP"
        assert decrypt_secret(encrypt_secret("JBSWY3DPEHPK3PXP")) == "JBSWY3DPEHPK3PXP"
    forgotten = make_app(SECRET_KEY="the-new-key")
    with forgotten.app_context():
        import pytest
        from cryptography.fernet import InvalidToken

        with pytest.raises(InvalidToken):
            decrypt_secret(stored)
