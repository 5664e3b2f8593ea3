"""The demo's breach register (development only, with the demo staff): an incident notified to the demo
organization within the day, acknowledged by its admin, with a follow-up still to acknowledge (the admin sees the
banner); and an older incident recorded as not notified, with the reason.

Made through the register's services and the notice job itself, as the staff's clicks and the messaging worker
would make them; the emails go where the app's mail goes (the outbox in development)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tenants import find_tenant, tenant_scope
from tenants.db import db


def add_breaches(now: datetime) -> None:
    from blueprints.accounts.models import User
    from blueprints.breaches import register
    from blueprints.breaches import services as breaches
    from blueprints.demo.seed import PEOPLE, SLUG
    from blueprints.staff.models import PLATFORM_ADMIN, Staff
    from jobs.platform_mail import send_breach_notice

    ref = find_tenant(slug=SLUG)
    sacha = db.session.scalar(select(Staff).where(Staff.role == PLATFORM_ADMIN).order_by(Staff.id).limit(1))
    if ref is None or sacha is None:
        return
    with tenant_scope(ref):
        admin = db.session.scalars(select(User).filter_by(email=PEOPLE[0][0])).one()
        admin_id, admin_name = admin.id, admin.full_name
    db.session.commit()

    discovered = now - timedelta(days=5, hours=3)
    sent = breaches.record(
        sacha.id,
        title="Export de feuilles d’émargement envoyé à une mauvaise adresse",
        discovered_at=discovered,
        nature=["confidentiality"],
        data_categories="Noms, prénoms et signatures de stagiaires ; intitulé de la formation.",
        people_count=12,
        records_count=24,
        all_organizations=False,
        slugs=[SLUG],
        consequences="Une personne extérieure a pu voir les noms et signatures de 12 stagiaires d’une session. "
        "Risque faible : aucune coordonnée ni donnée sensible.",
        measures_taken="Le lien de téléchargement a été révoqué deux heures après l’envoi ; "
        "la personne destinataire a été contactée.",
        measures_proposed="Prévenir les stagiaires concernés si vous le jugez utile. Aucune action technique "
        "n’est nécessaire de votre côté.",
        contact="dpo@emarge.fr — Délégué à la protection des données d’Emarge",
        now=discovered + timedelta(hours=2),
    )
    db.session.commit()
    _notify(sent, 0, sacha.id, discovered + timedelta(hours=20), send_breach_notice)
    initial = register.notices_of_tenant(sent.id, ref.id)
    register.acknowledge(initial, admin_id, admin_name, now=discovered + timedelta(hours=26))
    db.session.commit()
    breaches.add_update(
        sent,
        sacha.id,
        body="La personne destinataire a confirmé par écrit avoir supprimé le fichier ; le journal montre "
        "un seul téléchargement. L’incident est clos de notre côté.",
        people_count=12,
        now=now - timedelta(days=3),
    )
    db.session.commit()
    _notify(sent, 1, sacha.id, now - timedelta(days=3) + timedelta(hours=1), send_breach_notice)

    older = now - timedelta(days=40)
    kept = breaches.record(
        sacha.id,
        title="Sauvegarde chiffrée momentanément accessible",
        discovered_at=older,
        nature=["availability"],
        data_categories="Sauvegarde complète de la plateforme (chiffrée).",
        people_count=None,
        records_count=None,
        all_organizations=True,
        slugs=[],
        consequences="Aucune : la sauvegarde est chiffrée et la clé n’a jamais été exposée.",
        measures_taken="Accès fermé en 40 minutes ; droits du stockage revus.",
        measures_proposed="",
        contact="dpo@emarge.fr",
        now=older + timedelta(hours=1),
    )
    breaches.decide_not_to_notify(
        kept,
        sacha.id,
        "Données chiffrées, clé non exposée, aucun accès constaté dans les journaux : pas de risque pour "
        "les droits des personnes (RGPD, art. 33.1).",
        now=older + timedelta(hours=6),
    )
    db.session.commit()


def _notify(breach, seq: int, staff_id: int, at: datetime, send) -> None:
    from blueprints.breaches import services as breaches
    from blueprints.breaches.models import BreachNotice

    notices = breaches.notify(breach, seq, staff_id, now=at)
    db.session.commit()
    ids = [n.id for n in notices]
    for notice_id in ids:  # the worker's job, run here (a run already under way for one sends it instead)
        send(notice_id, (at + timedelta(minutes=2)).isoformat())
    backend = current_app.extensions["emarge.jobs"]
    if hasattr(backend, "drain"):
        backend.drain()
    # Emailed two minutes after the notice was queued, as in the story (the job stamps the moment it ran).
    for notice in db.session.scalars(select(BreachNotice).where(BreachNotice.id.in_(ids))):
        if notice.sent_at is not None:
            notice.sent_at = at + timedelta(minutes=2)
    db.session.commit()
