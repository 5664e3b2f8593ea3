"""The audit trail reads in words, in the reader's language, each object a name with a link; it filters by person,
user, action and period, and pages; the CSV keeps the codes."""

from __future__ import annotations

import ast
import os
import re
from datetime import UTC, datetime, timedelta

from tests.conftest import login
from tests.signing.conftest import build_world

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _actions_in_the_code() -> set[str]:
    """Every action a route or job declares (``@writes``) or records (``record(actor, "…")``)."""
    found = set()
    for package in ("blueprints", "jobs"):
        for directory, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(directory, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if not isinstance(node, ast.Call):
                        continue
                    called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    if called not in ("writes", "record"):
                        continue
                    for arg in node.args:
                        if (
                            isinstance(arg, ast.Constant)
                            and isinstance(arg.value, str)
                            and ACTION.match(arg.value)
                        ):
                            found.add(arg.value)
    return found


def test_every_action_the_code_writes_reads_in_words():
    from blueprints.audit.readable import ACTIONS, FAMILIES

    written = _actions_in_the_code()
    assert len(written) > 60
    assert written - set(ACTIONS) == set()
    assert {action.split(".")[0] for action in ACTIONS} <= set(FAMILIES)


def _story(app, world):
    """What a morning leaves in the trail: Paul invited, Paul signs, Zoe marked absent, a link renewed."""
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.participants.models import Participant
    from blueprints.signing import services, signin_links
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import current_tenant, tenant_scope
    from tenants.db import db, utcnow
    from tests.signing.conftest import png

    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        fred = db.session.query(User).filter_by(email=world.facilitator).one()
        paul, zoe = db.session.get(Participant, world.paul), db.session.get(Participant, world.zoe)
        actor = Actor.for_user(fred)
        outreach.invite(session, paul, actor, tenant=current_tenant())
        slot = db.session.get(Slot, world.open_slot)
        services.sign(
            slot, paul, png(), Actor.system(), method="own_link", code=services.room_code(slot, utcnow())
        )
        services.mark(slot, zoe, "absent", actor, fred)
        link = signin_links.trainee_link(session, zoe, actor)
        signin_links.reissue_link(link, actor, reason="lost")
        db.session.commit()
        return fred.id


def _page(client, path="/acme/audit/", **args) -> str:
    response = client.get(path, query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _rows(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", row) for row in re.findall(r'<tr data-action="[^"]+">(.*?)</tr>', html, re.S)
    ]


def test_the_trail_reads_in_words_with_names_and_links(app, make_tenant):
    world = build_world(app, make_tenant)
    _story(app, world)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)
    html = _page(client)
    text = "\n".join(_rows(html))
    assert "Sign-in link sent to Paul Martin for Safety at work" in text
    assert re.search(r"Paul Martin signed Safety at work, \d+ \w+ \d{4} \d\d:\d\d–\d\d:\d\d", text)
    assert "Zoe Petit marked absent on Safety at work" in text
    assert "Sign-in link renewed for Zoe Petit" in text
    # Names are links to the person, the session, the half-day.
    assert f'href="/acme/participants/{world.paul}"' in html
    assert f'href="/acme/sessions/{world.session_id}"' in html
    assert f'href="/acme/slots/{world.open_slot}/live"' in html
    # No code and no "table id" reaches the reader.
    assert (
        "signin_link.issued" not in text and "sign_in_links" not in html and "attendance.signed" not in text
    )


def test_the_trail_reads_in_french(app, make_tenant):
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    world = build_world(app, make_tenant)
    _story(app, world)
    with tenant_scope(world.slug, app):
        db.session.query(User).filter_by(email=world.admin).one().language = "fr"
        db.session.commit()
    client = app.test_client()
    login(client, "acme", world.admin)
    text = "\n".join(_rows(_page(client)))
    assert "Lien d’émargement envoyé à Paul Martin pour Safety at work" in text
    assert "Absence notée pour Zoe Petit sur Safety at work" in text


def test_the_trail_filters_by_person_user_action_and_period_and_pages(app, make_tenant):
    from blueprints.audit.models import AuditEvent
    from blueprints.audit.services import Actor, record
    from tenants import tenant_scope
    from tenants.db import db

    world = build_world(app, make_tenant)
    fred_id = _story(app, world)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)

    about_zoe = _rows(_page(client, person="petit"))
    assert about_zoe and all("Zoe Petit" in row for row in about_zoe)
    assert any("renewed" in row for row in about_zoe) and any("absent" in row for row in about_zoe)
    by_fred = _rows(_page(client, user=str(fred_id)))
    assert by_fred and all(row.split("\n")[2].strip().startswith("Fred") for row in by_fred if row.strip())
    assert not any("Paul Martin signed" in row for row in by_fred)  # the system recorded the signature
    signed = _rows(_page(client, action="attendance.signed"))
    assert len(signed) == 1 and "Paul Martin signed" in signed[0]
    family = _rows(_page(client, action="family:attendance"))
    assert len(family) == 2
    # A period: nothing last year; today's events today.
    today = datetime.now(UTC).date()
    assert _rows(_page(client, **{"from": "2020-01-01", "to": "2020-12-31"})) == []
    assert len(_rows(_page(client, **{"from": (today - timedelta(days=1)).isoformat()}))) >= 5
    # Nonsense filters are ignored, not an error.
    assert _page(client, action="drop table", user="x'--", **{"from": "yesterday"})

    with tenant_scope(world.slug, app):
        for _ in range(60):
            record(Actor.system(), "task.retried", object_type="tasks", object_id=1)
        db.session.commit()
        total = db.session.query(AuditEvent).count()
    first = _page(client)
    assert len(_rows(first)) == 50 and f"Page 1 of {-(-total // 50)}" in first
    filtered = _page(client, action="task.retried")
    assert "action=task.retried" in filtered and "page=2" in filtered
    assert len(_rows(_page(client, action="task.retried", page=2))) == 10


def test_the_csv_export_keeps_the_codes(app, make_tenant, jobs):
    from urllib.parse import parse_qs, urlparse

    world = build_world(app, make_tenant)
    _story(app, world)
    client = app.test_client()
    login(client, "acme", world.admin)
    response = client.post("/acme/audit/export")
    assert response.status_code == 303
    task_id = int(parse_qs(urlparse(response.location).query)["task"][0])
    jobs()
    data = client.get(f"/acme/tasks/{task_id}/download").get_data(as_text=True)
    assert "signin_link.reissued" in data and "attendance.signed" in data and "sign_in_links" in data
