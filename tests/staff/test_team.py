"""Staff roles and the team console: who may open what, accounts made and ended by platform admins, the log."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.privacy.conftest import sign_in_staff, text

PASSWORD = "granite-heron-paper-58"
ADMIN_ONLY = (
    "/staff/team",
    "/staff/team/log",
    "/staff/privacy/",
    "/staff/privacy/sub-processors",
    "/staff/audience",
)


def staff_client(app, email: str, role: str):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, c, email=email, role=role)
    return c


@pytest.fixture
def support_client(app):
    return staff_client(app, "sue@emarge.fr", "support")


@pytest.fixture
def admin_client(app):
    return staff_client(app, "pat@emarge.fr", "platform-admin")


def csrf(client, path="/staff/team") -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text(client.get(path))).group(1)


def staff_row(app, email):
    from sqlalchemy import select

    from blueprints.staff.models import Staff
    from tenants.db import db

    with app.app_context():
        row = db.session.scalars(select(Staff).where(Staff.email == email)).first()
        db.session.expunge_all()
        return row


def log_actions(app) -> list[tuple]:
    from sqlalchemy import select

    from blueprints.staff.models import StaffEvent
    from tenants.db import db

    with app.app_context():
        return [
            (e.action, e.staff_id, e.target_staff_id)
            for e in db.session.scalars(select(StaffEvent).order_by(StaffEvent.id))
        ]


def test_support_staff_cannot_open_platform_admin_pages(app, support_client, admin_client):
    for path in ADMIN_ONLY:
        refused = support_client.get(path)
        assert refused.status_code == 403, path
        assert "This page is for platform admins" in text(refused)
        assert admin_client.get(path).status_code == 200, path
    # Nor post to them: the page is refused before any form is read.
    assert support_client.post("/staff/team", data={"email": "x@emarge.fr"}).status_code == 403
    assert staff_row(app, "x@emarge.fr") is None
    # The menu shows a support member only what they may open.
    home = text(support_client.get("/staff/"))
    assert "/staff/team" not in home and "/staff/privacy/" not in home
    assert "/staff/team" in text(admin_client.get("/staff/"))


def test_a_platform_admin_creates_a_staff_account_shown_its_secret_once(app, admin_client):
    token = csrf(admin_client)
    made = admin_client.post(
        "/staff/team",
        data={
            "csrf_token": token,
            "email": "Nina@Emarge.fr",
            "name": "Nina Support",
            "role": "support",
            "timezone": "Indian/Reunion",
            "password": PASSWORD,
        },
    )
    assert made.status_code == 200
    secret = re.search(r'<code class="secret">([A-Z2-7]{32})</code>', text(made)).group(1)
    nina = staff_row(app, "nina@emarge.fr")
    assert (nina.role, nina.timezone, nina.active) == ("support", "Indian/Reunion", True)
    from blueprints.staff.totp import decrypt_secret

    with app.app_context():
        assert decrypt_secret(nina.totp_secret) == secret
    # The new member signs in with it.
    login_page = app.test_client()
    page = text(login_page.get("/staff/login"))
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    signed = login_page.post(
        "/staff/login",
        data={
            "csrf_token": token,
            "email": "nina@emarge.fr",
            "password": PASSWORD,
            "code": pyotp.TOTP(secret).now(),
        },
    )
    assert signed.status_code == 303
    admin = staff_row(app, "pat@emarge.fr")
    assert ("staff.created", admin.id, nina.id) in log_actions(app)
    assert "created the account" in text(admin_client.get("/staff/team/log"))


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nina@emarge.test", "Enter a valid email address."),
        ("not-an-email", "Enter a valid email address."),
        ("pat@emarge.fr", "A staff account with this email already exists."),
    ],
)
def test_a_bad_staff_account_is_refused_with_a_message_and_nothing_made(app, admin_client, email, message):
    refused = admin_client.post(
        "/staff/team",
        data={
            "csrf_token": csrf(admin_client),
            "email": email,
            "name": "Nina",
            "role": "support",
            "timezone": "Europe/Paris",
            "password": PASSWORD,
        },
    )
    assert refused.status_code == 422
    assert message in text(refused)
    assert [a for a in log_actions(app) if a[0] == "staff.created"] == []


def test_the_command_line_validates_the_email_as_the_login_form_does(app):
    refused = app.test_cli_runner().invoke(
        args=["staff", "create", "sam@emarge.test", "--name", "Sam", "--password", PASSWORD]
    )
    assert refused.exit_code != 0 and "Enter a valid email address." in refused.output
    assert staff_row(app, "sam@emarge.test") is None
    made = app.test_cli_runner().invoke(
        args=[
            "staff",
            "create",
            "sue@emarge.fr",
            "--name",
            "Sue",
            "--role",
            "support",
            "--password",
            PASSWORD,
        ]
    )
    assert made.exit_code == 0, made.output
    assert staff_row(app, "sue@emarge.fr").role == "support"
    assert log_actions(app) == [("staff.created", None, staff_row(app, "sue@emarge.fr").id)]


def test_deactivating_ends_every_login_and_the_last_admin_stays(app, admin_client, support_client):
    sue = staff_row(app, "sue@emarge.fr")
    pat = staff_row(app, "pat@emarge.fr")
    assert support_client.get("/staff/").status_code == 200
    # Support staff cannot deactivate anyone.
    assert support_client.post(f"/staff/team/{pat.id}/active", data={"active": "0"}).status_code == 403
    assert staff_row(app, "pat@emarge.fr").active
    done = admin_client.post(
        f"/staff/team/{sue.id}/active", data={"csrf_token": csrf(admin_client), "active": "0"}
    )
    assert done.status_code == 303
    assert not staff_row(app, "sue@emarge.fr").active
    # Her open browser is signed out at once.
    assert support_client.get("/staff/").status_code == 302
    # Nobody deactivates themself, so the last platform admin always remains.
    kept = admin_client.post(
        f"/staff/team/{pat.id}/active",
        data={"csrf_token": csrf(admin_client), "active": "0"},
        follow_redirects=True,
    )
    assert "You cannot deactivate your own account." in text(kept)
    assert staff_row(app, "pat@emarge.fr").active
    assert ("staff.deactivated", pat.id, sue.id) in log_actions(app)


def test_a_new_authenticator_replaces_the_old_one(app, admin_client, support_client):
    from blueprints.staff.totp import decrypt_secret

    sue = staff_row(app, "sue@emarge.fr")
    with app.app_context():
        old = decrypt_secret(sue.totp_secret)
    reset = admin_client.post(f"/staff/team/{sue.id}/authenticator", data={"csrf_token": csrf(admin_client)})
    assert reset.status_code == 200
    new = re.search(r'<code class="secret">([A-Z2-7]{32})</code>', text(reset)).group(1)
    with app.app_context():
        assert decrypt_secret(staff_row(app, "sue@emarge.fr").totp_secret) == new != old
    assert support_client.get("/staff/").status_code == 302
    assert ("staff.authenticator_reset", staff_row(app, "pat@emarge.fr").id, sue.id) in log_actions(app)


def test_staff_pages_show_times_in_the_staff_members_timezone(app, admin_client):
    from blueprints.staff.models import Staff
    from tenants.db import db

    with app.app_context():
        pat = db.session.scalars(db.select(Staff).where(Staff.email == "pat@emarge.fr")).one()
        pat.timezone = "Indian/Reunion"
        db.session.commit()
    # The staff log shows its first line's time with the staff member's own zone.
    admin_client.post(
        "/staff/team",
        data={
            "csrf_token": csrf(admin_client),
            "email": "kim@emarge.fr",
            "name": "Kim",
            "role": "support",
            "timezone": "Europe/Paris",
            "password": PASSWORD,
        },
    )
    with app.app_context():
        from blueprints.staff.models import StaffEvent

        at = db.session.scalars(db.select(StaffEvent)).one().at
    from zoneinfo import ZoneInfo

    local = at.astimezone(ZoneInfo("Indian/Reunion"))
    assert f"{local.hour}:{local.minute:02d}" in text(admin_client.get("/staff/team/log"))


def test_a_staff_session_grants_no_role_in_any_organization(app, make_tenant, admin_client):
    make_tenant("acme", admin="ada@acme.fr")
    for path in ("/acme/", "/acme/settings/", "/acme/participants/"):
        assert admin_client.get(path).status_code == 302, path
        assert "/acme/login" in admin_client.get(path).headers["Location"]
