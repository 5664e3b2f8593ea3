"""Logins bound to server-side records: logging out really ends a session, remember-me cookies are single-use,
and a user sees and ends their sessions. Each attack is the request an attacker holding a copied cookie sends."""

from __future__ import annotations

from datetime import timedelta

from tests.accounts.helpers import audit_actions, english, text
from tests.conftest import PASSWORD, login

REMEMBER = "emarge_remember"
SESSION = "emarge_session"


def copy_of(app, client, *names: str):
    """Another browser holding a copy of ``client``'s cookies named ``names``."""
    thief = english(app.test_client())
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value, path="/")
    return thief


def logins_of(app, slug: str, email: str):
    from blueprints.accounts.models import User, UserLogin
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        user = db.session.scalars(db.select(User).where(User.email == email)).one()
        return db.session.scalars(db.select(UserLogin).where(UserLogin.user_id == user.id)).all()


def test_a_session_cookie_copied_before_logout_opens_nothing_after(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    login(client, "acme", "ada@acme.fr")
    thief = copy_of(app, client, SESSION)
    assert thief.get("/acme/participants/").status_code == 200  # the copy works while the login lives
    client.post("/acme/logout")
    assert logins_of(app, "acme", "ada@acme.fr") == []
    for path in ("/acme/", "/acme/participants/", "/acme/account"):
        response = thief.get(path)
        assert response.status_code == 302, path
        assert "/acme/login" in response.location


def test_a_remember_cookie_copied_before_logout_opens_nothing_after(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    login(client, "acme", "ada@acme.fr", remember=True)
    thief = copy_of(app, client, REMEMBER)  # only the remember-me cookie: the session is rebuilt from it
    client.post("/acme/logout")
    assert thief.get("/acme/participants/").status_code == 302
    assert thief.get("/acme/").status_code == 302


def test_the_remember_cookie_is_single_use_and_rotated(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    login(client, "acme", "ada@acme.fr", remember=True)
    first = client.get_cookie(REMEMBER).value
    # The browser is closed: only the remember-me cookie is left, and it opens a session.
    reopened = copy_of(app, client, REMEMBER)
    assert reopened.get("/acme/").status_code == 200
    second = reopened.get_cookie(REMEMBER).value
    assert second != first
    # A copy of the first value, taken before it was spent, is a stranger now...
    stale = english(app.test_client())
    stale.set_cookie(REMEMBER, first, path="/")
    assert stale.get("/acme/").status_code == 302
    # ...and the browser that spent it stays signed in, the new value working in turn.
    assert reopened.get("/acme/account").status_code == 200
    again = english(app.test_client())
    again.set_cookie(REMEMBER, second, path="/")
    assert again.get("/acme/").status_code == 200
    assert len(logins_of(app, "acme", "ada@acme.fr")) == 1


def test_a_cookie_of_a_login_record_of_another_user_or_organization_is_a_stranger(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    make_tenant("beta", admin="bob@beta.fr")
    login(client, "acme", "ada@acme.fr")
    value = client.get_cookie(SESSION).value
    other = english(app.test_client())
    other.set_cookie(SESSION, value, path="/")
    assert other.get("/beta/").status_code == 404  # signed in elsewhere: beta's pages do not exist for it


def test_the_account_page_lists_sessions_and_ends_one_or_all_others(app, client, make_tenant, new_client):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    phone = new_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1"
    )
    laptop = new_client()
    laptop.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    )
    client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    )
    for browser in (client, phone, laptop):
        assert login(browser, "acme", "ada@acme.fr").status_code == 303
    page = text(client.get("/acme/account"))
    assert "Safari 17 on iOS" in page
    assert "Firefox 133 on Windows" in page
    assert "Chrome 131 on Linux" in page
    assert "This browser" in page

    phone_login = next(x for x in logins_of(app, "acme", "ada@acme.fr") if x.system == "iOS")
    assert client.post(f"/acme/account/logins/{phone_login.id}/end").status_code == 303
    assert phone.get("/acme/").status_code == 302
    assert laptop.get("/acme/").status_code == 200
    assert "Safari 17 on iOS" not in text(client.get("/acme/account"))

    ended = client.post("/acme/account/logins/end-others", follow_redirects=True)
    assert "1 other session signed out." in text(ended)
    assert laptop.get("/acme/").status_code == 302
    assert client.get("/acme/").status_code == 200
    assert [x.system for x in logins_of(app, "acme", "ada@acme.fr")] == ["Linux"]
    assert {"user.login_ended", "user.other_logins_ended"} <= set(audit_actions(app, "acme"))


def test_a_user_cannot_end_another_users_session(app, client, make_tenant, new_client):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fay@acme.fr",))
    fay = new_client()
    login(fay, "acme", "fay@acme.fr")
    fays = logins_of(app, "acme", "fay@acme.fr")[0]
    login(client, "acme", "ada@acme.fr")
    client.post(f"/acme/account/logins/{fays.id}/end")
    assert fay.get("/acme/").status_code == 200


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, client, make_tenant, new_client):
    make_tenant("acme", admin="ada@acme.fr")
    other = new_client()
    login(other, "acme", "ada@acme.fr", remember=True)
    remembered = copy_of(app, other, REMEMBER)
    login(client, "acme", "ada@acme.fr")
    response = client.post(
        "/acme/account",
        data={
            "password-current_password": PASSWORD,
            "password-password": "a-brand-new-passphrase-42",
            "password-confirm": "a-brand-new-passphrase-42",
        },
    )
    assert response.status_code == 303, text(response)
    assert client.get("/acme/").status_code == 200
    assert other.get("/acme/").status_code == 302
    assert remembered.get("/acme/").status_code == 302
    assert len(logins_of(app, "acme", "ada@acme.fr")) == 1


