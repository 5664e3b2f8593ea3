"""The per-process copies of the organization and the policy versions (tenants/lookups.py).

Two apps built on the same database stand for two processes (each has its own copies): what one commits, the
other sees at its next request where Redis holds the versions, within ``MAX_AGE`` where it does not.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, update

from tests.conftest import login

TENANTS_READ = re.compile(r'\bFROM\s+("?(platform|main)"?\.)?"?tenants"?(\s|$)')


def _suspend(app, tenant) -> None:
    """What the support console does: change the platform's row in a session and commit."""
    from tenants.db import db
    from tenants.models import SUSPENDED, Tenant

    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(status=SUSPENDED))
        db.session.commit()


def _tenant_reads(app, client, url: str) -> tuple[int, int]:
    """(status, statements that read the platform's tenants table) of one request."""
    from tenants.db import db

    reads = []

    def seen(connection, cursor, statement, *args):
        if TENANTS_READ.search(statement):
            reads.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        status = client.get(url).status_code
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return status, len(reads)


def _clock(app, start: float = 1000.0):
    """Put the app's copies on a clock the test turns."""
    from tenants.lookups import EXTENSION

    now = [start]
    app.extensions[EXTENSION].clock = lambda: now[0]
    return now


def test_a_warm_request_does_not_look_its_organization_up(app, make_tenant):
    make_tenant("acme")
    client = app.test_client()
    assert _tenant_reads(app, client, "/acme/login") == (200, 1)
    assert _tenant_reads(app, client, "/acme/login") == (200, 0)
    assert _tenant_reads(app, client, "/acme/password/forgot") == (200, 0)


def test_a_change_committed_in_this_process_is_seen_at_the_next_request(app, make_tenant):
    acme = make_tenant("acme")
    client = app.test_client()
    _clock(app)  # time stands still: only the commit can drop the copy
    assert client.get("/acme/login").status_code == 200
    _suspend(app, acme)
    assert client.get("/acme/login").status_code == 404


def test_an_unknown_organization_is_not_remembered(app, make_tenant):
    client = app.test_client()
    _clock(app)
    assert client.get("/late/login").status_code == 404
    make_tenant("late")  # provisioning writes on a connection of its own: nothing announces it
    assert client.get("/late/login").status_code == 200


def test_a_dropped_organization_is_gone_at_once(app, make_tenant):
    from tenants.provisioning import drop

    gone = make_tenant("gone")
    client = app.test_client()
    _clock(app)
    assert client.get("/gone/login").status_code == 200
    with app.app_context():
        drop(gone)
    assert client.get("/gone/login").status_code == 404


def test_a_suspension_in_another_process_takes_effect_at_once_with_redis(make_app, make_tenant, backend):
    if backend != "postgresql":
        pytest.skip("the versions live in Redis, which the PostgreSQL set-up runs")
    web, console = make_app(), make_app()
    acme = make_tenant("acme", admin="ada@acme.fr")
    client = web.test_client()
    _clock(web)  # no expiry: only Redis can tell this process
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get("/acme/trainings").status_code == 200
    _suspend(console, acme)
    assert client.get("/acme/trainings").status_code == 404
    assert client.get("/acme/login").status_code == 404


def test_without_redis_another_process_sees_a_change_within_max_age(make_app, make_tenant, app_config):
    from tenants.lookups import MAX_AGE

    config = {**app_config, "REDIS_URL": None}
    web, console = make_app(**config), make_app(**config)
    acme = make_tenant("acme")
    client = web.test_client()
    now = _clock(web)
    assert client.get("/acme/login").status_code == 200
    _suspend(console, acme)
    now[0] += MAX_AGE - 1
    assert client.get("/acme/login").status_code == 200  # the copy, still young enough
    now[0] += 2
    assert client.get("/acme/login").status_code == 404


def test_an_unreachable_redis_costs_no_page(make_app, make_tenant, app_config, backend, caplog):
    """Redis down: the page is served from a fresh read, and copies fall back to their age limit."""
    from tenants.lookups import MAX_AGE
    from tests.conftest import _free_port

    if backend != "postgresql":
        pytest.skip("the versions live in Redis, which the PostgreSQL set-up runs")
    web = make_app(REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0")
    console = make_app()
    acme = make_tenant("acme")
    client = web.test_client()
    now = _clock(web)
    assert client.get("/acme/login").status_code == 200
    assert "platform copies kept" in caplog.text
    _suspend(console, acme)
    now[0] += MAX_AGE + 1
    assert client.get("/acme/login").status_code == 404


def test_a_substantial_policy_published_elsewhere_is_asked_for_at_the_next_request(
    make_app, make_tenant, backend
):
    if backend != "postgresql":
        pytest.skip("the versions live in Redis, which the PostgreSQL set-up runs")
    from blueprints.privacy import policy_versions
    from tenants.db import db

    web, console = make_app(), make_app()
    make_tenant("acme", admin="ada@acme.fr")
    client = web.test_client()
    _clock(web)
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get("/acme/trainings").status_code == 200
    with console.app_context():
        policy_versions.publish("privacy", body_fr="v2", body_en="v2", substantial=True)
        db.session.commit()
    answer = client.get("/acme/trainings")
    assert answer.status_code == 303 and "/acme/privacy/acknowledge" in answer.headers["Location"]


def test_a_rolled_back_change_drops_nothing(app, make_tenant):
    from tenants.db import db
    from tenants.lookups import EXTENSION
    from tenants.models import SUSPENDED, Tenant

    acme = make_tenant("acme")
    client = app.test_client()
    _clock(app)
    assert client.get("/acme/login").status_code == 200
    lookups = app.extensions[EXTENSION]
    before = dict(lookups._generation)
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == acme.id).values(status=SUSPENDED))
        db.session.rollback()
    assert lookups._generation == before
    assert _tenant_reads(app, client, "/acme/login") == (200, 0)
