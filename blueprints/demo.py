"""``flask demo``: the demo organization of the README's run command, made once."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy.orm import Session

from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
from blueprints.accounts.passwords import hash_password
from tenants import find_tenant
from tenants.db import db, utcnow
from tenants.migrate import upgrade_platform
from tenants.provisioning import NewTenant, provision

SLUG = "demo"
PEOPLE = (
    ("admin@emarge-demo.fr", "Alice", "Martin", ADMIN, "demo-admin-2026!"),
    ("formateur@emarge-demo.fr", "Bruno", "Petit", FACILITATOR, "demo-formateur-2026!"),
)


def ensure_demo() -> bool:
    """Create the demo organization unless it exists. True when created."""
    with db.engine.begin() as connection:
        upgrade_platform(connection)
    from blueprints.privacy.services import ensure_defaults

    ensure_defaults(db.session)
    db.session.commit()
    if find_tenant(slug=SLUG):
        return False

    def populate(session: Session, ref) -> None:
        session.add(
            Organization(
                name="Formations Démo",
                address="12 rue des Écoles",
                postal_code="75005",
                city="Paris",
                contact_email="contact@emarge-demo.fr",
            )
        )
        for email, first, last, role, password in PEOPLE:
            session.add(
                User(
                    email=email,
                    first_name=first,
                    last_name=last,
                    role=role,
                    language="fr",
                    password_hash=hash_password(password),
                    email_verified_at=utcnow(),
                )
            )

    provision(NewTenant(slug=SLUG, name="Formations Démo"), populate)
    return True


@click.command("demo")
def demo_command():
    """Create the demo organization once and print where to log in."""
    created = ensure_demo()
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("")
    click.echo("Demo organization created." if created else "Demo organization ready.")
    click.echo(f"  Open      {base}/{SLUG}/login")
    for email, _first, _last, role, password in PEOPLE:
        click.echo(f"  {role:<12}{email}  /  {password}")
    click.echo("")
