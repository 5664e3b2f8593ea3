"""support access: the organization's setting and its admins' grants

Revision ID: 7e3b9a1c4d52
Revises: 6c2f1d8b0e34
Create Date: 2026-12-03 22:20:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, fk_target, real_schema

revision = "7e3b9a1c4d52"
down_revision = "6c2f1d8b0e34"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("organization", schema=schema) as batch:
        batch.add_column(
            sa.Column("support_access", sa.String(length=20), nullable=False, server_default="on-request")
        )
    op.create_table(
        "support_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("starts_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", ID, nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", tenants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["granted_by_id"], [fk_target(schema, "users.id")], name=op.f("fk_support_grants_granted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], [fk_target(schema, "users.id")], name=op.f("fk_support_grants_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_grants")),
        schema=schema,
    )
    op.create_index("ix_support_grants_ends_at", "support_grants", ["ends_at"], unique=False, schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    op.drop_index("ix_support_grants_ends_at", table_name="support_grants", schema=schema)
    op.drop_table("support_grants", schema=schema)
    with op.batch_alter_table("organization", schema=schema) as batch:
        batch.drop_column("support_access")
