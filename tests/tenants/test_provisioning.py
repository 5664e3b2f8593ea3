"""Creating and dropping tenants: all or nothing, valid names only, and a schema equal to the migrations'."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import PASSWORD, login

# What provisioning itself does, DDL included: never from a ready blank schema.
pytestmark = pytest.mark.fresh_schema


def _schemas(app) -> set[str]:
    """Tenant schemas present in the database (PostgreSQL) or as files (SQLite)."""
    from tenants.db import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                return set(
                    connection.execute(
                        text(
                            "SELECT schema_name FROM information_schema.schemata "
                            "WHERE schema_name LIKE 'tenant\\_%'"
                        )
                    ).scalars()
                )
        folder = os.path.join(app.instance_path, "tenants")
        return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def _leftovers(app, slug: str) -> list[str]:
    """Whatever of tenant ``slug`` exists: its row, its schema, its file (or its WAL, journal…)."""
    from tenants import find_tenant
    from tenants.provisioning import schema_for

    schema = schema_for(slug)
    with app.app_context():
        found = ["row"] if find_tenant(slug=slug) else []
    return found + sorted(name for name in _schemas(app) if name == schema or name.startswith(schema + "."))


class Boom(Exception):
    pass


def _populate_then(failure):
    from blueprints.accounts.models import ADMIN, User

    def populate(session, ref):
        session.add(User(email="ada@gamma.fr", first_name="Ada", last_name="G", role=ADMIN))
        session.flush()
        failure(session)

    return populate


def _raise(session):
    raise Boom("populate failed")


def _duplicate_email(session):
    from blueprints.accounts.models import User

    session.add(User(email="ada@gamma.fr", first_name="Ada", last_name="Again"))
    session.flush()


@pytest.mark.parametrize("failure", [_raise, _duplicate_email], ids=["python-error", "database-error"])
def test_a_failed_populate_leaves_nothing(app, make_tenant, failure):
    from tenants.provisioning import NewTenant, provision

    make_tenant("acme", admin="ada@acme.fr")
    before = _schemas(app)
    with app.app_context(), pytest.raises(Boom if failure is _raise else IntegrityError):
        provision(NewTenant(slug="gamma", name="Gamma"), _populate_then(failure))
    assert _leftovers(app, "gamma") == []
    assert _schemas(app) == before
    # Nothing half-made blocks a second attempt, and the tenant made before is intact.
    make_tenant("gamma", admin="gus@gamma.fr")
    assert _leftovers(app, "gamma") == ["row", "tenant_gamma" if _is_pg(app) else "tenant_gamma.db"]
    client = app.test_client()
    assert login(client, "gamma", "gus@gamma.fr").status_code == 303
    assert login(app.test_client(), "acme", "ada@acme.fr", PASSWORD).status_code == 303


def _is_pg(app) -> bool:
    from tenants.db import db

    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("ab", "length"),
        ("a" * 41, "length"),
        ("", "length"),
        ("Acme", "charset"),
        ("ac_me", "charset"),
        ("ac me", "charset"),
        ("-acme", "charset"),
        ("acme-", "charset"),
        ("ac--me", "charset"),
        ("1acme", "charset"),
        ("émile", "charset"),
        ("acme.fr", "charset"),
        ("acme\n", "charset"),
        ("admin", "reserved"),
        ("login", "reserved"),
        ("static", "reserved"),
        ("tenants", "reserved"),
        ("sign-in", "reserved"),
        ("abc", None),
        ("a" * 40, None),
        ("acme-2", None),
        ("cfa-paris-13", None),
    ],
)
def test_slug_problem(slug, problem):
    from tenants.provisioning import slug_problem

    assert slug_problem(slug) == problem


def test_every_reserved_slug_is_refused_and_the_apps_own_paths_are_reserved(tmp_path):
    from app import create_app
    from tenants.provisioning import RESERVED_SLUGS, slug_problem

    app = create_app(  # only its URL map is looked at: no database is opened
        {
            "SKIP_ENV": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "REDIS_URL": None,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/platform.db",
        }
    )

    assert all(slug_problem(slug) == "reserved" for slug in RESERVED_SLUGS)
    first_segments = {
        rule.rule.strip("/").split("/")[0]
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/<")
    }
    assert {s for s in first_segments if s} <= RESERVED_SLUGS


def test_provision_refuses_bad_and_taken_slugs(app, make_tenant):
    from tenants.provisioning import NewTenant, ProvisioningError, provision

    make_tenant("acme", admin="ada@acme.fr")
    before = _schemas(app)
    with app.app_context():
        for slug, problem in (
            ("ab", "length"),
            ("Acme", "charset"),
            ("admin", "reserved"),
            ("acme", "taken"),
        ):
            with pytest.raises(ProvisioningError) as caught:
                provision(NewTenant(slug=slug, name="X"))
            assert str(caught.value) == problem
    assert _schemas(app) == before


def test_a_stray_tenant_file_is_never_adopted(backend, request):
    if backend != "sqlite":
        pytest.skip("tenant files exist on SQLite only")
    app = request.getfixturevalue("app")
    from tenants.db import tenant_file
    from tenants.provisioning import NewTenant, ProvisioningError, provision

    path = tenant_file(app.instance_path, "tenant_stray")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").close()
    with app.app_context(), pytest.raises(ProvisioningError, match="taken"):
        provision(NewTenant(slug="stray", name="Stray"))
    assert os.path.exists(path)


def test_drop_removes_row_and_schema(app, make_tenant):
    from tenants import find_tenant
    from tenants.provisioning import drop

    acme = make_tenant("acme", admin="ada@acme.fr")
    make_tenant("other", admin="olga@other.fr")
    client = app.test_client()
    assert login(client, "acme", "ada@acme.fr").status_code == 303
    assert client.get("/acme/").status_code == 200  # the file is attached to a pooled connection
    with app.app_context():
        drop(acme)
    assert _leftovers(app, "acme") == []
    assert client.get("/acme/").status_code == 404
    with app.app_context():
        assert find_tenant(slug="other") is not None
    assert login(app.test_client(), "other", "olga@other.fr").status_code == 303


# --- metadata and migrations build the same schema ------------------------------------------------------------


def _describe(connection, schema: str) -> dict:
    """Tables, columns, keys and indexes of ``schema``, with names that do not depend on the schema's own."""
    inspector = inspect(connection)

    def same_schema(name):
        return None if name in (schema, None) else name

    described = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        pk = inspector.get_pk_constraint(table, schema=schema)
        described[table] = {
            "columns": [
                (c["name"], repr(c["type"]), c["nullable"])
                for c in inspector.get_columns(table, schema=schema)
            ],
            "primary_key": (pk.get("name"), tuple(pk["constrained_columns"])),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table, schema=schema)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table, schema=schema)
            ),
            "foreign_keys": _foreign_keys(connection, inspector, schema, table, same_schema),
        }
    return described


