"""The audit trail of account actions: written with the change, gone with a rollback."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.accounts.helpers import audit_actions, last_mail, path_of, user_named
from tests.conftest import login


def events(app, slug: str, action: str):
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for event in found:
            db.session.expunge(event)
        return found


def test_login_logout_and_reset_are_recorded(app, client, make_tenant, smtp_server, jobs):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    ada = user_named(app, "acme", "ada@acme.fr")

    login(client, "acme", "ada@acme.fr", remember=True)
    [event] = events(app, "acme", "user.login")
    assert (event.actor_kind, event.actor_user_id, event.actor_label) == ("user", ada.id, "ada@acme.fr")
    assert (event.object_type, event.object_id) == ("users", ada.id)
    assert event.details == {"remember": True}
    assert event.ip == "127.0.0.1"

    # A refused login writes nothing.
    login(client, "acme", "ada@acme.fr", "not-the-right-password")
    assert len(events(app, "acme", "user.login")) == 1

    client.post("/acme/logout")
    [event] = events(app, "acme", "user.logout")
    assert (event.actor_user_id, event.object_id) == (ada.id, ada.id)
    # Logging out twice records one logout.
    client.post("/acme/logout")
    assert len(events(app, "acme", "user.logout")) == 1

    client.post("/acme/password/forgot", data={"email": "ada@acme.fr"})
    jobs()
    link = path_of(smtp_server.link(last_mail(smtp_server, "ada@acme.fr")))
    client.post(link, data={"password": "quartz-lantern-meadow-77"})
    [event] = events(app, "acme", "user.password_reset")
    assert (event.actor_user_id, event.object_id) == (ada.id, ada.id)
    assert audit_actions(app, "acme") == [
        "user.login",
        "user.logout",
        "user.password_reset_requested",
        "user.password_reset",
    ]


def test_invitation_role_change_and_deactivation_are_recorded(app, client, make_tenant, jobs):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    ada = user_named(app, "acme", "ada@acme.fr")
    login(client, "acme", "ada@acme.fr")
    # The last admin cannot step down: refused, nothing recorded.
    assert client.post(f"/acme/users/{ada.id}", data={"role": "facilitator"}).status_code == 422
    assert audit_actions(app, "acme") == ["user.login"]

    client.post(
        "/acme/users",
        data={
            "first_name": "Fred",
            "last_name": "M",
            "email": "fred@acme.fr",
            "role": "facilitator",
            "language": "en",
        },
    )
    jobs()
    fred = user_named(app, "acme", "fred@acme.fr")
    [invited] = events(app, "acme", "user.invited")
    assert (invited.actor_user_id, invited.object_id, invited.details) == (
        ada.id,
        fred.id,
        {"role": "facilitator"},
    )

    client.post(f"/acme/users/{fred.id}", data={"role": "admin", "active": "y"})
    [changed] = events(app, "acme", "user.role_changed")
    assert (changed.actor_user_id, changed.object_id) == (ada.id, fred.id)
    assert changed.details == {"before": "facilitator", "after": "admin"}

    client.post(f"/acme/users/{fred.id}", data={"role": "admin"})
    [deactivated] = events(app, "acme", "user.deactivated")
    assert (deactivated.actor_user_id, deactivated.object_id) == (ada.id, fred.id)
    # Saving without a change records nothing more.
    client.post(f"/acme/users/{fred.id}", data={"role": "admin"})
    assert audit_actions(app, "acme") == [
        "user.login",
        "user.invited",
        "user.role_changed",
        "user.deactivated",
    ]


def test_rolled_back_invitation_leaves_no_event_and_sends_nothing(app, make_tenant, smtp_server, jobs):
    from blueprints.accounts import services
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr")
    with tenant_scope("acme", app) as acme:
        ada = db.session.scalars(select(User).where(User.email == "ada@acme.fr")).one()
        user = services.invite_user(
            email="fred@acme.fr",
            first_name="Fred",
            last_name="Martin",
            role="facilitator",
            language="en",
            inviter=ada,
            actor=Actor.for_user(ada),
            tenant=acme,
        )
        assert user.id is not None  # flushed: the event and the message were in the transaction
        db.session.rollback()

    jobs()
    assert smtp_server.messages == []
    assert audit_actions(app, "acme") == []
    assert user_named(app, "acme", "fred@acme.fr") is None
    with tenant_scope("acme", app):
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0

    # The same call, committed, records and sends: the test above is not vacuous.
    with tenant_scope("acme", app) as acme:
        ada = db.session.scalars(select(User).where(User.email == "ada@acme.fr")).one()
        services.invite_user(
            email="fred@acme.fr",
            first_name="Fred",
            last_name="Martin",
            role="facilitator",
            language="en",
            inviter=ada,
            actor=Actor.for_user(ada),
            tenant=acme,
        )
        db.session.commit()
    jobs()
    assert audit_actions(app, "acme") == ["user.invited"]
    assert len(smtp_server.to("fred@acme.fr")) == 1
