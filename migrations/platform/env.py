"""Alembic environment for the platform schema. Run through tenants.migrate, which hands over a bound connection."""

from alembic import context

from tenants.db import PLATFORM
from tenants.schema import metadata

connection = context.config.attributes["connection"]
# Alembic looks its version table up by reflection, which ignores the schema translation: give the real name.
translate = connection.get_execution_options().get("schema_translate_map", {})
context.configure(
    connection=connection,
    target_metadata=metadata("platform"),
    version_table_schema=translate.get(PLATFORM, PLATFORM),
    include_schemas=True,
    include_name=lambda name, type_, parent: type_ != "schema" or name == PLATFORM,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
