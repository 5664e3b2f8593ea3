"""The demo's staff, for development only (never made in production), and what support did for the demo
organization: a closed support request with its reply, and a past read-only support session with its log.

Made through the support services, as a staff member's clicks would make them. The authenticator secrets are
fixed so that they can be printed and enrolled once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from tenants import find_tenant, tenant_scope
from tenants.db import db, utcnow

DEMO_STAFF = (
    # A platform admin, so that the whole console can be seen.
    {
        "email": "support@emarge-demo.fr",
        "name": "Sacha Support",
        "role": "platform-admin",
        "password": "demo-support-2026!",
        "secret": "EMARGEDEMOSUPPORT234567A",
    },
    # A support member: the one who answers requests and opens support sessions.
    {
        "email": "aide@emarge-demo.fr",
        "name": "Camille Aide",
        "role": "support",
        "password": "demo-aide-2026!",
        "secret": "EMARGEDEMOAIDE234567ABCD",
    },
)


def ensure_demo_staff(now: datetime | None = None) -> bool:
    """Make the demo staff accounts unless they exist (development only), and the support history of the demo
    organization with them. True when made."""
    from blueprints.staff import services as staff_services
    from blueprints.staff.models import Staff

    if current_app.config["EMARGE_ENV"] == "production":
        return False
    made = False
    for person in DEMO_STAFF:
        if db.session.scalar(select(Staff.id).where(Staff.email == person["email"])):
            continue
        with force_locale("en"):
            staff_services.create_staff(
                person["email"],
                name=person["name"],
                role=person["role"],
                password=person["password"],
                secret=person["secret"],
            )
        made = True
    db.session.commit()
    if made:
        add_support_history(now or utcnow())
        add_changelog(now or utcnow())
        from blueprints.demo.breaches import add_breaches

        add_breaches(now or utcnow())
    return made


def add_changelog(now: datetime) -> None:
    """What the demo's changelog announces: one entry a week ago, one today, and a draft still being written."""
    from blueprints.changelog import services as changelog
    from blueprints.staff.models import PLATFORM_ADMIN, Staff

    author = db.session.scalar(select(Staff).where(Staff.role == PLATFORM_ADMIN).order_by(Staff.id).limit(1))
    today = now.date()
    for days, published, category, title_fr, title_en, body_fr, body_en in (
        (
            7,
            True,
            "improved",
            "Feuilles d’émargement plus lisibles",
            "Clearer attendance sheets",
            "Les feuilles scellées montrent désormais **l’heure de chaque signature** et le formateur "
            "qui a clos la demi-journée.\n\n- en PDF comme à l’écran\n- sans rien changer à vos réglages",
            "Sealed sheets now show **the time of each signature** and the facilitator who closed the "
            "half-day.\n\n- in the PDF as on screen\n- with nothing to change in your settings",
        ),
        (
            0,
            True,
            "new",
            "Le journal des nouveautés",
            "The changelog",
            "Chaque changement du service est annoncé ici, et dans un flux Atom. "
            "[Écrivez-nous](mailto:support@emarge.fr) si quelque chose vous manque.",
            "Every change to the service is announced here, and in an Atom feed. "
            "[Write to us](mailto:support@emarge.fr) if something is missing.",
        ),
        (
            -7,
            False,
            "new",
            "Brouillon : export vers les financeurs",
            "Draft: export for funders",
            "En préparation.",
            "Being written.",
        ),
    ):
        changelog.save(
            None,
            staff_id=author.id,
            category=category,
            published_on=today - timedelta(days=days),
            published=published,
            title_fr=title_fr,
            title_en=title_en,
            body_fr=body_fr,
            body_en=body_en,
        )
    db.session.commit()


def add_support_history(now: datetime) -> None:
    """Two days ago the demo admin asked support about certificates; support looked at the trainer's pages for
    a few minutes, answered, and closed the request."""
    from blueprints.accounts.models import User, organization
    from blueprints.audit.services import record
    from blueprints.demo.seed import PEOPLE, SLUG
    from blueprints.staff.models import Staff
    from blueprints.support import requests, sessions
    from blueprints.support import services as support
    from blueprints.support.models import ENDED, VIEWED
    from blueprints.support.models import SupportSessionEvent as Event
    from tenants import Actor
    from tenants.scope import STAFF

    ref = find_tenant(slug=SLUG)
    camille = db.session.scalar(select(Staff).where(Staff.email == DEMO_STAFF[1]["email"]))
    if ref is None or camille is None:
        return
    asked = now - timedelta(days=2)
    with tenant_scope(ref):
        admin, bruno = (db.session.scalars(select(User).filter_by(email=email)).one() for email, *_ in PEOPLE)
        row = requests.open_request(
            ref.id,
            admin,
            "Attestations : où trouver le modèle ?",
            "Bonjour, je ne trouve pas où choisir le modèle des attestations de fin de formation. Merci !",
            None,
            now=asked,
        )
        # Camille took the request: the organization's "on request" access gave her a week of read access.
        taken = asked + timedelta(minutes=50)
        grant = support.grant(
            organization(),
            Actor(kind=STAFF, label=f"staff#{camille.id}", staff_id=camille.id),
            hours=requests.GRANT_HOURS,
            scope="read",
            note=f"Demande d’assistance n°{row.id} : {row.subject}",
            staff_id=camille.id,
            support_request_id=row.id,
            now=taken,
        )
        row.assigned_staff_id, row.grant_id = camille.id, grant.id
        started = sessions.start(
            camille, ref.id, bruno, reason=f"Demande #{row.id}", now=asked + timedelta(hours=1)
        )
        actor = Actor(
            kind=STAFF, label=f"staff#{camille.id} as {bruno.email}", user_id=bruno.id, staff_id=camille.id
        )
        for action, minutes in (("support_session.started", 60), ("support_session.ended", 72)):
            event = record(actor, action, organization(), support_session=started.record.id)
            event.occurred_at = asked + timedelta(minutes=minutes)
        db.session.commit()
        session_id = started.record.id
        for minutes, path in (
            (61, f"/{SLUG}/"),
            (63, f"/{SLUG}/trainings/"),
            (66, f"/{SLUG}/settings/documents"),
        ):
            db.session.add(
                Event(
                    support_session_id=session_id,
                    at=asked + timedelta(minutes=minutes),
                    kind=VIEWED,
                    method="GET",
                    path=path,
                    status=200 if minutes < 66 else 403,
                )
            )
        db.session.commit()
        sessions.end(session_id, ENDED, now=asked + timedelta(minutes=72))
        reply = requests.reply(
            row,
            camille,
            "Bonjour Alice, le modèle se choisit dans Réglages › Documents, par un administrateur. "
            "Bruno, formateur, ne voit pas cette page : c’est normal. Bonne journée !",
        )
        reply.created_at = asked + timedelta(minutes=75)
        requests.close(row)
        row.updated_at = row.closed_at = asked + timedelta(days=1)
        db.session.commit()
