"""Support sessions: started from the console where the organization allows it, read only on the server unless a
write grant and a second reason, the never-actions refused even then, ended by the staff member, by idleness, by
time, by the organization; both identities on every audit event; the organization's log; the admins emailed."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.privacy.conftest import sign_in_staff

SUPPORT_COOKIE = "emarge_support"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def acme(app, make_tenant):
    """Acme (admin Ada, facilitator Fred), its admin's English client, and a 24-hour grant of ``scope``."""
    tenant = make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    return tenant


def in_acme(app, fn):
    from tenants import tenant_scope

    with app.app_context(), tenant_scope("acme"):
        return fn()


def user_id(app, email: str) -> int:
    from blueprints.accounts.models import User
    from tenants.db import db

    return in_acme(app, lambda: db.session.scalar(select(User.id).where(User.email == email)))


def give_access(app, scope: str = "read", hours: int = 24) -> int:
    from blueprints.accounts.models import User, organization
    from blueprints.audit.services import Actor
    from blueprints.support import services
    from tenants.db import db

    def grant():
        ada = db.session.scalar(select(User).where(User.email == "ada@acme.fr"))
        row = services.grant(organization(), Actor.for_user(ada), hours=hours, scope=scope)
        db.session.commit()
        return row.id

    return in_acme(app, grant)


def set_access(app, setting: str) -> None:
    from blueprints.accounts.models import User, organization
    from blueprints.audit.services import Actor
    from blueprints.support import services
    from tenants.db import db

    def change():
        ada = db.session.scalar(select(User).where(User.email == "ada@acme.fr"))
        services.set_setting(organization(), setting, Actor.for_user(ada))
        db.session.commit()

    in_acme(app, change)


