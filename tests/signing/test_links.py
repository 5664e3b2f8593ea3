"""Personal links: tampering, expiry, revocation, renewal, other organizations' tokens, facilitators' links."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import login
from tests.signing.conftest import audit_actions, build_world, link_path


def _link(app, world, participant_id):
    from blueprints.signing.models import SignInLink
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        link = db.session.scalars(select(SignInLink).where(SignInLink.participant_id == participant_id)).one()
        db.session.expunge(link)
        return link


def _expire(app, world, participant_id):
    from blueprints.signing.models import SignInLink
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope(world.slug, app):
        link = db.session.scalars(select(SignInLink).where(SignInLink.participant_id == participant_id)).one()
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


def test_tampered_and_wrong_purpose_tokens_are_404(app, client, world):
    path = link_path(app, world, world.paul)
    assert client.get(path).status_code == 200
    token = path.rsplit("/", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, token[:-1], "not-a-token", token + "x"):
        response = client.get(f"/{world.slug}/sign/{bad}")
        assert response.status_code == 404, bad
        assert "not valid" in response.get_data(as_text=True)
    # A trainee's token does not open a facilitator's door.
    assert client.get(f"/{world.slug}/facilitate/{token}").status_code == 404


def test_another_organizations_token_is_404(app, client, make_tenant, world):
    beta = build_world(app, make_tenant, slug="beta")
    beta_path = link_path(app, beta, beta.paul)
    token = beta_path.rsplit("/", 1)[1]
    assert client.get(beta_path).status_code == 200
    # Same ids exist in acme; beta's token names beta, so acme refuses it and shows nothing of either.
    response = client.get(f"/{world.slug}/sign/{token}")
    assert response.status_code == 404
    assert "Paul" not in response.get_data(as_text=True)
    assert client.post(f"/{world.slug}/sign/{token}", data={"slot": "1"}).status_code == 404


def test_expired_link_and_renewal_that_reveals_nothing(app, client, world, jobs):
    from blueprints.messages.models import Message
    from tenants import tenant_scope
    from tenants.db import db

    path = link_path(app, world, world.paul)
    token = path.rsplit("/", 1)[1]
    before = _link(app, world, world.paul)
    _expire(app, world, world.paul)
    expired = client.get(path)
    assert expired.status_code == 410
    body = expired.get_data(as_text=True)
    assert "expired" in body and 'name="email"' in body

    unknown = client.post(f"{path}/renew", data={"email": "someone@else.fr"})
    known = client.post(f"{path}/renew", data={"email": "PAUL@acme-client.fr "})
    assert unknown.status_code == known.status_code == 200

    # The same answer whether or not the address is the participant's.
    def strip(response):
        # CSRF tokens (three dotted parts) differ from one page to the next; nothing else may.
        return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]{20,}", "", response.get_data(as_text=True))

    assert strip(unknown) == strip(known)

    after = _link(app, world, world.paul)
    from tenants.db import utcnow

    assert after.nonce != before.nonce and after.expires_at > utcnow()
    assert client.get(path).status_code == 410  # the old token is gone for good
    with tenant_scope(world.slug, app):
        (message,) = db.session.scalars(select(Message)).all()
        assert message.recipient == "paul@acme-client.fr"
        new_path = message.body_text.split("http://localhost", 1)[1].split()[0]
    assert new_path != path and client.get(new_path).status_code == 200
    actions = audit_actions(app, world.slug)
    assert "signin_link.renewal_refused" in actions and "signin_link.reissued" in actions
    assert token not in new_path


def test_revoke_and_reissue_by_staff(app, client, world):
    path = link_path(app, world, world.paul)
    login(client, world.slug, world.facilitator)
    page = client.get(f"/{world.slug}/sessions/{world.session_id}/links")
    assert page.status_code == 200
    assert path in page.get_data(as_text=True)
    qr = client.get(f"/{world.slug}/sessions/{world.session_id}/links/{world.paul}/qr")
    assert qr.status_code == 200 and "<svg" in qr.get_data(as_text=True)

    revoked = client.post(f"/{world.slug}/sessions/{world.session_id}/links/{world.paul}/revoke")
    assert revoked.status_code == 303
    trainee = app.test_client()
    gone = trainee.get(path)
    assert gone.status_code == 410 and "withdrawn" in gone.get_data(as_text=True)

    client.post(f"/{world.slug}/sessions/{world.session_id}/links/{world.paul}/reissue")
    new_path = link_path(app, world, world.paul)
    assert new_path != path
    assert trainee.get(path).status_code == 410
    assert trainee.get(new_path).status_code == 200
    actions = audit_actions(app, world.slug)
    assert {"signin_link.issued", "signin_link.revoked", "signin_link.reissued"} <= set(actions)


def test_a_facilitator_outside_the_session_sees_no_link(app, client, world):
    login(client, world.slug, world.other_facilitator)
    assert client.get(f"/{world.slug}/sessions/{world.session_id}/links").status_code == 404
    assert client.get(f"/{world.slug}/slots/{world.open_slot}/live").status_code == 404


def test_facilitators_personal_link_opens_the_live_page_without_password(app, client, world):
    login(client, world.slug, world.facilitator)
    links = f"/{world.slug}/sessions/{world.session_id}/links"
    assert "Issue the missing links" in client.get(links).get_data(as_text=True)  # none made by a page
    assert client.post(links).status_code == 303
    page = client.get(links).get_data(as_text=True)
    own = page.split('id="own-link" class="link-input" readonly value="http://localhost', 1)[1].split('"', 1)[
        0
    ]

    freelance = app.test_client()
    assert freelance.get(f"/{world.slug}/slots/{world.open_slot}/live").status_code == 302  # to the login
    opened = freelance.get(own)  # a mail scanner that follows the link neither uses it nor is let in
    assert opened.status_code == 200 and "Open the live pages" in opened.get_data(as_text=True)
    assert freelance.get(f"/{world.slug}/slots/{world.open_slot}/live").status_code == 302
    entry = freelance.post(own)
    assert entry.status_code == 303 and entry.headers["Location"].endswith(
        f"/sessions/{world.session_id}/live"
    )
    assert freelance.get(f"/{world.slug}/sessions/{world.session_id}/live").status_code == 200
    live = freelance.get(f"/{world.slug}/slots/{world.open_slot}/live")
    assert live.status_code == 200 and "Live attendance" in live.get_data(as_text=True)
    assert freelance.get(f"/{world.slug}/slots/{world.open_slot}/signoff").status_code == 200
    # No other session's pages, and no admin page.
    assert freelance.get(f"/{world.slug}/users").status_code in (302, 404)

    # Re-issued by an admin: the grant held by the freelance's browser ends with it.
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.signing import signin_links
    from blueprints.signing.models import SignInLink
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        fred = db.session.scalars(select(User).where(User.email == world.facilitator)).one()
        link = db.session.scalars(select(SignInLink).where(SignInLink.user_id == fred.id)).one()
        signin_links.reissue_link(link, Actor.system())
        db.session.commit()
    assert freelance.get(f"/{world.slug}/slots/{world.open_slot}/live").status_code == 404
    assert "signin_link.facilitator_used" in audit_actions(app, world.slug)