def test_last_seen_is_written_at_most_every_five_minutes(app, client, make_tenant):
    from blueprints.accounts.models import UserLogin
    from tenants import tenant_scope
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr")
    login(client, "acme", "ada@acme.fr")
    record = logins_of(app, "acme", "ada@acme.fr")[0]
    seen = record.last_seen_at
    client.get("/acme/")
    assert logins_of(app, "acme", "ada@acme.fr")[0].last_seen_at == seen  # not on every request
    with tenant_scope("acme", app):
        db.session.get(UserLogin, record.id).last_seen_at = seen - timedelta(minutes=6)
        db.session.commit()
    client.get("/acme/")
    assert logins_of(app, "acme", "ada@acme.fr")[0].last_seen_at > seen - timedelta(minutes=1)


def test_an_idle_login_ends_by_itself_and_is_purged(app, client, make_tenant):
    from blueprints.accounts.logins import purge_expired_logins
    from blueprints.accounts.models import UserLogin
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.retention import LOGIN_IDLE

    make_tenant("acme", admin="ada@acme.fr")
    login(client, "acme", "ada@acme.fr")
    record = logins_of(app, "acme", "ada@acme.fr")[0]
    with tenant_scope("acme", app):
        db.session.get(UserLogin, record.id).last_seen_at -= LOGIN_IDLE + timedelta(minutes=1)
        db.session.commit()
    assert client.get("/acme/").status_code == 302
    with tenant_scope("acme", app):
        assert purge_expired_logins() == 1
        db.session.commit()
    assert logins_of(app, "acme", "ada@acme.fr") == []


def test_user_agents_are_described_for_people():
    from blueprints.accounts.logins import describe_agent

    edge = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Safari/537.36 Edg/131.0.2903.86"
    )
    android = (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
    )
    mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15"
    )
    assert describe_agent(edge) == ("Edge 131", "Windows")
    assert describe_agent(android) == ("Samsung Internet 25", "Android")
    assert describe_agent(mac) == ("Safari 17", "macOS")
    assert describe_agent("") == ("?", "?")
    assert describe_agent(None) == ("?", "?")
