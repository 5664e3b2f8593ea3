"""One organization never reaches another's pages or rows.

The test walks the live URL map: every ``/<org>`` rule is requested by alpha's admin with ``org=beta`` and its
integer arguments set to ids that exist in both organizations. A new rule is thus tested without anyone writing
a test for it; a rule the walk cannot fill (a new kind of argument, a new method) fails until it gets a filler
or an exclusion below, with its reason.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DatabaseError
from werkzeug.routing import IntegerConverter

from tests.conftest import login
from tests.tenants.conftest import FILLED_ARGS, TEXT_ARGS

# Public pages of an organization: anyone may open them, signed in elsewhere or not, so they answer for beta
# too. What they must not do (leak whether an address has an account, accept alpha's tokens) is tested with
# the accounts.
EXCLUSIONS = {
    "accounts.login": "the sign-in page of each organization is public",
    "accounts.logout": "signing out is allowed from anywhere and reveals nothing",
    "accounts.forgot_password": "public form; it answers the same whether or not the address exists",
    "accounts.reset_password": "reached from an emailed link by someone not signed in; the token decides",
    "accounts.verify": "reached from an emailed link by someone not signed in; the token decides",
    "accounts.accept_invitation": "reached from an emailed link by someone not signed in; the token decides",
    # Signing: the personal link's token decides, and a token names its organization (tests/signing/test_links.py
    # shows another organization's token is a 404).
    "signing.sign_page": "a trainee's personal link, opened without login; the token decides",
    "signing.sign": "a trainee's personal link, opened without login; the token decides",
    "signing.renew": "asked from an expired personal link; answers the same whatever is posted",
    "signing.facilitator_entry": "a facilitator's personal link, opened without login; the token decides",
    "rights.my_link": "public form: a trainee asks for a link to their data; it answers the same whatever is posted",
    "my_data.page": "a trainee's own data, from their personal link; the token decides (tests/rights)",
    "my_data.ask": "a trainee's request, from their personal link; the token decides (tests/rights)",
    "my_data.withdraw_sms": "a trainee's consent withdrawn from their personal link; the token decides",
    "my_data.ask_export": "a trainee's export asked from their personal link; the token decides",
    "my_data.download": "a trainee's export downloaded through their personal link; the token decides",
    "documents.trainee_download": "a trainee's own document through their personal link; the token decides",
    "tracking_trainee.page": "a trainee's absences, from their personal link; the token decides (tests/tracking)",
    "tracking_trainee.justify": "a trainee's justification, from their personal link; the token decides",
}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# The session's CSRF token, signed (itsdangerous base64: any three letters may turn up in it, "Bob" included).
TOKENS = re.compile(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]*"')


def _without_tokens(body: str) -> str:
    return TOKENS.sub(r'\1"', body)


def _fill(rule, org: str) -> str | None:
    """The URL of ``rule`` for ``org``, its arguments set to the objects both organizations hold (id 1); None
    if an argument is of a kind the fixture does not make."""
    values = {"org": org}
    for name in rule.arguments - {"org"}:
        if name in TEXT_ARGS:
            values[name] = TEXT_ARGS[name]
            continue
        if name not in FILLED_ARGS or not isinstance(rule._converters[name], IntegerConverter):
            return None
        values[name] = 1
    return rule.build(values, append_unknown=False)[1]


def test_another_organizations_pages_are_404(app, client, twins):
    """Every /<org> rule of the live URL map, requested by alpha's admin for beta, answers 404."""
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(twins.beta, app):
        beta_events = db.session.scalars(select(AuditEvent.id)).all()
    assert login(client, "alpha", "ada@alpha.fr").status_code == 303
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith("/<org>")),
        key=lambda r: (r.rule, r.endpoint),
    )
    assert set(EXCLUSIONS) <= {r.endpoint for r in rules}, "stale exclusion: remove it"
    problems, requested = [], []
    for rule in rules:
        if rule.endpoint in EXCLUSIONS:
            continue
        own, other = _fill(rule, "alpha"), _fill(rule, "beta")
        if other is None:
            problems.append(
                f"{rule.rule}: an argument this test cannot fill. Teach it an object that exists in both "
                "organizations (tests/tenants/conftest.py), or add the endpoint to EXCLUSIONS with the reason."
            )
            continue
        methods = [m for m in METHODS if m in rule.methods]
        unknown = rule.methods - set(METHODS) - {"HEAD", "OPTIONS"}
        if unknown:
            problems.append(f"{rule.rule}: method(s) {sorted(unknown)} unknown to this test")
        # A rule that answers GET is requested with GET: its other methods are the same view behind the same
        # guard. The others are requested with each method they accept.
        for method in methods[:1] if "GET" in methods else methods:
            requested.append(f"{method} {rule.rule}")
            if method == "GET":
                # Alpha's own page is served: the ids exist, so beta's 404 is about the tenant, not the id.
                status = client.get(own).status_code
                if status == 404:
                    problems.append(f"GET {own} (alpha's own) answered 404: the control is broken")
            response = client.open(other, method=method)
            if response.status_code != 404:
                problems.append(f"{method} {other} answered {response.status_code}, not 404")
            body = _without_tokens(response.get_data(as_text=True))
            for secret in (
                "bob@beta.fr",
                "fay@beta.fr",
                "Bob",
                "Fay",
                "beta data",
                "beta training",
                "paul@beta",
            ):
                if secret in body:
                    problems.append(f"{method} {other} shows {secret!r}")
    assert problems == [], "\n".join(problems)
    # The walk found the organization's pages, GET and POST-only ones alike.
    assert "GET /<org>/tasks/<int:task_id>" in requested and "POST /<org>/audit/export" in requested
    assert len(requested) >= 8, requested
    # And nothing was done in beta's name.
    with tenant_scope(twins.beta, app):
        assert db.session.scalars(select(AuditEvent.id)).all() == beta_events


def test_a_job_in_alphas_scope_sees_only_alpha(app, twins):
    from blueprints.accounts.models import User
    from jobs import tenant_job
    from tenants import current_tenant, tenant_scope
    from tenants.db import db

    def emails():
        return sorted(db.session.scalars(select(User.email)))

    alpha, beta = ["ada@alpha.fr", "fred@alpha.fr"], ["bob@beta.fr", "fay@beta.fr"]
    with app.app_context():
        assert tenant_job(emails)(twins.alpha.id) == alpha
        assert tenant_job(emails)(twins.beta.id) == beta

    with tenant_scope(twins.alpha, app) as scope:
        assert scope == twins.alpha
        assert emails() == alpha
        assert db.session.get(User, 1).email == "ada@alpha.fr"
        with tenant_scope("beta", app):
            assert current_tenant() == twins.beta
            assert emails() == beta
            assert db.session.get(User, 1).email == "bob@beta.fr"
        # Back in alpha: the same transaction, then a new one that binds its connection again.
        assert current_tenant() == twins.alpha
        assert emails() == alpha
        db.session.commit()
        assert emails() == alpha
        assert db.session.get(User, 2).email == "fred@alpha.fr"
        with tenant_scope(twins.beta.id, app):
            db.session.get(User, 2).first_name = "Changed in beta"
            db.session.commit()
        db.session.expire_all()
        assert db.session.get(User, 2).first_name == "Fred"
    with tenant_scope(twins.beta, app):
        assert db.session.get(User, 2).first_name == "Changed in beta"
    # No tenant in scope: tenant tables are unreachable, rather than some default organization's.
    with app.app_context(), pytest.raises(DatabaseError, match="tenant_unscoped"):
        db.session.scalars(select(User)).all()
