"""The platform's index of account emails: kept by the users' own writes, read by "find my organization"."""

from __future__ import annotations


def indexed(app, email: str) -> dict[int, bool]:
    from blueprints.accounts.email_index import email_hash
    from tenants.db import db
    from tenants.models import AccountEmail

    with app.app_context():
        rows = db.session.scalars(db.select(AccountEmail).where(AccountEmail.email_hash == email_hash(email)))
        return {row.tenant_id: row.is_admin for row in rows}


def test_the_index_follows_provisioning_invitation_role_email_and_deactivation(app, make_tenant):
    from blueprints.accounts import services
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.models import AccountEmail
    from tenants.scope import Actor

    acme = make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",))
    beta = make_tenant("beta", admin="Ada@ACME.fr")
    acme_id, beta_id = acme.id, beta.id
    assert indexed(app, "ada@acme.fr") == {acme_id: True, beta_id: True}
    assert indexed(app, "fred@acme.fr") == {acme_id: False}
    with app.app_context():
        # Only a hash is on the platform.
        assert all("@" not in row.email_hash for row in db.session.scalars(db.select(AccountEmail)))
    actor = Actor.system()
    with tenant_scope(acme, app):
        fred = db.session.scalars(db.select(User).filter_by(email="fred@acme.fr")).one()
        services.change_role(fred, "admin", actor)
        db.session.commit()
    assert indexed(app, "fred@acme.fr") == {acme_id: True}
    with tenant_scope(acme, app):
        fred = db.session.scalars(db.select(User).filter_by(email="fred@acme.fr")).one()
        fred.email = "frederic@acme.fr"
        db.session.commit()
    assert indexed(app, "fred@acme.fr") == {}
    assert indexed(app, "frederic@acme.fr") == {acme_id: True}
    with tenant_scope(acme, app):
        fred = db.session.scalars(db.select(User).filter_by(email="frederic@acme.fr")).one()
        services.set_active(fred, False, actor)
        db.session.commit()
    assert indexed(app, "frederic@acme.fr") == {}
    # A rolled-back change leaves the index as it was.
    with tenant_scope(beta, app):
        ada = db.session.scalars(db.select(User)).one()
        ada.email = "other@acme.fr"
        db.session.flush()
        db.session.rollback()
    assert indexed(app, "ada@acme.fr") == {acme_id: True, beta_id: True}
    assert indexed(app, "other@acme.fr") == {}


def test_the_tenant_migration_fills_the_index_of_an_existing_organization(app, make_tenant):
    from alembic import command

    from tenants.db import db
    from tenants.migrate import _run_alembic, upgrade_tenant
    from tenants.models import AccountEmail

    ref = make_tenant("acme", admin="ada@acme.fr")
    with app.app_context():
        db.session.execute(db.delete(AccountEmail))
        db.session.commit()
        with db.engine.begin() as connection:
            from tenants.db import bind_schema

            bind_schema(connection, ref.schema)
            _run_alembic("tenant", connection, lambda cfg: command.downgrade(cfg, "7e3b9a1c4d52"))
        with db.engine.begin() as connection:
            upgrade_tenant(connection, ref.schema)
    assert indexed(app, "ada@acme.fr") == {ref.id: True}