def _foreign_keys(connection, inspector, schema: str, table: str, same_schema) -> list:
    if connection.dialect.name == "sqlite":
        # SQLAlchemy reads a SQLite foreign key's name and ON DELETE from the table's SQL, where a column-level
        # REFERENCES (the only way a migration adds one to an existing SQLite table) hides both; the pragma
        # knows the action, and the names are left out of the comparison.
        rows = connection.exec_driver_sql(f'PRAGMA "{schema}".foreign_key_list("{table}")').all()
        return sorted(
            (None, (row[3],), None, row[2], (row[4],), None if row[6] == "NO ACTION" else row[6])
            for row in rows
        )
    return sorted(
        (
            f["name"],
            tuple(f["constrained_columns"]),
            same_schema(f["referred_schema"]),
            f["referred_table"],
            tuple(f["referred_columns"]),
            (f.get("options") or {}).get("ondelete"),
        )
        for f in inspector.get_foreign_keys(table, schema=schema)
    )


def test_metadata_and_migrations_build_the_same_schema(app, backend):
    from tenants.db import bind_schema, db
    from tenants.migrate import build_tenant, tenant_versions, upgrade_tenant
    from tenants.schema import head

    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:
            build_tenant(connection, "tenant_from_metadata")
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text('CREATE SCHEMA "tenant_from_migrations"'))
            bind_schema(connection, "tenant_from_migrations", create=True)
            upgrade_tenant(connection, "tenant_from_migrations")
        described = {}
        for schema in ("tenant_from_metadata", "tenant_from_migrations"):
            with engine.connect() as connection:
                bind_schema(connection, schema)
                described[schema] = _describe(connection, schema)
        assert tenant_versions(["tenant_from_metadata", "tenant_from_migrations"]) == {
            "tenant_from_metadata": head("tenant"),
            "tenant_from_migrations": head("tenant"),
        }
    from_metadata, from_migrations = described["tenant_from_metadata"], described["tenant_from_migrations"]
    assert "users" in from_metadata and "alembic_version" in from_metadata
    assert sorted(from_metadata) == sorted(from_migrations)
    for table in from_metadata:
        for aspect in from_metadata[table]:
            if aspect != "foreign_keys":
                assert from_metadata[table][aspect] == from_migrations[table][aspect], (
                    f"{table}: {aspect} differ"
                )

    lost = {
        table: (from_metadata[table]["foreign_keys"], from_migrations[table]["foreign_keys"])
        for table in from_metadata
        if from_metadata[table]["foreign_keys"] != from_migrations[table]["foreign_keys"]
    }
    assert lost == {}, f"foreign keys differ: {lost}"
