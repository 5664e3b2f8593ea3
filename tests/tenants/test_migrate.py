"""``flask tenants migrate``: many tenants brought to head in parallel processes, a failure named and contained."""

from __future__ import annotations

import os
import re
from inspect import getsource as inspect_source

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

pytestmark = pytest.mark.slow


def _previous_revision() -> str:
    """The revision before the newest migration that creates a table: a tenant set back there misses tables
    and columns that head has (a migration that only moves data would leave nothing to compare)."""
    from tenants.schema import alembic_config, head

    scripts = ScriptDirectory.from_config(alembic_config("tenant"))
    for script in scripts.iterate_revisions(head("tenant"), "base"):
        if "create_table" in inspect_source(script.module.upgrade):
            assert isinstance(script.down_revision, str), (
                "these tests need a table added after the first revision"
            )
            return script.down_revision
    raise AssertionError("no tenant migration creates a table")


def _set_back(app, schema: str, revision: str, stray_table: str | None = None) -> None:
    """Rebuild ``schema`` empty and migrate it to ``revision`` (an older one), optionally adding a table of
    ours that a later migration will want to create."""
    from tenants.db import bind_schema, db, tenant_file
    from tenants.migrate import upgrade_tenant

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            engine.dispose()
            path = tenant_file(app.instance_path, schema)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        with engine.begin() as connection:
            bind_schema(connection, schema, create=True)
            upgrade_tenant(connection, schema, revision)
            if stray_table:
                connection.execute(text(f'CREATE TABLE "{schema}"."{stray_table}" (id INTEGER PRIMARY KEY)'))


def _tables(app, schema: str) -> set[str]:
    from tenants.db import bind_schema, db

    with app.app_context(), db.engine.connect() as connection:
        bind_schema(connection, schema)
        return set(inspect(connection).get_table_names(schema=schema))


def _columns(app, schema: str) -> set[tuple[str, str]]:
    from tenants.db import bind_schema, db

    with app.app_context(), db.engine.connect() as connection:
        bind_schema(connection, schema)
        inspector = inspect(connection)
        return {
            (table, column["name"])
            for table in inspector.get_table_names(schema=schema)
            for column in inspector.get_columns(table, schema=schema)
        }


def _versions(app, schemas) -> dict:
    from tenants.migrate import tenant_versions

    with app.app_context():
        return tenant_versions(list(schemas))


def _provision(app, slugs) -> list:
    from tenants.provisioning import NewTenant, provision

    with app.app_context():
        return [provision(NewTenant(slug=slug, name=slug.title())) for slug in slugs]


def _migrate(app):
    return app.test_cli_runner().invoke(args=["tenants", "migrate"])


def test_fifty_tenants_migrate_and_a_second_run_does_nothing(app):
    from tenants.schema import head

    target, previous = head("tenant"), _previous_revision()
    tenants = _provision(app, [f"org{n:02d}" for n in range(50)])
    behind = tenants[::5]  # ten of them one revision behind, spread over the list
    for ref in behind:
        _set_back(app, ref.schema, previous)
    added = _columns(app, tenants[1].schema) - _columns(app, behind[0].schema)
    assert added, "the last migration adds no table nor column"
    assert set(_versions(app, [t.schema for t in tenants]).values()) == {target, previous}

    first = _migrate(app)
    assert first.exit_code == 0, first.output
    assert re.search(r"^40 already at head, 10 upgraded in [\d.]+ s$", first.output, re.M), first.output
    assert _versions(app, [t.schema for t in tenants]) == {t.schema: target for t in tenants}
    for ref in behind:
        assert _columns(app, ref.schema) == _columns(app, tenants[1].schema), ref.slug

    second = _migrate(app)
    assert second.exit_code == 0, second.output
    assert re.search(r"^50 already at head, 0 upgraded in [\d.]+ s$", second.output, re.M), second.output


