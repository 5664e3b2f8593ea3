"""Find my organization: the same page for any address, an email listing the login pages of the known one."""

from __future__ import annotations

import re

from tests.accounts.helpers import text


def same_page(a: str, b: str) -> bool:
    """Equal but for the CSRF tokens, which are signed afresh for every page."""
    token = re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{20,}")
    return token.sub("T", a) == token.sub("T", b)


def test_the_email_lists_every_organization_of_the_address(app, client, make_tenant, smtp_server, jobs):
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", name="Acme Training")
    make_tenant("globex", admin="boss@globex.fr", facilitators=("ada@acme.fr",), name="Globex Formation")
    # A deactivated account does not count.
    make_tenant("initech", admin="peter@initech.fr", facilitators=("ada@acme.fr",), name="Initech")
    with tenant_scope("initech", app):
        db.session.scalars(db.select(User).where(User.email == "ada@acme.fr")).one().active = False
        db.session.commit()

    known = client.post("/find", data={"email": "Ada@Acme.fr"})
    unknown = client.post("/find", data={"email": "nobody@nowhere.fr"})
    assert known.status_code == unknown.status_code == 200
    # The page does not tell whether the address has an account.
    assert same_page(text(known).replace("Ada@Acme.fr", "X"), text(unknown).replace("nobody@nowhere.fr", "X"))
    jobs()

    assert smtp_server.to("nobody@nowhere.fr") == []
    [mail] = smtp_server.to("ada@acme.fr")
    assert len(smtp_server.messages) == 1
    assert mail["Subject"] == "Your Emarge organizations"
    body = mail.get_body(("plain",)).get_content()
    assert "Acme Training: http://localhost/acme/login" in body
    assert "Globex Formation: http://localhost/globex/login" in body
    assert "initech" not in body.lower()
    assert "http://localhost/acme/login" in mail.get_body(("html",)).get_content()

    malformed = client.post("/find", data={"email": "not-an-address"})
    assert malformed.status_code == 422
    assert "Invalid email address" in text(malformed)

    # The mail is written in the language of the page that asked for it.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.post("/find", data={"email": "peter@initech.fr"})
    jobs()
    [mail] = smtp_server.to("peter@initech.fr")
    assert mail["Subject"] != "Your Emarge organizations"
    assert len(smtp_server.messages) == 2


def test_find_is_throttled_per_address_and_per_ip(app, client, new_client):
    for _ in range(3):
        assert client.post("/find", data={"email": "ada@acme.fr"}).status_code == 200
    blocked = client.post("/find", data={"email": "Ada@Acme.fr"})  # the same address, however written
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert client.post("/find", data={"email": "bob@acme.fr"}).status_code == 200
    assert client.post("/find", data={"email": "carl@acme.fr"}).status_code == 200
    assert client.post("/find", data={"email": "dan@acme.fr"}).status_code == 429  # six from this IP
    elsewhere = new_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert elsewhere.post("/find", data={"email": "dan@acme.fr"}).status_code == 200
