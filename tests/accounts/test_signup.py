"""Sign-up: the organization and its first admin, the verification email through SMTP, and refusals."""

from __future__ import annotations

from tests.accounts.helpers import expire_tokens, last_mail, path_of, text, user_named
from tests.conftest import login

STRONG = "velvet-otter-clockwork-42"


def form(**changes) -> dict:
    data = {
        "organization_name": "Formations Dupont",
        "slug": "dupont",
        "first_name": "Claire",
        "last_name": "Dupont",
        "email": "Claire.Dupont@Example.org",
        "phone": "+33 1 23 45 67 89",
        "address": "12 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
        "billing_name": "Dupont Formation SARL",
        "billing_address": "12 rue des Lilas\n69003 Lyon",
        "vat_number": "FR12345678901",
        "password": STRONG,
        "language": "en",
    }
    data.update(changes)
    return data


def tenant_slugs(app) -> list[str]:
    from tenants import all_tenants

    with app.app_context():
        return [t.slug for t in all_tenants(active_only=False)]


def test_signup_then_verification_link_once_and_login_waits_for_it(app, client, smtp_server, jobs):
    from blueprints.accounts.models import ADMIN, Organization
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.models import BillingProfile

    response = client.post("/signup", data=form())
    assert response.status_code == 200, text(response)
    assert "claire.dupont@example.org" in text(response).lower()
    assert "/dupont/login" in text(response)
    assert tenant_slugs(app) == ["dupont"]

    admin = user_named(app, "dupont", "claire.dupont@example.org")
    assert admin.role == ADMIN and admin.phone == "+33 1 23 45 67 89"
    assert admin.email_verified_at is None and admin.language == "en"
    with tenant_scope("dupont", app) as ref:
        org = db.session.scalars(db.select(Organization)).one()
        assert (org.name, org.city, org.postal_code) == ("Formations Dupont", "Lyon", "69003")
        billing = db.session.scalars(
            db.select(BillingProfile).where(BillingProfile.tenant_id == ref.id)
        ).one()
        assert billing.vat_number == "FR12345678901"
        assert billing.billing_name == "Dupont Formation SARL"

    # Not verified yet: the login is refused, and says why.
    refused = login(client, "dupont", "claire.dupont@example.org", STRONG)
    assert refused.status_code == 422
    assert "Confirm your email address first" in text(refused)
    assert client.get("/dupont/").status_code == 302

    jobs()
    mail = last_mail(smtp_server, "claire.dupont@example.org")
    assert "Formations Dupont" in mail["Subject"]
    link = smtp_server.link(mail)
    assert "/dupont/verify/" in link

    page = client.get(path_of(link))  # a mail scanner that follows the link confirms nothing
    assert page.status_code == 200 and "Confirm my address" in text(page)
    assert user_named(app, "dupont", "claire.dupont@example.org").email_verified_at is None
    verified = client.post(path_of(link))
    assert verified.status_code == 303
    assert verified.location.endswith("/dupont/login")
    assert user_named(app, "dupont", "claire.dupont@example.org").email_verified_at is not None

    again = client.post(path_of(link))
    assert again.status_code == 410
    assert "already been used" in text(again)

    assert login(client, "dupont", "claire.dupont@example.org", STRONG).status_code == 303
    assert client.get("/dupont/").status_code == 200


def test_expired_verification_link(app, client, smtp_server, jobs):
    assert client.post("/signup", data=form()).status_code == 200
    jobs()
    link = smtp_server.link(last_mail(smtp_server, "claire.dupont@example.org"))
    expire_tokens(app, "dupont", "verify")
    response = client.get(path_of(link))
    assert response.status_code == 410
    assert "expired" in text(response)
    assert user_named(app, "dupont", "claire.dupont@example.org").email_verified_at is None

    unknown = client.get("/dupont/verify/not-a-real-token")
    assert unknown.status_code == 410
    assert "not valid" in text(unknown)


