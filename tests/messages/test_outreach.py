"""Invitations with the personal sign-in link, per channel; who is never messaged and why; facilitators' links."""

from __future__ import annotations

import re

import pytest

from tenants import current_tenant
from tests.conftest import login, run_jobs
from tests.messages.outreach_world import (
    PEOPLE,
    audit_actions,
    build_outreach_world,
    dev_sms,
    english,
    messages,
    text,
)

LINK = r"http://localhost/acme/sign/\S+"


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def client(app):
    return english(app.test_client())


def _path(url: str) -> str:
    return url.replace("http://localhost", "")


def test_invitations_arrive_with_a_working_link(app, client, make_tenant, smtp_server, jobs):
    world = build_outreach_world(app, make_tenant)
    assert login(client, "acme", world.admin).status_code == 303
    page = client.get(f"/acme/sessions/{world.session_id}")
    assert "Invitations" in text(page) and "None yet" in text(page)

    sent = client.post(f"/acme/sessions/{world.session_id}/invitations", data={"again": "0"})
    assert sent.status_code == 303
    body = text(client.get(sent.headers["Location"]))
    assert "Invitations sent to 3 participants." in body
    # Those left out are named, with the reason the person can act on.
    assert "Not sent to Cid Client: no email address." in body
    assert "Not sent to Eve Client: no email address." in body
    assert "Not sent to Rita Client: processing restricted." in body
    assert "Not sent to Arch Client: archived." in body
    assert "Out Client" not in body  # not enrolled here: not even considered
    jobs()

    received = sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages)
    assert received == ["ann@client.fr", "bob@client.fr", "dan@client.fr"]
    for email in smtp_server.messages:
        assert email["From"].addresses[0].display_name == "Acme Formation"
        assert "Safety at work" in email["Subject"]
        plain = email.get_body(("plain",)).get_content()
        assert "you are enrolled in Safety at work with Acme Formation" in plain
        # The link works: it opens that participant's signing page, for someone with no login.
        url = smtp_server.link(email, LINK)
        opened = english(app.test_client()).get(_path(url))
        assert opened.status_code == 200, url
        first = email["To"].addresses[0].addr_spec.split("@")[0].title()
        assert first in text(opened)
        assert url in email.get_body(("html",)).get_content()

    # The session page shows each participant's invitation.
    page = text(client.get(f"/acme/sessions/{world.session_id}"))
    row = re.search(rf'id="invitation-{world.session_id}-{world.people["ann"]}".*?</tr>', page, re.S).group(0)
    assert "Email" in row and "Sent" in row
    row = re.search(rf'id="invitation-{world.session_id}-{world.people["rita"]}".*?</tr>', page, re.S).group(
        0
    )
    assert "Cannot be sent: processing restricted" in row and "None yet" in row

    # Sending again without "again": nobody who already has one gets a second.
    again = client.post(
        f"/acme/sessions/{world.session_id}/invitations", data={"again": "0"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and "<html" not in text(again)
    assert "3 participants already had one" in text(again)
    # Nobody reachable is left to invite: no button that would send nothing.
    assert "Every participant who can be reached has their invitation." in text(again)
    assert "to send)" not in text(again)
    jobs()
    assert len(smtp_server.messages) == 3
    # "Send again to everyone": everyone reachable, once more, with the same working link.
    client.post(f"/acme/sessions/{world.session_id}/invitations", data={"again": "1"})
    jobs()
    assert len(smtp_server.messages) == 6
    assert smtp_server.link(smtp_server.to("ann@client.fr")[0], LINK) == smtp_server.link(
        smtp_server.to("ann@client.fr")[1], LINK
    )
    # Two sendings that sent something, each in the audit trail; the one that sent nothing is not.
    assert audit_actions(app, "acme").count("session.invitations_sent") == 2
    # Never a message to the restricted, the archived or the participant of another session.
    for name in ("rita", "arch", "out"):
        assert smtp_server.to(PEOPLE[name][0]) == []
        assert messages(app, "acme", participant_id=world.people[name]) == []


EXPECTED = {
    # organization's channels: {participant: channels used}; the others are skipped
    "email": {"ann": {"email"}, "bob": {"email"}, "dan": {"email"}},
    # SMS needs a mobile and consent; else email where there is an address.
    "sms": {"ann": {"email"}, "bob": {"sms"}, "cid": {"sms"}, "dan": {"email"}},
    "both": {"ann": {"email"}, "bob": {"email", "sms"}, "cid": {"sms"}, "dan": {"email"}},
}
REASONS = {
    "email": {"cid": "no email address", "eve": "no email address"},
    "sms": {"eve": "no SMS consent and no email address"},
    "both": {"eve": "no SMS consent and no email address"},
}


@pytest.mark.parametrize("channels", ["email", "sms", "both"])
def test_channel_follows_the_organizations_choice(app, make_tenant, smtp_server, jobs, channels):
    from flask_babel import force_locale

    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    world = build_outreach_world(app, make_tenant, channels=channels)
    with tenant_scope("acme", app), force_locale("en"):
        session = db.session.get(TrainingSession, world.session_id)
        outcome = outreach.invite_all(session, Actor.system(), tenant=current_tenant())
        got = {p.first_name.lower(): set(chs) for p, chs in outcome.sent}
        skipped = {p.first_name.lower(): str(reason) for p, reason in outcome.skipped}
        db.session.commit()
    assert got == EXPECTED[channels]
    assert skipped == {**REASONS[channels], "rita": "processing restricted", "arch": "archived"}
    jobs()

    emailed = sorted(m["To"].addresses[0].addr_spec.split("@")[0] for m in smtp_server.messages)
    assert emailed == sorted(n for n, chs in EXPECTED[channels].items() if "email" in chs)
    texted = {row.recipient: row for row in dev_sms(app, "acme")}
    assert set(texted) == {PEOPLE[n][1] for n, chs in EXPECTED[channels].items() if "sms" in chs}
    for sms in texted.values():
        assert sms.body.startswith("Acme Formation:") and "you are enrolled" in sms.body
        url = re.search(LINK, sms.body).group(0).rstrip(".")
        assert english(app.test_client()).get(_path(url)).status_code == 200
    assert {m.status for m in messages(app, "acme", template="invitation_signin")} == {"sent"}


def test_one_participant_by_the_channel_chosen(app, client, make_tenant, jobs):
    world = build_outreach_world(app, make_tenant, channels="email")
    assert login(client, "acme", world.admin).status_code == 303
    hx = {"HX-Request": "true"}
    base = f"/acme/sessions/{world.session_id}/invitations"

    # Bob can get either: the page offers the choice.
    page = text(client.get(f"/acme/sessions/{world.session_id}"))
    assert f'id="channel-{world.session_id}-{world.people["bob"]}"' in page

    by_sms = client.post(f"{base}/{world.people['bob']}", data={"channel": "sms"}, headers=hx)
    assert by_sms.status_code == 200
    assert "Invitation sent to Bob Client (SMS)." in text(by_sms)
    assert audit_actions(app, "acme")[-1] == "session.invitation_sent"
    # Dan gave no consent to SMS: refused with the reason, nothing written.
    refused = client.post(f"{base}/{world.people['dan']}", data={"channel": "sms"}, headers=hx)
    assert "Not sent to Dan Client: no SMS consent." in text(refused)
    # Someone of another session: the reason, not a message.
    outsider = client.post(f"{base}/{world.people['out']}", data={"channel": "email"}, headers=hx)
    assert "Not sent to Out Client: not enrolled in this session." in text(outsider)
    # A channel that does not exist.
    bad = client.post(f"{base}/{world.people['ann']}", data={"channel": "fax"}, headers=hx)
    assert bad.status_code == 422 and "Choose email or SMS." in text(bad)
    # Without JavaScript: back to the session page, the outcome flashed.
    plain = client.post(f"{base}/{world.people['ann']}", data={"channel": "email"})
    assert plain.status_code == 303
    assert "Invitation sent to Ann Client (Email)." in text(client.get(plain.headers["Location"]))
    jobs()

    assert [m.recipient for m in messages(app, "acme", template="invitation_signin")] == [
        "+33612345678",
        "ann@client.fr",
    ]
    assert [s.recipient for s in dev_sms(app, "acme")] == ["+33612345678"]
    assert messages(app, "acme", participant_id=world.people["dan"]) == []
    assert messages(app, "acme", participant_id=world.people["out"]) == []


def test_a_facilitator_sends_invitations_of_their_session_only(app, client, make_tenant, jobs):
    world = build_outreach_world(app, make_tenant)
    assert login(client, "acme", world.other_facilitator).status_code == 303
    assert client.post(f"/acme/sessions/{world.session_id}/invitations").status_code == 404
    client.post("/acme/logout")
    assert login(client, "acme", world.facilitator).status_code == 303
    assert client.post(f"/acme/sessions/{world.session_id}/invitations").status_code == 303
    # A participant outside their sessions is not theirs to name.
    assert (
        client.post(f"/acme/sessions/{world.session_id}/invitations/{world.people['out']}").status_code == 404
    )
    # Emailing facilitators' links is for administrators.
    assert client.post(f"/acme/sessions/{world.session_id}/facilitator-links").status_code == 403
    jobs()
    assert len(messages(app, "acme", template="invitation_signin")) == 3


def test_facilitators_get_their_personal_link(app, client, make_tenant, smtp_server, jobs):
    world = build_outreach_world(app, make_tenant)
    assert login(client, "acme", world.admin).status_code == 303
    sent = client.post(f"/acme/sessions/{world.session_id}/facilitator-links", headers={"HX-Request": "true"})
    assert "Personal link emailed to Fred Acme." in text(sent)
    assert audit_actions(app, "acme")[-1] == "session.facilitator_links_sent"
    jobs()
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [world.facilitator]
    email = smtp_server.messages[0]
    plain = email.get_body(("plain",)).get_content()
    assert "Acme Formation made you a facilitator of this session" in plain
    url = smtp_server.link(email, r"http://localhost/acme/facilitate/\S+")
    fresh = english(app.test_client())
    assert "Open the live pages" in text(fresh.get(_path(url)))
    opened = fresh.post(_path(url))
    assert opened.status_code == 303 and f"/sessions/{world.session_id}/live" in opened.headers["Location"]
    assert fresh.get(opened.headers["Location"]).status_code == 200
    # The log keeps no copy of a link that opens the live pages without a password.
    (row,) = messages(app, "acme", template="facilitator_link")
    assert row.sensitive and row.body_text is None
    shown = text(client.get(f"/acme/messages/{row.id}"))
    assert "The content of this message is not shown" in shown and "/facilitate/" not in shown


def test_two_clicks_at_once_invite_once_and_a_failed_invitation_is_sent_again(app, make_tenant, monkeypatch):
    from sqlalchemy import update

    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.messages.models import FAILED, Message
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    world = build_outreach_world(app, make_tenant)
    with tenant_scope("acme", app):
        session = db.session.get(TrainingSession, world.session_id)
        first = outreach.invite_all(session, Actor.system("test"), tenant=current_tenant())
        db.session.commit()
        assert len(first.sent) == 3
        # The second click read "nobody invited yet" before the first committed.
        monkeypatch.setattr(outreach, "invited_ids", lambda session: set())
        monkeypatch.setattr(outreach, "last_invitations", lambda session: {})
        second = outreach.invite_all(session, Actor.system("test"), tenant=current_tenant())
        db.session.commit()
        assert second.sent == [] and len(second.already) == 3
        assert len(messages(app, "acme", template="invitation_signin")) == 3
    monkeypatch.undo()
    # The sending jobs finish first (the embedded thread runs them concurrently on SQLite): marking one failed
    # while its job still ran let the job's outcome overwrite it on a loaded machine.
    run_jobs(app)
    with tenant_scope("acme", app):
        # One invitation failed for good: the next round sends that one again, and only that one.
        failed_id = min(m.id for m in messages(app, "acme", template="invitation_signin"))
        db.session.execute(update(Message).where(Message.id == failed_id).values(status=FAILED))
        db.session.commit()
        session = db.session.get(TrainingSession, world.session_id)
        third = outreach.invite_all(session, Actor.system("test"), tenant=current_tenant())
        db.session.commit()
        assert len(third.sent) == 1 and len(third.already) == 2
        assert len(messages(app, "acme", template="invitation_signin")) == 4
