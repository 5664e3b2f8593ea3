"""the index of tenants with periodic work due

Revision ID: 5b8e0c7d2a41
Revises: 9e4d2f61a0b3
Create Date: 2026-12-03 14:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "5b8e0c7d2a41"
down_revision = "9e4d2f61a0b3"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "tenant_work",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("due_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("noted_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], [fk_target(schema, "tenants.id")], name=op.f("fk_tenant_work_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "kind", name=op.f("pk_tenant_work")),
        schema=schema,
    )
    op.create_index("ix_tenant_work_kind_due_at", "tenant_work", ["kind", "due_at"], unique=False, schema=schema)
    # Filled by the hourly reconcile, which runs at the first tick after the upgrade (its first period is
    # unclaimed), so an existing installation's due work is found within seconds.


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_index("ix_tenant_work_kind_due_at", table_name="tenant_work", schema=schema)
    op.drop_table("tenant_work", schema=schema)
