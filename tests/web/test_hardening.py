"""Requests an attacker would send: open redirects, NUL bytes, forged proxies' headers, and what a closed
database answers."""

from __future__ import annotations

import pytest

from tests.conftest import _free_port, login

EVIL = [
    "/%09/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "/\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("target", EVIL)
def test_no_next_parameter_leaves_the_site(app, client, make_tenant, target):
    from urllib.parse import unquote

    value = unquote(target) if target.startswith("/%") else target
    choice = client.get("/privacy/choices", query_string={"next": value})
    assert choice.status_code == 200
    assert 'name="next" value="/"' in choice.get_data(as_text=True)  # the form carries home, not the target
    consent = client.post("/privacy/consent", data={"choice": "refuse", "next": value})
    assert consent.status_code == 303 and consent.location == "/"
    language = client.post("/language", data={"language": "en", "next": value})
    assert language.status_code == 303 and language.location == "/"
    make_tenant("acme", admin="ada@acme.fr")
    signed_in = client.post(
        "/acme/login",
        query_string={"next": value},
        data={"email": "ada@acme.fr", "password": "correct-horse-battery-staple"},
    )
    assert signed_in.status_code == 303 and signed_in.location == "/acme/"


def test_a_local_next_is_followed():
    from blueprints.web.redirects import safe_next

    assert safe_next("/acme/participants/?q=a", "/", within="/acme/") == "/acme/participants/?q=a"
    assert safe_next("/beta/", "/acme/", within="/acme/") == "/acme/"
    assert safe_next("/privacy", "/") == "/privacy"


def test_nul_bytes_are_refused_with_a_422_everywhere(app, client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    for response in (
        client.get("/acme/trainings", query_string={"q": "a\x00b"}),
        client.get("/acme/participants/", query_string={"q": "\x00"}),
        client.post("/acme/trainings/new", data={"title": "First aid\x00", "planned_hours": "7"}),
        client.post("/acme/users", data={"email": "x@acme.fr", "first_name": "A\x00", "last_name": "B"}),
        client.post("/acme/settings/", data={"name": "Acme\x00"}),
        client.get("/ac\x00me/login"),
        client.post("/signup", data={"organization_name": "\x00"}),
    ):
        assert response.status_code == 422
        assert "NUL" in response.get_data(as_text=True)


def test_forwarded_headers_count_only_behind_a_trusted_proxy(make_app, make_tenant):
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = make_app(TRUSTED_PROXIES=proxies)
        slug = f"org{proxies}"
        make_tenant(slug, admin=f"ada@{slug}.fr")
        client = app.test_client()
        client.post(
            f"/{slug}/login",
            data={"email": f"ada@{slug}.fr", "password": "correct-horse-battery-staple"},
            headers=headers,
        )
        with tenant_scope(slug, app):
            event = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "user.login")).one()
            assert event.ip == expected


def test_logout_deletes_the_remember_cookie_with_every_attribute(make_app, make_tenant):
    app = make_app(SESSION_COOKIE_SECURE=True)
    make_tenant("acme", admin="ada@acme.fr")
    client = app.test_client()
    login(client, "acme", "ada@acme.fr", remember=True)
    out = client.post("/acme/logout")
    (deleted,) = [h for h in out.headers.getlist("Set-Cookie") if h.startswith("emarge_remember=")]
    assert "Expires=Thu, 01 Jan 1970" in deleted
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in deleted
    assert out.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_live_polls_fast_path_carries_the_same_security_headers(make_app, backend):
    if backend != "postgresql":
        pytest.skip("the fast path answers only where Redis holds the versions")
    from blueprints.signing.tokens import live_token
    from blueprints.web.keys import secret_keys

    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        token = live_token(secret_keys(app.config), "tenant_x", 1)
    fast = app.test_client().get(f"/live/{token}?v=0")
    assert fast.status_code == 204
    for name in (
        "Strict-Transport-Security",
        "X-Frame-Options",
        "Content-Security-Policy",
        "X-Content-Type-Options",
    ):
        assert name in fast.headers, name


def test_a_sign_in_link_signed_under_the_old_key_still_works_after_rotation(make_app):
    from blueprints.signing.tokens import link_token, read_link_token

    old = make_app(SECRET_KEY="old-key")
    with old.app_context():
        token = link_token("trainee", "acme", 1, "nonce")
    rotated = make_app(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"])
    with rotated.app_context():
        assert read_link_token("trainee", token) == ("acme", 1, "nonce")
    dropped = make_app(SECRET_KEY="new-key")
    with dropped.app_context():
        assert read_link_token("trainee", token) is None


def test_pages_answer_503_with_retry_after_when_postgresql_is_unreachable(make_app, backend):
    if backend != "postgresql":
        pytest.skip("a database server that goes away exists on PostgreSQL only")
    from sqlalchemy.engine import make_url

    base = make_app()
    down = make_url(base.config["SQLALCHEMY_DATABASE_URI"]).set(port=_free_port())
    app = make_app(SQLALCHEMY_DATABASE_URI=down.render_as_string(hide_password=False))
    response = app.test_client().get("/acme/login")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
