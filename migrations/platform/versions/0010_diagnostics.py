"""diagnostics: the platform's error groups and their scrubbed reports

Revision ID: 7d3a9c1e5b20
Revises: 4f7b2d9e1a56
Create Date: 2026-12-04 13:10:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "7d3a9c1e5b20"
down_revision = "4f7b2d9e1a56"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "error_groups",
        sa.Column("id", ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("exception", sa.String(length=200), nullable=False),
        sa.Column("where", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("last_seen", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_groups")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_error_groups_fingerprint")),
        schema=schema,
    )
    op.create_index("ix_error_groups_last_seen", "error_groups", ["last_seen"], schema=schema)
    op.create_table(
        "error_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("group_id", ID, nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("where", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("tenant_slug", sa.String(length=40), nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("release", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], [fk_target(schema, "error_groups.id")], name=op.f("fk_error_reports_group_id_error_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_error_reports_reference")),
        schema=schema,
    )
    op.create_index("ix_error_reports_group_id", "error_reports", ["group_id"], schema=schema)
    op.create_index("ix_error_reports_occurred_at", "error_reports", ["occurred_at"], schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_table("error_reports", schema=schema)
    op.drop_table("error_groups", schema=schema)
