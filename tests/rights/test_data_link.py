"""A trainee without a working link asks for one to their data: sent to the address or phone on file (by text
message too, whatever their consent to reminders), the same answer whatever is typed, good for 7 days, dead
once they are erased."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import run_jobs
from tests.rights.conftest import text


def test_a_link_to_their_data_is_sent_to_what_is_on_file_only(app, world, smtp_server, monkeypatch):
    from blueprints.messages.models import Message
    from blueprints.participants.models import Participant
    from blueprints.rights import links
    from tenants import tenant_scope
    from tenants.db import db

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "email address or mobile number" in text(client.get("/acme/rights/my-link"))
    sent = client.post("/acme/rights/my-link", data={"contact": "PAUL@acme-client.fr"})
    unknown = client.post("/acme/rights/my-link", data={"contact": "nobody@acme-client.fr"})
    assert sent.status_code == unknown.status_code == 200 and text(sent) == text(unknown)
    run_jobs(app)
    (mail,) = smtp_server.to("paul@acme-client.fr")
    assert len(smtp_server.messages) == 1
    url = smtp_server.link(mail)
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200 and "paul@acme-client.fr" in text(page)

    # Rita's processing is restricted and she never agreed to texts: the link to her own data still goes.
    with tenant_scope(world.slug, app):
        db.session.get(Participant, world.rita).mobile = "+33611223344"
        db.session.commit()
    client.post("/acme/rights/my-link", data={"contact": "06 11 22 33 44"})
    with tenant_scope(world.slug, app):
        sms = db.session.scalars(select(Message).where(Message.channel == "sms")).one()
        assert sms.participant_id == world.rita and sms.status != "failed" and "/my-data/" in sms.body_text

    # A week later the link has expired, with a page that offers a new one.
    monkeypatch.setattr(links, "MAX_AGE", -1)
    late = client.get(f"/{path}")
    assert late.status_code == 410 and "Ask for a new link" in text(late)
    monkeypatch.undo()

    # Erased, Paul's link opens nothing, and no new link is sent.
    from blueprints.rights import erasure

    with tenant_scope(world.slug, app):
        paul = db.session.get(Participant, world.paul)
        erasure.apply(paul, erasure.CATEGORIES, kept_until=None)
        db.session.commit()
    assert client.get(f"/{path}").status_code == 404
    smtp_server.messages.clear()
    client.post("/acme/rights/my-link", data={"contact": "paul@acme-client.fr"})
    run_jobs(app)
    assert smtp_server.messages == []
    assert re.search(r"Check your email", text(client.post("/acme/rights/my-link", data={"contact": ""})))