BAD_INPUT = [
    ({"slug": "Dupont_Formation"}, "Lower-case letters, digits and single hyphens"),
    ({"slug": "du--pont"}, "Lower-case letters, digits and single hyphens"),
    ({"slug": "9dupont"}, "Lower-case letters, digits and single hyphens"),
    ({"slug": "dupont\n"}, "Lower-case letters, digits and single hyphens"),
    ({"slug": "du"}, "Between 3 and 40 characters"),
    ({"slug": "admin"}, "This address is reserved"),
    ({"slug": "signup"}, "This address is reserved"),
    ({"password": "short-pw1"}, "Use at least 12 characters"),
    ({"password": "qwerty123456"}, "This password is too common"),
    ({"password": "aaaaaaaaaaaaaaaa"}, "This password is too common"),
    ({"password": "claire.dupont1"}, "too close to your name or email"),
    ({"vat_number": "12345"}, "A VAT number looks like FR12345678901"),
    ({"email": "not-an-address"}, "Invalid email address"),
    ({"city": ""}, "This field is required"),
]


def test_bad_input_is_refused_and_nothing_created(app, client, make_tenant, smtp_server, jobs):
    make_tenant("taken", admin="someone@taken.fr")
    for changes, message in [*BAD_INPUT, ({"slug": "taken"}, "This address is already taken")]:
        response = client.post("/signup", data=form(**changes))
        assert response.status_code == 422, changes
        assert message in text(response), (changes, message)
    assert tenant_slugs(app) == ["taken"]
    assert user_named(app, "taken", "claire.dupont@example.org") is None
    jobs()
    assert smtp_server.messages == []

    # The VAT number may be left out.
    response = client.post("/signup", data=form(vat_number=""))
    assert response.status_code == 200, text(response)
    assert tenant_slugs(app) == ["taken", "dupont"]


def test_signups_are_throttled_per_address_and_per_ip(app, client, new_client):
    # Three sign-ups a day with one address, whatever the organization.
    for n in range(3):
        assert client.post("/signup", data=form(slug=f"dupont{n}")).status_code == 200
    blocked = client.post("/signup", data=form(slug="dupont9"))
    # The address's daily window (fixed, UTC days) is the one that refused: it says when that day ends.
    import time

    until_day_ends = 86400 - int(time.time()) % 86400
    assert blocked.status_code == 429 and abs(int(blocked.headers["Retry-After"]) - until_day_ends) <= 5
    assert "dupont9" not in tenant_slugs(app)  # nothing provisioned for a refused one
    # Five an hour from one address (IP), whatever the email.
    for n in range(2):
        response = client.post("/signup", data=form(slug=f"other{n}", email=f"c{n}@example.org"))
        assert response.status_code == 200
    assert client.post("/signup", data=form(slug="other9", email="c9@example.org")).status_code == 429
    elsewhere = new_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.post("/signup", data=form(slug="other8", email="c8@example.org")).status_code == 200


def test_an_organization_never_confirmed_is_dropped_after_seven_days(app, client, make_tenant):
    from datetime import timedelta

    from sqlalchemy import update

    from jobs.maintenance import drop_unconfirmed_organizations
    from tenants import find_tenant
    from tenants.db import db, utcnow
    from tenants.models import Tenant

    assert client.post("/signup", data=form(slug="ghost", email="ghost@example.org")).status_code == 200
    assert client.post("/signup", data=form(slug="fresh", email="fresh@example.org")).status_code == 200
    make_tenant("acme", admin="ada@acme.fr")  # made by an operator: confirmed at once
    with app.app_context():
        old = utcnow() - timedelta(days=8)
        db.session.execute(update(Tenant).where(Tenant.slug.in_(["ghost", "acme"])).values(created_at=old))
        db.session.commit()
        assert drop_unconfirmed_organizations() == ["ghost"]
        assert find_tenant(slug="ghost") is None
        assert find_tenant(slug="fresh") is not None  # not seven days yet
    assert sorted(tenant_slugs(app)) == ["acme", "fresh"]


def test_confirming_the_address_keeps_the_organization(app, client, smtp_server, jobs):
    from datetime import timedelta

    from sqlalchemy import update

    from jobs.maintenance import drop_unconfirmed_organizations
    from tenants import find_tenant
    from tenants.db import db, utcnow
    from tenants.models import Tenant

    assert client.post("/signup", data=form()).status_code == 200
    jobs()
    link = smtp_server.link(last_mail(smtp_server, "claire.dupont@example.org"))
    assert client.post(path_of(link)).status_code == 303
    with app.app_context():
        db.session.execute(update(Tenant).values(created_at=utcnow() - timedelta(days=30)))
        db.session.commit()
        assert drop_unconfirmed_organizations() == []
        assert find_tenant(slug="dupont") is not None
