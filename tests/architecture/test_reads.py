"""No GET writes: opening a page changes no row, bookkeeping included.

The audit guard refuses any write from a GET in every test (``AUDIT_GUARD=raise``); this walk requests every GET
rule of the live URL map as an organization's admin, over objects that exist (tests/tenants/conftest.py), and
compares every row of the platform and of both organizations before and after.

One write is allowed, and tested as such below: a login's last-seen time, which keeps a signed-in browser's
idle timeout honest (``blueprints/accounts/logins.py``).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter

from tests.conftest import login
from tests.tenants.conftest import FILLED_ARGS
from tests.tenants.conftest import twins as twins  # noqa: F401 - fixture


def _digest(app, tenants) -> dict[str, str]:
    """A fingerprint of every row of every table, by schema, in a stable order."""
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.schema import metadata

    found = {}
    with app.app_context(), db.engine.connect() as connection:
        from tenants.db import bind_schema

        bind_schema(connection, None)
        for table in metadata("platform").sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            found[f"platform.{table.name}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    for tenant in tenants:
        with tenant_scope(tenant, app):
            for table in metadata("tenant").sorted_tables:
                rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
                found[f"{tenant.slug}.{table.name}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
            db.session.rollback()
    return found


def _url(rule, org: str) -> str | None:
    values = {}
    for name in rule.arguments:
        if name == "org":
            values[name] = org
        elif isinstance(rule._converters[name], AnyConverter):
            values[name] = sorted(rule._converters[name].items)[0]
        elif isinstance(rule._converters[name], IntegerConverter):
            if name not in (*FILLED_ARGS, "row_id", "number", "staff_id", "tenant_id"):
                return None
            values[name] = 1
        else:
            values[name] = "not-a-real-token"
    return rule.build(values, append_unknown=False)[1]


def test_a_walk_over_every_get_route_changes_no_row(app, twins):
    client = app.test_client()
    assert login(client, "alpha", "ada@alpha.fr").status_code == 303
    before = _digest(app, (twins.alpha, twins.beta))
    rules = sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: r.rule)
    problems, walked = [], 0
    for rule in rules:
        if rule.endpoint in ("accounts.logout", "staff.logout", "static"):
            continue
        url = _url(rule, "alpha")
        if url is None:
            problems.append(
                f"{rule.rule}: an argument the walk cannot fill (teach tests/tenants/conftest.py)"
            )
            continue
        response = client.get(url)
        walked += 1
        if response.status_code >= 500:
            problems.append(f"GET {url} answered {response.status_code}")
    after = _digest(app, (twins.alpha, twins.beta))
    changed = sorted(name for name in before if before[name] != after[name])
    assert problems == [], "\n".join(problems)
    assert changed == [], f"GET requests changed rows of {changed}"
    assert walked >= 60


def test_the_one_write_a_get_makes_is_the_login_last_seen_time(app, twins):
    """The exception, on purpose: a signed-in browser's login record keeps its last-seen time (at most every
    TOUCH_EVERY, on a connection of its own, outside the request's transaction), which the idle timeout of
    a login is measured from. Nothing else moves."""
    from sqlalchemy import update

    from blueprints.accounts.logins import TOUCH_EVERY
    from blueprints.accounts.models import UserLogin
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    client = app.test_client()
    assert login(client, "alpha", "ada@alpha.fr").status_code == 303
    with tenant_scope(twins.alpha, app):
        db.session.execute(update(UserLogin).values(last_seen_at=utcnow() - TOUCH_EVERY * 2))
        db.session.commit()
    before = _digest(app, (twins.alpha, twins.beta))
    assert client.get("/alpha/trainings").status_code == 200
    after = _digest(app, (twins.alpha, twins.beta))
    assert sorted(name for name in before if before[name] != after[name]) == ["alpha.user_logins"]
    with tenant_scope(twins.alpha, app):
        seen = db.session.scalars(select(UserLogin.last_seen_at).order_by(UserLogin.id.desc())).first()
    assert seen > utcnow() - TOUCH_EVERY
