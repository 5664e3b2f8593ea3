"""changelog: entries staff publish in French and English, and when each user last opened them

Revision ID: 9b1e6d4c2a73
Revises: 7d3a9c1e5b20
Create Date: 2026-12-04 17:55:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "9b1e6d4c2a73"
down_revision = "7d3a9c1e5b20"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "changelog_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("title_fr", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_fr", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            [fk_target(schema, "staff.id")],
            name=op.f("fk_changelog_entries_created_by_staff"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changelog_entries")),
        schema=schema,
    )
    op.create_index(
        "ix_changelog_entries_published_on", "changelog_entries", ["published_on"], schema=schema
    )
    op.create_table(
        "changelog_reads",
        sa.Column("tenant_id", ID, nullable=False, autoincrement=False),
        sa.Column("user_id", ID, nullable=False, autoincrement=False),
        sa.Column("seen_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_changelog_reads")),
        schema=schema,
    )


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_table("changelog_reads", schema=schema)
    op.drop_index("ix_changelog_entries_published_on", table_name="changelog_entries", schema=schema)
    op.drop_table("changelog_entries", schema=schema)
