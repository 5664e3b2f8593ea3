"""The delivery log: filters, pages, resending, need-to-know, and the development SMS outbox."""

from __future__ import annotations

import re

import pytest

from tenants import current_tenant
from tests.conftest import login
from tests.messages.outreach_world import build_outreach_world, english, messages, text


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def world(app, make_tenant):
    return build_outreach_world(app, make_tenant)


def _add(app, slug: str, count: int = 1, **values) -> list[int]:
    """``count`` messages with these column values (a failed invitation email by default)."""
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    row = {
        "channel": "email",
        "template": "invitation_signin",
        "recipient": "someone@client.fr",
        "subject": "Your link",
        "body_text": "Hello, here is your link.",
        "status": "failed",
        "provider_answer": "550 mailbox unavailable",
        "attempts": 1,
        **values,
    }
    with tenant_scope(slug, app):
        made = [Message(**row) for _ in range(count)]
        db.session.add_all(made)
        db.session.commit()
        return [m.id for m in made]


def _rows(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="message-(\d+)"', text(response))]


def test_filters_swap_the_table_and_work_without_javascript(app, client, world):
    mine = _add(app, "acme", 2, session_id=world.session_id, recipient="ann@client.fr")
    sent = _add(app, "acme", 1, session_id=world.session_id, status="sent", provider_answer="250 OK")
    sms = _add(app, "acme", 1, session_id=world.session_id, channel="sms", recipient="+33612345678")
    other = _add(app, "acme", 1, session_id=world.other_session_id, recipient="zed@client.fr")
    account = _add(app, "acme", 1, template="reset_password", sensitive=True, body_text=None, status="sent")
    assert login(client, "acme", world.admin).status_code == 303

    page = client.get("/acme/messages")
    assert page.status_code == 200 and "<html" in text(page)
    assert _rows(page) == sorted(mine + sent + sms + other + account, reverse=True)  # newest first
    body = text(page)
    assert "Invitation with the sign-in link" in body and "Password reset" in body
    assert "550 mailbox unavailable" in body and 'hx-push-url="true"' in body

    # The form's filters, as a bookmarkable URL; htmx gets the table alone.
    hx = client.get(
        f"/acme/messages?session={world.session_id}&status=failed", headers={"HX-Request": "true"}
    )
    assert "<html" not in text(hx) and text(hx).lstrip().startswith('<div id="message-log"')
    assert "HX-Request" in hx.headers["Vary"]
    assert _rows(hx) == sorted(mine + sms, reverse=True)
    assert _rows(client.get("/acme/messages?channel=sms")) == sms
    assert _rows(client.get("/acme/messages?status=sent")) == sorted(sent + account, reverse=True)
    assert _rows(client.get(f"/acme/messages?session={world.other_session_id}")) == other
    # A history restore asks with HX-Request too, but wants the whole page.
    restore = client.get(
        "/acme/messages?status=sent", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in text(restore)
    # Nonsense filters are ignored rather than failing.
    assert len(_rows(client.get("/acme/messages?status=nope&channel=fax&session=x"))) == 6

    # A sensitive account email shows no body; an ordinary one does.
    assert "not shown" in text(client.get(f"/acme/messages/{account[0]}"))
    assert "Hello, here is your link." in text(client.get(f"/acme/messages/{mine[0]}"))


def test_pages_of_fifty_newest_first(app, client, world):
    ids = _add(app, "acme", 120, session_id=world.session_id, status="sent")
    assert login(client, "acme", world.admin).status_code == 303
    first = client.get("/acme/messages?status=sent")
    assert _rows(first) == sorted(ids, reverse=True)[:50]
    assert "Page 1 of 3" in text(first)
    # The pager keeps the filters.
    assert "/acme/messages?page=2&amp;status=sent" in text(first)
    third = client.get("/acme/messages?status=sent&page=3", headers={"HX-Request": "true"})
    assert _rows(third) == sorted(ids, reverse=True)[100:]
    assert client.get("/acme/messages?page=9").status_code == 200  # past the end: an empty page


def test_resend_one_and_all_failed_within_the_filters(app, client, world, jobs):
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    here = _add(app, "acme", 3, session_id=world.session_id, participant_id=world.people["ann"])
    there = _add(app, "acme", 2, session_id=world.other_session_id, recipient="zed@client.fr")
    delivered = _add(app, "acme", 1, session_id=world.session_id, status="sent")
    assert login(client, "acme", world.admin).status_code == 303

    one = client.post(f"/acme/messages/{there[0]}/resend", data={"status": "failed"})
    assert one.status_code == 303 and one.headers["Location"].endswith("/acme/messages?status=failed")
    assert "is queued again" in text(client.get(one.headers["Location"]))
    (copy,) = messages(app, "acme", resend_of_id=there[0])
    assert copy.recipient == "zed@client.fr" and copy.body_text == "Hello, here is your link."

    # A message that went out cannot be "resent" from the log.
    refused = client.post(f"/acme/messages/{delivered[0]}/resend")
    assert "cannot be sent again" in text(client.get(refused.headers["Location"]))
    assert messages(app, "acme", resend_of_id=delivered[0]) == []

    # All failed of the session shown, not the other session's.
    many = client.post("/acme/messages/resend-failed", data={"session": str(world.session_id)})
    assert many.headers["Location"].endswith(f"/acme/messages?session={world.session_id}")
    assert "3 failed messages are queued again." in text(client.get(many.headers["Location"]))
    assert sorted(m.resend_of_id for m in messages(app, "acme") if m.resend_of_id) == sorted(here + there[:1])
    # A resend goes to the participant's address on file.
    assert {m.recipient for m in messages(app, "acme") if m.resend_of_id in here} == {"ann@client.fr"}
    # Nothing failed left in this view: said so, nothing sent.
    again = client.post("/acme/messages/resend-failed", data={"session": str(world.session_id)})
    assert "No failed message to send again" in text(client.get(again.headers["Location"]))
    with tenant_scope("acme", app):
        assert (
            db.session.scalars(db.select(AuditEvent.action).filter_by(action="message.resent")).all()
            == ["message.resent"] * 4
        )


def test_a_facilitator_sees_the_messages_of_their_sessions_only(app, client, world):
    mine = _add(app, "acme", 1, session_id=world.session_id, recipient="ann@client.fr")
    other = _add(app, "acme", 1, session_id=world.other_session_id, recipient="zed@client.fr")
    account = _add(app, "acme", 1, template="reset_password", recipient="ada@acme.fr")
    assert login(client, "acme", world.facilitator).status_code == 303

    page = client.get("/acme/messages")
    assert _rows(page) == mine
    assert "zed@client.fr" not in text(page) and "ada@acme.fr" not in text(page)
    # Their sessions only in the session filter too.
    assert f'<option value="{world.other_session_id}"' not in text(page)
    assert _rows(client.get(f"/acme/messages?session={world.other_session_id}")) == []
    for ident in other + account:
        assert client.get(f"/acme/messages/{ident}").status_code == 404
        assert client.post(f"/acme/messages/{ident}/resend").status_code == 404
    # "Resend all failed" reaches only what they may see.
    client.post("/acme/messages/resend-failed")
    assert [m.resend_of_id for m in messages(app, "acme") if m.resend_of_id] == mine
    # The outbox of the development SMS adapter is for administrators.
    assert client.get("/acme/messages/sms-outbox").status_code == 403


def test_another_organizations_message_is_404(app, client, world, make_tenant):
    beta = build_outreach_world(app, make_tenant, slug="beta")
    (theirs,) = _add(app, "beta", 1, session_id=beta.session_id, recipient="secret@beta-client.fr")
    (ours,) = _add(app, "acme", 1, session_id=world.session_id)
    assert theirs == ours  # the same id in both organizations
    assert login(client, "acme", world.admin).status_code == 303
    assert client.get(f"/beta/messages/{theirs}").status_code == 404
    assert client.post(f"/beta/messages/{theirs}/resend").status_code == 404
    assert "secret@beta-client.fr" not in text(client.get("/acme/messages"))
    assert messages(app, "beta", resend_of_id=theirs) == []


def test_sms_outbox_only_without_a_gateway(app, make_app, client, world, jobs):
    from blueprints.audit.services import Actor
    from blueprints.messages import outreach
    from blueprints.participants.models import Participant
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope("acme", app):
        session = db.session.get(TrainingSession, world.session_id)
        bob = db.session.get(Participant, world.people["bob"])
        assert outreach.invite(
            session, bob, Actor.system(), tenant=current_tenant(), channel="sms"
        ).channels == ("sms",)
        db.session.commit()
    jobs()
    assert login(client, "acme", world.admin).status_code == 303
    outbox = text(client.get("/acme/messages/sms-outbox"))
    assert "+33612345678" in outbox and "Acme Formation: your personal link" in outbox
    assert "SMS outbox" in text(client.get("/acme/messages"))

    gateway = english(make_app(SMS_GATEWAY_URL="http://127.0.0.1:9/sms").test_client())
    assert login(gateway, "acme", world.admin).status_code == 303
    assert gateway.get("/acme/messages/sms-outbox").status_code == 404
    assert "SMS outbox" not in text(gateway.get("/acme/messages"))


CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.mark.browser
@pytest.mark.slow
def test_in_a_browser_invitations_and_filters_update_in_place(app, make_tenant, browser, live_server):
    """With CSRF on and the strict CSP: the invitations fragment swaps, the log's filter pushes its URL."""
    from tests.conftest import PASSWORD

    world = build_outreach_world(app, make_tenant, slug="gamma", channels="both")
    base = live_server() + "/gamma"
    context = browser.new_context(locale="en-GB")
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", world.admin)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/sessions/{world.session_id}")
    section = f"#invitations-{world.session_id}"
    page.click(f"{section} button:has-text('Send invitations (4 to send)')")
    page.wait_for_selector(f"{section} .notice-success")
    assert "Invitations sent to 4 participants." in page.inner_text(section)
    assert "Not sent to Eve Client: no SMS consent and no email address." in page.inner_text(section)
    assert page.url.endswith(f"/sessions/{world.session_id}")  # swapped in place, no reload

    page.goto(f"{base}/messages")
    page.select_option("#filter-channel", "sms")
    page.wait_for_url("**channel=sms**")
    assert page.locator("#message-log tbody tr").count() == 2
    assert "+33612345678" in page.inner_text("#message-log")
    assert page.evaluate("window.__csp") == []
