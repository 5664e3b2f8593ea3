"""the platform's statistics table for the staff directory (refreshed by an hourly job in each tenant)

Revision ID: 4f7b2d9e1a56
Revises: 9c2e4a6b8d13
Create Date: 2026-12-04 08:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "4f7b2d9e1a56"
down_revision = "9c2e4a6b8d13"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "tenant_stats",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("signatures_this_month", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("support_access", sa.String(length=20), nullable=False),
        sa.Column("refreshed_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], [fk_target(schema, "tenants.id")], name=op.f("fk_tenant_stats_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_stats")),
        schema=schema,
    )


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_table("tenant_stats", schema=schema)
