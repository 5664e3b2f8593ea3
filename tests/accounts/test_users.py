"""Invitations, roles, deactivation, and the last administrator."""

from __future__ import annotations

from tests.accounts.helpers import expire_tokens, last_mail, path_of, text, user_named
from tests.conftest import login

CHOSEN = "marble-falcon-harbour-19"


def invite(client, email="fred@acme.fr", role="facilitator", **extra):
    data = {"first_name": "Fred", "last_name": "Martin", "email": email, "role": role, "language": "en"}
    data.update(extra)
    return client.post("/acme/users", data=data)


def edit(client, user_id: int, role: str, active: bool = True):
    data = {"role": role}
    if active:
        data["active"] = "y"
    return client.post(f"/acme/users/{user_id}", data=data)


def test_invitation_by_email_then_login_as_facilitator(
    app, client, new_client, make_tenant, smtp_server, jobs
):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    login(client, "acme", "ada@acme.fr")

    response = invite(client, email="Fred@Acme.fr")
    assert response.status_code == 303
    assert response.location.endswith("/acme/users")
    listing = text(client.get("/acme/users"))
    assert "Invitation sent to fred@acme.fr" in listing
    assert "Invited" in listing
    jobs()

    mail = last_mail(smtp_server, "fred@acme.fr")
    assert "Ada Acme invites you to Acme" in mail["Subject"]
    link = path_of(smtp_server.link(mail))
    assert "/acme/invitation/" in link

    fred = new_client()
    # No password yet: nothing to log in with.
    assert login(fred, "acme", "fred@acme.fr", CHOSEN).status_code == 422
    page = fred.get(link)
    assert page.status_code == 200
    assert "Fred" in text(page)
    weak = fred.post(link, data={"password": "qwerty123456"})
    assert weak.status_code == 422
    assert "too common" in text(weak)
    accepted = fred.post(link, data={"password": CHOSEN})
    assert accepted.status_code == 303
    assert accepted.location.endswith("/acme/login")
    assert fred.get(link).status_code == 410

    assert login(fred, "acme", "fred@acme.fr", CHOSEN).status_code == 303
    assert fred.get("/acme/").status_code == 200
    assert fred.get("/acme/users").status_code == 403
    assert fred.post("/acme/users/1", data={"role": "facilitator"}).status_code == 403
    assert invite(fred, email="eve@acme.fr", role="admin").status_code == 403
    assert user_named(app, "acme", "fred@acme.fr").role == "facilitator"


def test_invitation_refusals(app, client, make_tenant, smtp_server, jobs):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    login(client, "acme", "ada@acme.fr")
    taken = invite(client, email="FRED@acme.fr")
    assert taken.status_code == 422
    assert "already exists in your organization" in text(taken)
    bad_role = invite(client, email="eve@acme.fr", role="owner")
    assert bad_role.status_code == 422
    # An HTMX form gets its fragment back, not a whole page.
    fragment = client.post(
        "/acme/users",
        data={"first_name": "", "last_name": "X", "email": "eve@acme.fr", "role": "admin", "language": "en"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 422
    assert "<html" not in text(fragment)
    jobs()
    assert smtp_server.messages == []
    assert user_named(app, "acme", "eve@acme.fr") is None

    # Sent from the HTMX form, success sends the whole page to the list, where the flash message waits.
    sent = client.post(
        "/acme/users",
        data={
            "first_name": "Eve",
            "last_name": "X",
            "email": "eve@acme.fr",
            "role": "admin",
            "language": "en",
        },
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 204
    assert sent.headers["HX-Redirect"] == "/acme/users"
    assert "Invitation sent to eve@acme.fr" in text(client.get("/acme/users"))

    # An invitation left to expire is refused.
    jobs()
    link = path_of(smtp_server.link(last_mail(smtp_server, "eve@acme.fr")))
    expire_tokens(app, "acme", "invite")

    # Signed out, the pages send to the login page.
    client.post("/acme/logout")
    response = client.get("/acme/users")
    assert response.status_code == 302
    assert "/acme/login" in response.location
    # HTMX is told where to go: a redirect would be followed by the XHR and the login page swapped in.
    htmx = client.post("/acme/users", headers={"HX-Request": "true"})
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/acme/login?next=/acme/users"
    expired = client.get(link)
    assert expired.status_code == 410
    assert "expired" in text(expired)


def test_role_change_and_deactivation(app, client, new_client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    login(client, "acme", "ada@acme.fr")
    fred_id = user_named(app, "acme", "fred@acme.fr").id
    fred = new_client()
    assert login(fred, "acme", "fred@acme.fr").status_code == 303
    assert fred.get("/acme/users").status_code == 403

    assert edit(client, fred_id, "admin").status_code == 303
    assert user_named(app, "acme", "fred@acme.fr").role == "admin"
    # The promotion holds at once, in the session already open.
    assert fred.get("/acme/users").status_code == 200

    assert edit(client, fred_id, "facilitator", active=False).status_code == 303
    stored = user_named(app, "acme", "fred@acme.fr")
    assert (stored.role, stored.active) == ("facilitator", False)
    # Fred's session ends, and he cannot log in again.
    ended = fred.get("/acme/")
    assert ended.status_code == 302
    assert "/acme/login" in ended.location
    refused = login(fred, "acme", "fred@acme.fr")
    assert refused.status_code == 422
    assert "Deactivated" in text(client.get("/acme/users"))

    # Back again.
    assert edit(client, fred_id, "facilitator", active=True).status_code == 303
    assert login(fred, "acme", "fred@acme.fr").status_code == 303


def test_the_last_admin_stays(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    login(client, "acme", "ada@acme.fr")
    ada_id = user_named(app, "acme", "ada@acme.fr").id
    assert client.get("/acme/users/999").status_code == 404

    for response in (edit(client, ada_id, "facilitator"), edit(client, ada_id, "admin", active=False)):
        assert response.status_code == 422
        assert "An organization keeps at least one active administrator." in text(response)
    ada = user_named(app, "acme", "ada@acme.fr")
    assert (ada.role, ada.active) == ("admin", True)
    assert client.get("/acme/users").status_code == 200

    # With a second admin, the first may step down.
    fred_id = user_named(app, "acme", "fred@acme.fr").id
    assert edit(client, fred_id, "admin").status_code == 303
    assert edit(client, ada_id, "facilitator").status_code == 303
    assert client.get("/acme/users").status_code == 403
    assert edit(client, fred_id, "facilitator").status_code == 403
