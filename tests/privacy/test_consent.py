"""The cookie banner, the choice and its proof, the measurement endpoint's refusals."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from blueprints.privacy.cookies import AUDIENCE_COOKIE, CONSENT_COOKIE
from tests.privacy.conftest import consent_rows, text, view_event

BANNER = 'data-consent-mode="banner"'


def cookie_names(response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}


def set_cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_banner_on_first_visit_on_public_and_app_pages(app, client, make_tenant):
    for url in ("/", "/signup", "/privacy", "/privacy/cookies", "/find"):
        visitor = app.test_client()
        response = visitor.get(url, headers={"Accept-Language": "en"})
        assert response.status_code == 200
        body = text(response)
        assert BANNER in body, url
        for label in ("Accept", "Refuse", "Choose"):
            assert f">{label}<" in body
        # Before a choice: the session cookie at most (forms' CSRF token), nothing else.
        assert cookie_names(response) <= {"emarge_session"}, url
        assert '<meta name="emarge-audience" content="off">' in body

    from tests.conftest import login

    make_tenant("acme", admin="ada@acme.fr")
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    # Signed in: the compact bar, the same three choices, and the page keeps the screen above it.
    page = text(client.get("/acme/"))
    assert 'data-consent-mode="compact"' in page and 'class="with-consent-bar"' in page
    for label in ("Accepter", "Refuser", "Choisir"):  # Ada reads French
        assert f">{label}<" in page
    assert 'name="banner" value="compact"' in page
    client.post("/privacy/consent", data={"choice": "refuse", "banner": "compact"})
    page = text(client.get("/acme/"))
    assert 'data-consent-mode="compact"' not in page and "data-consent-open" in page
    assert "with-consent-bar" not in page


CHOICES = [
    ("accept", {}, "accept", "audience"),
    ("refuse", {}, "refuse", ""),
    ("close", {}, "close", ""),
    ("save", {"audience": "on"}, "choose", "audience"),
    ("save", {}, "choose", ""),
]


def test_each_choice_is_proved_and_kept_six_months(app, client):
    for n, (choice, extra, action, categories) in enumerate(CHOICES):
        client = app.test_client()
        response = client.post(
            "/privacy/consent",
            data={"choice": choice, "next": "/signup", **extra},
            environ_base={"REMOTE_ADDR": "203.0.113.77"},
        )
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/signup")
        cookie = set_cookie(response, CONSENT_COOKIE)
        assert "Max-Age=15724800" in cookie  # 182 days
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        proofs = consent_rows(app)
        assert len(proofs) == n + 1
        proof = proofs[-1]
        assert proof.action == action
        assert proof.categories == categories
        assert proof.policy_version == 1
        assert proof.banner_version
        assert proof.ip_truncated == "203.0.113.0"  # never the whole address
        assert len(proof.consent_id) == 32
        assert proof.consent_id not in {p.consent_id for p in proofs[:-1]}  # a new browser, a new id
        # The choice holds: no banner any more, measurement on only with the audience category.
        page = text(client.get("/"))
        assert BANNER not in page
        assert f'content="{"on" if categories else "off"}"' in page

    client.post(
        "/privacy/consent", data={"choice": "refuse"}, environ_base={"REMOTE_ADDR": "2001:db8:1:2:3::9"}
    )
    assert consent_rows(app)[-1].ip_truncated == "2001:db8:1::"


def test_choices_with_htmx_and_without_javascript(app, client):
    response = client.post("/privacy/consent", data={"choice": "accept"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="consent-region"' in body and 'role="status"' in body
    assert json.loads(response.headers["HX-Trigger"]) == {"emarge-consent": {"audience": True}}
    assert "HX-Request" in response.vary
    response = client.post("/privacy/consent", data={"choice": "refuse"}, headers={"HX-Request": "true"})
    assert json.loads(response.headers["HX-Trigger"]) == {"emarge-consent": {"audience": False}}
    # Withdrawal keeps the consent id, so the proof of the withdrawal sits next to the consent it withdraws.
    first, second = consent_rows(app)
    assert first.consent_id == second.consent_id
    assert (first.categories, second.categories) == ("audience", "")

    page = client.get("/privacy/choices?next=/signup")
    assert page.status_code == 200
    body = text(page)
    assert "<html" in body and 'name="audience"' in body and 'value="/signup"' in body
    fragment = client.get("/privacy/choices", headers={"HX-Request": "true"})
    assert "<html" not in text(fragment) and 'name="audience"' in text(fragment)
    # Reopened after a consent: the box shows the current choice.
    client.post("/privacy/consent", data={"choice": "accept"})
    assert 'name="audience" value="on" checked' in text(client.get("/privacy/choices"))

    client.post("/privacy/consent", data={"choice": "accept"})
    body = text(client.get("/privacy/cookies"))
    assert 'hx-get="/privacy/choices"' in body and "Cookie settings" in body


def test_asked_again_when_the_cookie_policy_changes_or_after_six_months(app, client):
    from blueprints.privacy import consents, policy_versions
    from tenants.db import utcnow

    client.post("/privacy/consent", data={"choice": "accept"})
    proof = consent_rows(app)[0]
    old = consents.Consent(proof.consent_id, frozenset({"audience"}), 1, utcnow() - timedelta(days=183))
    client.set_cookie(CONSENT_COOKIE, consents.encode_consent(app.config["SECRET_KEY"], old))
    assert BANNER in text(client.get("/"))
    assert client.post("/privacy/collect", json=view_event()).status_code == 403

    from blueprints.privacy import consents
    from tenants.db import db

    client.post("/privacy/consent", data={"choice": "accept"})
    assert BANNER not in text(client.get("/"))
    with app.app_context():
        policy_versions.publish("cookies", body_fr="<p>v2</p>", body_en="<p>v2</p>")
        db.session.commit()
    page = text(client.get("/"))
    assert BANNER in page
    assert 'content="off"' in page  # no measurement under a consent given to another policy
    assert client.post("/privacy/collect", json=view_event()).status_code == 403


def test_browser_refusal_signals_count_as_refusal(client):
    client.post("/privacy/consent", data={"choice": "accept"})
    assert client.post("/privacy/collect", json=view_event()).status_code == 204
    for header in ({"Sec-GPC": "1"}, {"DNT": "1"}):
        page = text(client.get("/", headers=header))
        assert 'content="off"' in page
        response = client.post("/privacy/collect", json=view_event(), headers=header)
        assert response.status_code == 403
        # Nobody is asked what their browser already answered.
        fresh = client.application.test_client()
        assert BANNER not in text(fresh.get("/", headers=header))


def test_collect_accepts_nothing_without_a_valid_consent_and_nothing_malformed(app, client):
    assert client.post("/privacy/collect", json=view_event()).status_code == 403
    client.post("/privacy/consent", data={"choice": "refuse"})
    assert client.post("/privacy/collect", json=view_event()).status_code == 403
    # A forged cookie (not signed by us) grants nothing.
    client.set_cookie(CONSENT_COOKIE, '{"i":"x","c":["audience"],"v":1,"t":9999999999}')
    assert client.post("/privacy/collect", json=view_event()).status_code == 403
    # A cookie we signed but whose consent was later withdrawn (proof on record says so) grants nothing either.
    accepted = client.post("/privacy/consent", data={"choice": "accept"})
    kept = set_cookie(accepted, CONSENT_COOKIE).split(";")[0].split("=", 1)[1]
    client.post("/privacy/consent", data={"choice": "refuse"})
    client.set_cookie(CONSENT_COOKIE, kept)
    assert client.post("/privacy/collect", json=view_event()).status_code == 403
    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db

    with app.app_context():
        assert db.session.scalars(select(AudienceEvent)).all() == []

    client.post("/privacy/consent", data={"choice": "accept"})
    first = client.post("/privacy/collect", json=view_event("/signup"))
    assert first.status_code == 204
    cookie = set_cookie(first, AUDIENCE_COOKIE)
    assert "Max-Age=33696000" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie  # 390 days
    again = client.post("/privacy/collect", json=view_event("/"))
    assert again.status_code == 204
    assert AUDIENCE_COOKIE not in cookie_names(again)  # never extended at each visit
    # Withdrawing deletes it at once.
    withdrawn = client.post("/privacy/consent", data={"choice": "refuse"})
    assert "Max-Age=0" in set_cookie(withdrawn, AUDIENCE_COOKIE)

    client.post("/privacy/consent", data={"choice": "accept"})
    assert client.post("/privacy/collect", data="nope", content_type="application/json").status_code == 400
    assert (
        client.post("/privacy/collect", json={"type": "view", "view": "short", "path": "/"}).status_code
        == 400
    )
    assert client.post("/privacy/collect", json=view_event() | {"type": "hack"}).status_code == 400
    bad_click = {"type": "click", "view": "a" * 32, "path": "/", "target": "<script>"}
    assert client.post("/privacy/collect", json=bad_click).status_code == 400
    assert client.post("/privacy/collect", json=view_event("/static/css/app.css")).status_code == 403


def test_pages_are_url_rules_and_trainee_pages_are_never_measured(app, client, make_tenant):
    from flask import render_template_string

    from blueprints.privacy.measurement import never_measured
    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db

    @never_measured
    def sign(token):
        return render_template_string(
            '{% extends "shared/trainee_base.html" %}{% block main %}<canvas id="pad"></canvas>{% endblock %}'
        )

    app.add_url_rule("/<org>/test-sign/<token>", "test_sign", sign)
    make_tenant("acme", admin="ada@acme.fr")
    client.post("/privacy/consent", data={"choice": "accept"})
    # What is stored is the URL rule: no organization, no token, no id.
    assert (
        client.post("/privacy/collect", json=view_event("/acme/password/reset/secret-token")).status_code
        == 204
    )
    with app.app_context():
        assert db.session.scalars(select(AudienceEvent.page)).all() == ["/<org>/password/reset/<token>"]

    fresh = app.test_client()
    for c in (client, fresh):
        body = text(c.get("/acme/test-sign/tok"))
        assert 'id="pad"' in body
        assert "audience.js" not in body and "consent.js" not in body
        assert "data-consent-mode" not in body and "data-consent-open" not in body
        assert 'href="/privacy/cookies"' in body
    # Even a hand-made event for such a page is refused.
    assert client.post("/privacy/collect", json=view_event("/acme/test-sign/tok")).status_code == 403


def test_the_proof_says_which_banner_was_seen(app, make_tenant):
    from sqlalchemy import select

    from blueprints.privacy.consents import BANNER_VERSIONS
    from blueprints.privacy.models import ConsentProof
    from tenants.db import db
    from tests.conftest import login

    visitor = app.test_client()
    visitor.post("/privacy/consent", data={"choice": "accept"})
    make_tenant("acme", admin="ada@acme.fr")
    staff = app.test_client()
    login(staff, "acme", "ada@acme.fr")
    staff.post("/privacy/consent", data={"choice": "refuse", "banner": "compact"})
    # Anything else posted as the banner is the full one's proof: a visitor cannot make up a version.
    app.test_client().post("/privacy/consent", data={"choice": "refuse", "banner": "made-up"})
    with app.app_context():
        versions = db.session.scalars(select(ConsentProof.banner_version).order_by(ConsentProof.id)).all()
    assert versions == [BANNER_VERSIONS["full"], BANNER_VERSIONS["compact"], BANNER_VERSIONS["full"]]
