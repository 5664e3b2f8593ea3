"""Login and logout, wrong passwords, throttling, cookies."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tests.accounts.helpers import text
from tests.conftest import PASSWORD, login

REMEMBER = "emarge_remember"
SESSION = "emarge_session"
THIRTEEN_MONTHS = 396 * 86400


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers of ``response`` by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def test_login_then_logout(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    assert client.get("/acme/").status_code == 302

    response = login(client, "acme", "Ada@Acme.FR")
    assert response.status_code == 303
    assert response.location == "/acme/"
    assert "Ada" in text(client.get("/acme/"))

    out = client.post("/acme/logout")
    assert out.status_code == 303
    assert out.location.endswith("/acme/login")
    home = client.get("/acme/")
    assert home.status_code == 302
    assert "/acme/login" in home.location

    # Back to the page asked for, within the organization, never to another site.
    data = {"email": "ada@acme.fr", "password": PASSWORD}
    assert client.post("/acme/login?next=/acme/account", data=data).location == "/acme/account"
    client.post("/acme/logout")
    assert client.post("/acme/login?next=//evil.example/acme/", data=data).location == "/acme/"


def test_wrong_password_and_unknown_account_say_the_same(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    wrong = login(client, "acme", "ada@acme.fr", "not-the-right-password")
    unknown = login(client, "acme", "nobody@acme.fr", "not-the-right-password")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "Email or password is not correct." in text(response)
    assert client.get("/acme/").status_code == 302

    # An account of one organization does not open another.
    make_tenant("other", admin="olga@other.fr")
    assert login(client, "other", "ada@acme.fr").status_code == 422
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    # Signed in at acme, the other organization's pages do not exist for this browser.
    assert client.get("/other/").status_code == 404


def test_five_failures_then_429(app, client, new_client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    make_tenant("other", admin="olga@other.fr")
    # A success clears the count.
    for _ in range(4):
        assert login(client, "acme", "ada@acme.fr", "not-the-right-password").status_code == 422
    assert login(new_client(), "acme", "ada@acme.fr").status_code == 303

    for _ in range(5):
        assert login(client, "acme", "ada@acme.fr", "not-the-right-password").status_code == 422
    blocked = login(client, "acme", "ada@acme.fr", "not-the-right-password")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many attempts" in text(blocked)
    # Even the right password waits, from any browser: that is the point.
    assert login(new_client(), "acme", "ada@acme.fr").status_code == 429
    # Another account is not affected.
    assert login(client, "other", "olga@other.fr").status_code == 303


def test_cookies(app, client, new_client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    response = login(client, "acme", "ada@acme.fr")
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert REMEMBER not in cookies
    assert client.get_cookie(REMEMBER) is None

    session = attributes(cookies[SESSION])
    assert "httponly" in session
    assert session["samesite"].lower() == "lax"
    # A browser-session cookie: it goes when the browser closes.
    assert "expires" not in session and "max-age" not in session

    # Remember me, when asked: a persistent cookie, within 13 months.
    client.post("/acme/logout")
    response = login(client, "acme", "ada@acme.fr", remember=True)
    assert response.status_code == 303
    cookies = set_cookies(response)
    assert REMEMBER in cookies
    remember = attributes(cookies[REMEMBER])
    assert "httponly" in remember
    assert remember["samesite"].lower() == "lax"
    lifetimes = []
    if "max-age" in remember:
        lifetimes.append(int(remember["max-age"]))
    if "expires" in remember:
        expires = parsedate_to_datetime(remember["expires"])
        lifetimes.append((expires - datetime.now(UTC)).total_seconds())
    assert lifetimes, "the remember cookie must say when it ends"
    assert all(0 < seconds <= THIRTEEN_MONTHS for seconds in lifetimes)

    # The cookie alone signs a new browser in.
    other = new_client()
    other.set_cookie(REMEMBER, client.get_cookie(REMEMBER).value, path="/")
    assert other.get("/acme/").status_code == 200

    client.post("/acme/logout")
    # Still holding the cookie, the browser would be signed straight back in.
    assert client.get_cookie(REMEMBER) is None
    assert client.get("/acme/").status_code == 302
