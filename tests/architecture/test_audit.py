"""Every state change is audited, by construction (blueprints/web/audit_guard.py).

Three proofs: every state-changing route of the live URL map and every job declares what it writes; a walk
posts to every one of those routes as an organization's admin and fails on one that changes data without an
audit event of an action it declared; and the guard really refuses a change without an event. The whole suite
runs with ``AUDIT_GUARD=raise``, so every test that posts a form checks its route as well.
"""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from tests.conftest import login
from tests.tenants.conftest import FILLED_ARGS
from tests.tenants.conftest import twins as twins  # noqa: F401 - fixture

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _changing_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.methods & CHANGING), key=lambda r: (r.rule, r.endpoint)
    )


def test_every_state_changing_route_declares_what_it_audits(app):
    from blueprints.web.audit_guard import declaration

    rules = _changing_rules(app)
    assert len(rules) >= 60
    missing = [
        f"{rule.endpoint} ({rule.rule})"
        for rule in rules
        if declaration(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == [], "declare @writes(...) or @writes(none=...) on:\n" + "\n".join(missing)


def test_every_job_declares_what_it_audits():
    import importlib
    import pkgutil

    import jobs
    from blueprints.web.audit_guard import declaration

    found, missing = [], []
    for module_info in pkgutil.iter_modules(jobs.__path__):
        module = importlib.import_module(f"jobs.{module_info.name}")
        for name, value in vars(module).items():
            # A job is a module-level function made by tenant_job or platform_job (functools.wraps).
            if (
                inspect.isfunction(value)
                and value.__module__ == module.__name__
                and hasattr(value, "__wrapped__")
            ):
                found.append(f"{module.__name__}.{name}")
                if declaration(value) is None:
                    missing.append(f"{module.__name__}.{name}")
    assert len(found) >= 15, found
    assert missing == [], "declare @writes(...) or @writes(none=...) on:\n" + "\n".join(missing)


def _url(rule, org: str) -> str:
    values = {}
    for name in rule.arguments:
        if name == "org":
            values[name] = org
        elif isinstance(rule._converters[name], IntegerConverter):
            # Staff pages' rows (row_id, staff_id, tenant_id) are walked with id 1 too.
            assert name in (*FILLED_ARGS, "row_id", "staff_id", "tenant_id"), (
                f"{rule.rule}: teach tests/tenants/conftest.py {name}"
            )
            values[name] = 1
        else:
            values[name] = "not-a-real-token"
    return rule.build(values, append_unknown=False)[1]


def test_a_walk_over_every_post_route_finds_no_change_without_its_audit_event(app, twins, caplog):
    """Alpha's admin posts to every state-changing route (objects of id 1, an empty form): whatever a route
    does with that, a change it makes must come with an audit event it declared, or the guard answers 500."""
    from blueprints.audit.models import AuditEvent
    from tenants import tenant_scope
    from tenants.db import db

    assert app.config["AUDIT_GUARD"] == "raise"
    client = app.test_client()
    assert login(client, "alpha", "ada@alpha.fr").status_code == 303
    with tenant_scope(twins.alpha, app):
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    problems, walked = [], []
    for rule in _changing_rules(app):
        if rule.endpoint in ("accounts.logout", "staff.logout"):
            continue  # walked last: signing out would end the walk
        for method in sorted(rule.methods & CHANGING):
            url = _url(rule, "alpha")
            walked.append(f"{method} {rule.rule}")
            response = client.open(url, method=method, headers={"X-Emarge-Timestamp": "0"})
            if response.status_code >= 500:
                problems.append(f"{method} {url} answered {response.status_code}")
    response = client.post("/alpha/logout")
    assert response.status_code < 500
    assert problems == [], (
        "\n".join(problems)
        + "\n"
        + "\n".join(r.getMessage() for r in caplog.records if "audit" in r.getMessage())
    )
    assert len(walked) >= 60
    # The walk did change things (an archive, a closed half-day, a revoked link…), each with its event.
    with tenant_scope(twins.alpha, app):
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > before


def test_the_guard_refuses_a_change_without_an_audit_event(make_app, make_tenant):
    from blueprints.accounts.models import User
    from blueprints.audit.models import AuditEvent
    from blueprints.audit.services import Actor, record
    from blueprints.web.audit_guard import writes
    from tenants import tenant_scope
    from tenants.db import db

    app = make_app()
    make_tenant("acme", admin="ada@acme.fr")
    names = iter(range(100))

    def rename(audited: bool):
        user = db.session.get(User, 1)
        user.first_name = f"Changed {next(names)}"
        if audited:
            record(Actor.system(), "user.renamed", user)
        db.session.commit()
        return "ok"

    app.add_url_rule(
        "/<org>/test/silent", "silent", writes("user.renamed")(lambda: rename(False)), methods=["POST"]
    )
    app.add_url_rule(
        "/<org>/test/loud", "loud", writes("user.renamed")(lambda: rename(True)), methods=["POST"]
    )
    app.add_url_rule("/<org>/test/undeclared", "undeclared", lambda: rename(True), methods=["POST"])
    app.add_url_rule(
        "/<org>/test/other", "other", writes("user.invited")(lambda: rename(True)), methods=["POST"]
    )
    client = app.test_client()
    assert client.post("/acme/test/loud").status_code == 200
    for refused in ("silent", "undeclared", "other"):
        assert client.post(f"/acme/test/{refused}").status_code == 500, refused
    with tenant_scope("acme", app):
        # Only the audited change was kept: the refused ones rolled back with their commit.
        assert db.session.get(User, 1).first_name == "Changed 0"
        assert db.session.scalars(select(AuditEvent.action)).all().count("user.renamed") == 1


@pytest.mark.parametrize("value", ["log", "raise"])
def test_the_guard_never_loses_a_users_change_in_production(make_app, make_tenant, value, caplog):
    """Outside the test suite a missing declaration is logged, and the user's change is kept."""
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    app = make_app(AUDIT_GUARD=value)
    make_tenant("acme", admin="ada@acme.fr")

    def rename():
        db.session.get(User, 1).first_name = "Changed"
        db.session.commit()
        return "ok"

    app.add_url_rule("/<org>/test/silent", "silent", rename, methods=["POST"])
    status = app.test_client().post("/acme/test/silent").status_code
    with tenant_scope("acme", app):
        kept = db.session.get(User, 1).first_name == "Changed"
    if value == "log":
        assert status == 200 and kept
        assert any("declares no audit action" in r.getMessage() for r in caplog.records)
    else:
        assert status == 500 and not kept