def test_a_failing_tenant_is_named_and_nothing_is_half_migrated(app):
    from tenants.schema import head

    target, previous = head("tenant"), _previous_revision()
    tenants = _provision(app, ["fine-a", "fine-b", "late-a", "broken", "late-b", "late-c"])
    at_head = [t for t in tenants if t.slug.startswith("fine")]
    late = [t for t in tenants if t.slug.startswith("late")]
    broken = next(t for t in tenants if t.slug == "broken")
    for ref in late:
        _set_back(app, ref.schema, previous)
    old_tables = _tables(app, late[0].schema)
    new_tables = sorted(_tables(app, at_head[0].schema) - old_tables)
    # A table of its own with the name of one the migration creates last: it fails after creating the others.
    stray = new_tables[-1]
    _set_back(app, broken.schema, previous, stray_table=stray)

    result = _migrate(app)
    assert result.exit_code == 1, result.output
    assert "FAILED on tenant broken:" in result.output
    assert stray in result.output  # the database's own complaint names the conflicting table
    assert re.search(r"^2 already at head, \d upgraded in", result.output, re.M), result.output

    # The failed tenant is as it was: its transaction, DDL included, was rolled back.
    assert _versions(app, [broken.schema])[broken.schema] == previous
    assert _tables(app, broken.schema) == old_tables | {stray}
    # The others are at head, or untouched if the failure stopped them from starting: never in between.
    versions = _versions(app, [t.schema for t in tenants])
    for ref in at_head:
        assert versions[ref.schema] == target
    for ref in late:
        expected = old_tables | set(new_tables) if versions[ref.schema] == target else old_tables
        assert versions[ref.schema] in (target, previous)
        assert _tables(app, ref.schema) == expected, ref.slug
    upgraded = int(re.search(r"(\d) upgraded", result.output).group(1))
    assert upgraded == sum(versions[t.schema] == target for t in late)

    # Once repaired, the next run finishes the job.
    from tenants.db import bind_schema, db

    with app.app_context(), db.engine.begin() as connection:
        bind_schema(connection, broken.schema)
        connection.execute(text(f'DROP TABLE "{broken.schema}"."{stray}"'))
    again = _migrate(app)
    assert again.exit_code == 0, again.output
    assert f"already at head, {4 - upgraded} upgraded" in again.output
    assert set(_versions(app, [t.schema for t in tenants]).values()) == {target}


def test_the_platform_migration_encrypts_staff_secrets_and_keeps_organizations_confirmed(tmp_path):
    """From the revision before logins: a staff secret kept in clear is encrypted, an organization made then
    counts as confirmed (it is never deleted as unconfirmed)."""
    from sqlalchemy import text

    from app import create_app
    from blueprints.staff.totp import decrypt_secret
    from tenants.db import db
    from tenants.migrate import upgrade_platform
    from tests.conftest import _base_config

    app = create_app({**_base_config(str(tmp_path)), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    with app.app_context():
        with db.engine.begin() as connection:
            upgrade_platform(connection, "c3c9f62b6171")
            connection.execute(
                text(
                    "INSERT INTO staff (email, name, password_hash, totp_secret, active, session_token, created_at)"
                    " VALUES ('sam@emarge.fr', 'Sam', 'x', 'JBSWY3DPEHPK3PXP', 1, 't', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO tenants (slug, schema, name, status, language, timezone, created_at)"
                    " VALUES ('old', 'tenant_old', 'Old', 'active', 'fr', 'Europe/Paris', '2026-01-01 00:00:00')"
                )
            )
        with db.engine.begin() as connection:
            upgrade_platform(connection)
            stored = connection.execute(text("SELECT totp_secret, totp_last_step FROM staff")).one()
            confirmed = connection.execute(text("SELECT confirmed_at FROM tenants")).scalar()
        assert stored.totp_secret != "JBSWY3DPEHPK3PXP" and stored.totp_last_step is None
        assert decrypt_secret(stored.totp_secret) == "JBSWY3DPEHPK3PXP"
        assert confirmed is not None
        db.engine.dispose()
