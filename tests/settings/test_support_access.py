"""Support access is the organization's decision: its setting, the grants its admins give and revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import login


def text(response) -> str:
    import html

    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    return client


def in_acme(app, fn):
    from tenants import tenant_scope

    with app.app_context(), tenant_scope("acme"):
        return fn()


def org_setting(app) -> str:
    from blueprints.accounts.models import organization

    return in_acme(app, lambda: organization().support_access)


def grants(app):
    from blueprints.support.models import SupportGrant
    from tenants.db import db

    def read():
        rows = db.session.scalars(db.select(SupportGrant).order_by(SupportGrant.id)).all()
        db.session.expunge_all()
        return rows

    return in_acme(app, read)


def actions(app) -> list[str]:
    from blueprints.audit.models import AuditEvent
    from tenants.db import db

    return in_acme(
        app, lambda: list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))
    )


def test_on_request_is_the_default_and_an_admin_gives_access_for_24_hours(app, admin):
    assert org_setting(app) == "on-request"
    page = text(admin.get("/acme/settings/support"))
    assert "Aucun accès donné en ce moment." in page
    assert '<option selected value="24">24 heures</option>' in page  # 24 hours by default
    assert (
        admin.post("/acme/settings/support/grants", data={"hours": "24", "scope": "read"}).status_code == 303
    )
    [grant] = grants(app)
    assert (grant.scope, grant.revoked_at) == ("read", None)
    assert grant.ends_at - grant.starts_at == timedelta(hours=24)
    assert "support_grant.created" in actions(app)
    assert "Retirer" in text(admin.get("/acme/settings/support"))
    # The audit trail says it in words.
    assert "Accès donné au support Emarge" in text(admin.get("/acme/audit/"))


@pytest.mark.parametrize("hours", ["169", "0", "-5", "abc"])
def test_more_than_7_days_or_no_period_is_refused_and_nothing_made(app, admin, hours):
    refused = admin.post("/acme/settings/support/grants", data={"hours": hours, "scope": "read"})
    assert refused.status_code == 422
    assert grants(app) == []


def test_an_admin_revokes_a_grant_and_a_second_revoke_changes_nothing(app, admin):
    admin.post("/acme/settings/support/grants", data={"hours": "4", "scope": "write"})
    [grant] = grants(app)
    assert admin.post(f"/acme/settings/support/grants/{grant.id}/revoke").status_code == 303
    assert grants(app)[0].revoked_at is not None
    again = admin.post(f"/acme/settings/support/grants/{grant.id}/revoke", follow_redirects=True)
    assert "Cet accès avait déjà pris fin." in text(again)
    assert actions(app).count("support_grant.revoked") == 1
    assert "(retiré)" in text(admin.get("/acme/settings/support"))


def test_turning_access_off_ends_every_grant_and_refuses_new_ones(app, admin):
    from blueprints.accounts.models import organization
    from blueprints.support import services

    admin.post("/acme/settings/support/grants", data={"hours": "72", "scope": "read"})
    assert admin.post("/acme/settings/support", data={"setting": "off"}).status_code == 303
    assert org_setting(app) == "off"
    assert grants(app)[0].revoked_at is not None
    refused = admin.post("/acme/settings/support/grants", data={"hours": "24", "scope": "read"})
    assert refused.status_code == 422
    assert "L’accès du support est désactivé" in text(refused)
    assert len(grants(app)) == 1
    assert in_acme(app, lambda: services.allowed(organization())) is False
    bad = admin.post("/acme/settings/support", data={"setting": "sometimes"})
    assert bad.status_code == 422 and org_setting(app) == "off"


def test_allowed_follows_the_setting_and_the_grants(app, admin):
    from blueprints.accounts.models import organization
    from blueprints.support import services
    from tenants.db import utcnow

    def check(write=False, now=None):
        return in_acme(app, lambda: services.allowed(organization(), now, write=write))

    assert check() is False  # on request, nothing given
    admin.post("/acme/settings/support/grants", data={"hours": "4", "scope": "read"})
    assert check() and not check(write=True)
    assert check(now=utcnow() + timedelta(hours=5)) is False  # expired
    admin.post("/acme/settings/support", data={"setting": "always"})
    assert check(now=utcnow() + timedelta(hours=5)) is True
    assert check(write=True, now=utcnow() + timedelta(hours=5)) is False  # writing always needs a grant


def test_a_facilitator_cannot_change_support_access(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",))
    login(client, "acme", "fred@acme.fr")
    assert client.get("/acme/settings/support").status_code == 403
    assert client.post("/acme/settings/support", data={"setting": "always"}).status_code == 403
    assert (
        client.post("/acme/settings/support/grants", data={"hours": "24", "scope": "write"}).status_code
        == 403
    )
    assert org_setting(app) == "on-request"