@pytest.fixture
def support(app, acme):
    """A support member's signed-in browser (English)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, client, email="sue@emarge.fr", role="support")
    return client


def start(app, client, *, user: str = "fred@acme.fr", reason: str = "Request 42: the roster", **form):
    from tenants import find_tenant

    with app.app_context():
        tenant_id = find_tenant(slug="acme").id
    data = {"user_id": user_id(app, user), "reason": reason, "mode": "read", **form}
    return client.post(f"/staff/organizations/{tenant_id}/support-sessions", data=data)


def session_row(app, **where):
    from blueprints.support.models import SupportSession
    from tenants.db import db

    with app.app_context():
        row = db.session.scalars(select(SupportSession).order_by(SupportSession.id.desc())).first()
        db.session.expunge_all()
        return row


def events(app, session_id: int) -> list[tuple[str, str, str]]:
    from blueprints.support.models import SupportSessionEvent
    from tenants.db import db

    with app.app_context():
        return [
            (e.kind, f"{e.method} {e.path}", e.detail or "")
            for e in db.session.scalars(
                select(SupportSessionEvent)
                .where(SupportSessionEvent.support_session_id == session_id)
                .order_by(SupportSessionEvent.id)
            )
        ]


def audit(app) -> list:
    from blueprints.audit.models import AuditEvent
    from tenants.db import db

    def read():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows

    return in_acme(app, read)


def move_clock(app, session_id: int, **delta) -> None:
    """Move the support session back in time (its start and its last request), as if ``delta`` had passed."""
    from sqlalchemy import update

    from blueprints.support.models import SupportSession
    from tenants.db import db

    shift = timedelta(**delta)
    with app.app_context():
        row = db.session.get(SupportSession, session_id)
        db.session.execute(
            update(SupportSession)
            .where(SupportSession.id == session_id)
            .values(
                started_at=row.started_at - shift,
                last_seen_at=row.last_seen_at - shift,
                expires_at=row.expires_at - shift,
            )
        )
        db.session.commit()


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


# --- starting ---------------------------------------------------------------------------------------------------


def test_a_support_session_starts_with_the_banner_and_emails_the_admins(app, support, smtp_server, jobs):
    give_access(app)
    staff_cookie = cookie(support, "emarge_session")
    started = start(app, support)
    assert started.status_code == 303 and started.headers["Location"].endswith("/acme/")
    row = session_row(app)
    assert row.mode == "read" and row.reason == "Request 42: the roster" and row.grant_id is not None
    # Its own cookie, and the staff login's session rotated (a new login record, a new CSRF token).
    assert cookie(support, SUPPORT_COOKIE).startswith(f"{row.id}:")
    assert cookie(support, "emarge_session") != staff_cookie
    page = support.get("/acme/")
    body = text(page)
    assert page.status_code == 200
    assert 'id="support-banner"' in body
    assert "Sam Support (Emarge support) is acting as Fred Acme" in body
    assert "read only" in body and "30 minutes left" in body and ">End<" in body
    # Fred's pages: not an admin's.
    assert support.get("/acme/settings/").status_code == 403
    # The admins are emailed, through the platform's delivery log.
    jobs()
    mail = smtp_server.to("ada@acme.fr")
    assert len(mail) == 1 and "support session" in mail[0]["Subject"].lower()
    body = mail[0].get_body(("plain",)).get_content()
    assert "Sam Support" in body and "Fred Acme" in body and "Request 42: the roster" in body
    assert "/acme/settings/support" in body
    assert not smtp_server.to("fred@acme.fr")
    log = support.get("/staff/mail")
    assert "ada@acme.fr" in text(log) and "A support session started" in text(log) and "sent" in text(log)
    # The organization's audit trail has the start, with both identities.
    started_event = next(e for e in audit(app) if e.action == "support_session.started")
    assert started_event.actor_kind == "staff"
    assert started_event.actor_user_id == user_id(app, "fred@acme.fr")
    assert started_event.actor_staff_id == row.staff_id


def test_the_banner_is_on_every_htmx_fragment_too(app, support):
    give_access(app)
    start(app, support)
    fragment = support.get("/acme/search?q=fred&live=1", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    body = text(fragment)
    assert 'id="support-banner"' in body and 'hx-swap-oob="true"' in body
    assert "is acting as Fred Acme" in body


def test_access_off_and_no_grant_refuse_the_start(app, support):
    # On request (the default) and no grant: refused, nothing made.
    refused = start(app, support)
    assert refused.status_code == 422
    assert "does not allow support access now" in text(refused)
    assert session_row(app) is None and cookie(support, SUPPORT_COOKIE) is None
    set_access(app, "off")
    assert start(app, support).status_code == 422
    assert session_row(app) is None
    # Refusals are in the platform's staff log.
    from blueprints.staff.models import StaffEvent
    from tenants.db import db

    with app.app_context():
        assert db.session.scalars(select(StaffEvent.action)).all().count("support_session.refused") == 2


def test_forged_starts_are_refused(app, acme, make_app, support):
    give_access(app)
    # No CSRF token: the real form posts one.
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    sign_in_staff(strict, client, email="sid@emarge.fr", role="support")
    from tenants import find_tenant

    with strict.app_context():
        tenant_id = find_tenant(slug="acme").id
    forged = client.post(
        f"/staff/organizations/{tenant_id}/support-sessions",
        data={"user_id": user_id(app, "fred@acme.fr"), "reason": "Request 1", "mode": "read"},
    )
    assert forged.status_code in (400, 422) and session_row(app) is None
    # Not staff: the login page.
    stranger = app.test_client()
    assert start(app, stranger).status_code == 302 and session_row(app) is None
    # A user of the organization, signed in: still not staff.
    assert login(stranger, "acme", "ada@acme.fr").status_code == 303
    assert start(app, stranger).status_code == 302 and session_row(app) is None
    # A platform admin runs the platform, not support sessions.
    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, admin, email="pat@emarge.fr", role="platform-admin")
    refused = start(app, admin)
    assert refused.status_code == 422 and "Only support staff" in text(refused)
    assert session_row(app) is None


def test_a_start_on_a_deactivated_user_or_a_staff_members_account_is_refused(app, support, make_tenant):
    from blueprints.accounts.models import User
    from tenants.db import db

    give_access(app)

    def deactivate():
        db.session.scalar(select(User).where(User.email == "fred@acme.fr")).active = False
        db.session.commit()

    in_acme(app, deactivate)
    refused = start(app, support)
    assert refused.status_code == 422 and "deactivated" in text(refused)

    # Ada's address is also a staff account's: support never acts as staff.
    sign_in_staff(app, app.test_client(), email="ada@acme.fr", role="support")
    refused = start(app, support, user="ada@acme.fr")
    assert refused.status_code == 422 and "Emarge staff member" in text(refused)
    # And a reason is required.
    refused = start(app, support, user="ada@acme.fr", reason="  ")
    assert refused.status_code == 422
    assert session_row(app) is None


def test_nesting_is_refused(app, support):
    give_access(app)
    start(app, support)
    first = session_row(app)
    again = start(app, support, user="ada@acme.fr")
    assert again.status_code == 422 and "already open in this browser" in text(again)
    assert session_row(app).id == first.id


# --- read only, write mode, never --------------------------------------------------------------------------------


def test_read_only_refuses_every_post_and_logs_it(app, support):
    from blueprints.participants.models import Participant
    from tenants.db import db

    give_access(app)
    start(app, support)
    row = session_row(app)
    refused = support.post("/acme/participants/", data={"first_name": "Eve", "last_name": "Hacker"})
    assert refused.status_code == 403
    assert "read only" in text(refused) and 'id="support-banner"' in text(refused)
    assert in_acme(app, lambda: db.session.scalar(select(Participant.id))) is None
    assert (
        "refused",
        "POST /acme/participants/",
        "This support session is read only: nothing can be changed.",
    ) in (events(app, row.id))


def test_write_mode_needs_a_write_grant_and_a_second_reason(app, support):
    from blueprints.participants.models import Participant
    from tenants.db import db

    give_access(app, scope="read")
    refused = start(app, support, mode="write", write_reason="Fix a typo in a name")
    assert refused.status_code == 422 and "changes allowed" in text(refused)
    give_access(app, scope="write")
    refused = start(app, support, mode="write")
    assert refused.status_code == 422 and "Say why" in text(refused)
    assert (
        start(app, support, user="ada@acme.fr", mode="write", write_reason="Fix a typo in a name").status_code
        == 303
    )
    row = session_row(app)
    assert row.mode == "write" and row.write_reason == "Fix a typo in a name"
    assert "write mode" in text(support.get("/acme/"))
    made = support.post(
        "/acme/participants/",
        data={
            "civility": "",
            "first_name": "Eva",
            "last_name": "Martin",
            "language": "fr",
            "funder": "employer",
        },
    )
    assert made.status_code in (302, 303), text(made)
    assert in_acme(app, lambda: db.session.scalar(select(Participant.first_name))) == "Eva"
    created = next(e for e in audit(app) if e.action == "participant.created")
    # Both identities: the staff member acted, on behalf of Ada.
    assert created.actor_kind == "staff"
    assert created.actor_staff_id == row.staff_id
    assert created.actor_user_id == user_id(app, "ada@acme.fr")
    assert any(
        kind == "changed" and path == "POST /acme/participants/" for kind, path, _ in events(app, row.id)
    )
    # The audit trail in words names both.
    ada = app.test_client()
    ada.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(ada, "acme", "ada@acme.fr")
    trail = text(ada.get("/acme/audit/"))
    assert "Ada Acme (Emarge support: Sam Support)" in re.sub(r"<[^>]+>", "", trail)


NEVER_REQUESTS = [
    ("POST", "/acme/slots/1/attendance/1", "signing or marking attendance"),
    ("POST", "/acme/slots/1/signoff", "signing or marking attendance"),
    ("POST", "/acme/slots/1/kiosk/1", "signing or marking attendance"),
    ("POST", "/acme/sessions/1/documents/generate", "sealed document"),
    ("POST", "/acme/account", "a password, an email, a role"),
    ("POST", "/acme/users/1", "a password, an email, a role"),
    ("POST", "/acme/users", "a password, an email, a role"),
    ("POST", "/acme/participants/export", "an export"),
    ("POST", "/acme/audit/export", "an export"),
    ("GET", "/acme/tasks/1/download", "an export"),
    ("GET", "/acme/sign/some-token", "personal link"),
    ("GET", "/acme/facilitate/some-token", "personal link"),
    ("GET", "/acme/sessions/1/links/1/qr", "personal link"),
]


def test_every_never_action_is_refused_in_write_mode(app, support):
    from blueprints.support.sessions import NEVER

    # Every endpoint named exists: a rename cannot open a hole silently.
    assert set(NEVER) <= {rule.endpoint for rule in app.url_map.iter_rules()}
    give_access(app, scope="write")
    start(app, support, mode="write", write_reason="Fix the roster")
    row = session_row(app)
    before = len(audit(app))
    for method, path, why in NEVER_REQUESTS:
        response = support.open(
            path, method=method, data={"password": "x", "email": "x@y.fr", "role": "admin"}
        )
        assert response.status_code == 403, (path, response.status_code)
        assert "Support never does this, even in write mode" in text(response) and why in text(response), path
    assert len(audit(app)) == before
    refused = [path for kind, path, _ in events(app, row.id) if kind == "refused"]
    assert len(refused) == len(NEVER_REQUESTS)


def test_a_csv_download_is_refused_whatever_the_endpoint(app, support):
    from flask import Response

    give_access(app, scope="write")

    @app.get("/<org>/test-csv")
    def _csv(**_):
        return Response("a;b\n", mimetype="text/csv")

    start(app, support, mode="write", write_reason="Check a file")
    refused = support.get("/acme/test-csv")
    assert refused.status_code == 403 and "a;b" not in text(refused)


def test_contact_fields_are_masked_until_revealed(app, support):
    from blueprints.participants.models import Participant
    from tenants.db import db

    def add():
        person = Participant(
            first_name="Zoe", last_name="Petit", email="zoe@client.fr", mobile="+33612345678"
        )
        db.session.add(person)
        db.session.commit()
        return person.id

    person = in_acme(app, add)
    give_access(app)
    start(app, support, user="ada@acme.fr")
    page = text(support.get(f"/acme/participants/{person}"))
    assert "zoe@client.fr" not in page and "Reveal" in page
    revealed = support.post(
        "/staff/support-session/reveal",
        data={"field": f"email:p{person}", "back": f"/acme/participants/{person}"},
    )
    assert revealed.status_code == 303
    page = text(support.get(f"/acme/participants/{person}"))
    assert "zoe@client.fr" in page and "+33 6 12 34 56 78" not in page
    assert ("revealed", f"POST /acme/participants/{person}", f"email:p{person}") in events(
        app, session_row(app).id
    )


def test_the_representatives_signature_is_hidden_until_revealed(app, support):
    import io

    from PIL import Image

    from blueprints.accounts.models import organization
    from tenants.db import db
    from tenants.storage import storage

    def sign():
        png = io.BytesIO()
        Image.new("RGB", (40, 20), "white").save(png, "PNG")
        stored = storage().put(png.getvalue(), content_type="image/png", filename="signature.png")
        organization().representative_signature_blob_id = int(stored.key)
        db.session.commit()

    in_acme(app, sign)
    give_access(app)
    start(app, support, user="ada@acme.fr")
    page = text(support.get("/acme/settings/"))
    assert "/acme/settings/signature" not in page and 'data-masked="signature:representative"' in page
    assert support.get("/acme/settings/signature").status_code == 404
    support.post(
        "/staff/support-session/reveal",
        data={"field": "signature:representative", "back": "/acme/settings/"},
    )
    assert "/acme/settings/signature" in text(support.get("/acme/settings/"))
    shown = support.get("/acme/settings/signature")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert ("revealed", "POST /acme/settings/", "signature:representative") in events(
        app, session_row(app).id
    )


# --- the end ------------------------------------------------------------------------------------------------------


def test_the_staff_member_ends_it_and_the_cookie_and_session_rotate(app, support):
    give_access(app)
    start(app, support)
    row = session_row(app)
    in_session = cookie(support, "emarge_session")
    ended = support.post("/staff/support-session/end")
    assert ended.status_code == 303 and "/staff/organizations/" in ended.headers["Location"]
    assert cookie(support, SUPPORT_COOKIE) is None
    assert cookie(support, "emarge_session") != in_session
    assert session_row(app).end_reason == "ended"
    # The old cookie, replayed, opens nothing.
    support.set_cookie(SUPPORT_COOKIE, f"{row.id}:whatever")
    assert support.get("/acme/").status_code == 410
    assert "support_session.ended" in [e.action for e in audit(app)]
    # The staff console still works with the rotated login.
    assert support.get("/staff/").status_code == 200


@pytest.mark.parametrize(("delta", "reason"), [({"minutes": 11}, "idle"), ({"minutes": 31}, "expired")])
def test_idle_and_absolute_expiry(app, support, delta, reason):
    give_access(app)
    start(app, support)
    row = session_row(app)
    assert support.get("/acme/").status_code == 200
    if reason == "expired":
        # Active all along (its last request is recent): only its 30 minutes are over.
        from sqlalchemy import update

        from blueprints.support.models import SupportSession
        from tenants.db import db, utcnow

        with app.app_context():
            db.session.execute(
                update(SupportSession)
                .where(SupportSession.id == row.id)
                .values(expires_at=utcnow() - timedelta(minutes=delta["minutes"] - 30))
            )
            db.session.commit()
    else:
        move_clock(app, row.id, **delta)
    over = support.get("/acme/participants/")
    assert over.status_code == 410
    assert session_row(app).end_reason == reason
    assert cookie(support, SUPPORT_COOKIE) is None
    assert "is acting as" not in text(over)


def test_revoking_the_grant_mid_session_ends_it(app, support):
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.support import services
    from tenants.db import db

    grant = give_access(app)
    start(app, support)
    assert support.get("/acme/").status_code == 200

    def revoke():
        ada = db.session.scalar(select(User).where(User.email == "ada@acme.fr"))
        services.revoke(grant, Actor.for_user(ada))
        db.session.commit()

    in_acme(app, revoke)
    over = support.get("/acme/")
    assert over.status_code == 410 and "revoked" in text(over)
    assert session_row(app).end_reason == "revoked"


def test_turning_support_access_off_mid_session_ends_it(app, support):
    set_access(app, "always")
    start(app, support)
    row = session_row(app)
    assert row.grant_id is None and support.get("/acme/").status_code == 200
    set_access(app, "off")
    assert support.get("/acme/").status_code == 410
    assert session_row(app).end_reason == "access-off"


def test_the_cookie_opens_nothing_without_the_staff_login(app, support):
    give_access(app)
    start(app, support)
    value = cookie(support, SUPPORT_COOKIE)
    thief = app.test_client()
    thief.set_cookie(SUPPORT_COOKIE, value)
    assert thief.get("/acme/").status_code == 410
    assert session_row(app).end_reason == "gone"


# --- the organization's view --------------------------------------------------------------------------------------


def test_the_organizations_log_is_complete_and_its_own(app, support, make_tenant):
    give_access(app)
    start(app, support)
    row = session_row(app)
    support.get("/acme/participants/")
    support.post("/acme/participants/", data={"first_name": "X"})
    support.post("/staff/support-session/end")
    ada = app.test_client()
    ada.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(ada, "acme", "ada@acme.fr")
    page = text(ada.get("/acme/settings/support"))
    assert "Sam Support" in page and "Fred Acme" in page and "Request 42: the roster" in page
    detail = text(ada.get(f"/acme/settings/support/sessions/{row.id}"))
    assert "GET /acme/" in detail and "GET /acme/participants/" in detail
    assert "POST /acme/participants/" in detail and "Refused" in detail
    assert "the access given on" in detail and "ended by support" in detail
    assert re.search(r"Page viewed", detail)
    # Another organization's admin never sees it.
    make_tenant("globex", admin="gus@globex.fr", language="en")
    gus = app.test_client()
    login(gus, "globex", "gus@globex.fr")
    assert gus.get(f"/globex/settings/support/sessions/{row.id}").status_code == 404
    # The platform's own log lists it.
    assert f'data-support-session="{row.id}"' in text(support.get("/staff/support-sessions"))
