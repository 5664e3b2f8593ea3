"""breach register: incidents, their appended updates, the organizations they affect, and each notice

Revision ID: 4f2c8a1d9e60
Revises: 9b1e6d4c2a73
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "4f2c8a1d9e60"
down_revision = "9b1e6d4c2a73"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)


def _staff(schema, table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [fk_target(schema, "staff.id")], name=op.f(f"fk_{table}_{column}_staff"), ondelete="RESTRICT"
    )


def _breach(schema, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["breach_id"],
        [fk_target(schema, "breaches.id")],
        name=op.f(f"fk_{table}_breach_id_breaches"),
        ondelete="RESTRICT",
    )


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "breaches",
        sa.Column("id", ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("discovered_at", WHEN, nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("recorded_by", ID, nullable=False),
        sa.Column("nature", sa.JSON(), nullable=False),
        sa.Column("data_categories", sa.Text(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=True),
        sa.Column("records_count", sa.Integer(), nullable=True),
        sa.Column("all_organizations", sa.Boolean(), nullable=False),
        sa.Column("consequences", sa.Text(), nullable=False),
        sa.Column("measures_taken", sa.Text(), nullable=False),
        sa.Column("measures_proposed", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("not_notified_reason", sa.Text(), nullable=True),
        sa.Column("not_notified_at", WHEN, nullable=True),
        sa.Column("not_notified_by", ID, nullable=True),
        _staff(schema, "breaches", "recorded_by"),
        _staff(schema, "breaches", "not_notified_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaches")),
        schema=schema,
    )
    op.create_index("ix_breaches_discovered_at", "breaches", ["discovered_at"], schema=schema)
    op.create_table(
        "breach_updates",
        sa.Column("id", ID, nullable=False),
        sa.Column("breach_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=True),
        sa.Column("records_count", sa.Integer(), nullable=True),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        _breach(schema, "breach_updates"),
        _staff(schema, "breach_updates", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_updates")),
        sa.UniqueConstraint("breach_id", "seq", name=op.f("uq_breach_updates_breach_id_seq")),
        schema=schema,
    )
    op.create_index("ix_breach_updates_breach_id", "breach_updates", ["breach_id"], schema=schema)
    op.create_table(
        "breach_organizations",
        sa.Column("breach_id", ID, nullable=False, autoincrement=False),
        sa.Column("tenant_id", ID, nullable=False, autoincrement=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _breach(schema, "breach_organizations"),
        sa.PrimaryKeyConstraint("breach_id", "tenant_id", name=op.f("pk_breach_organizations")),
        schema=schema,
    )
    op.create_table(
        "breach_notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("breach_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("queued_by", ID, nullable=False),
        sa.Column("attempted_at", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=300), nullable=True),
        sa.Column("viewed_at", WHEN, nullable=True),
        sa.Column("viewed_by", ID, nullable=True),
        sa.Column("acknowledged_at", WHEN, nullable=True),
        sa.Column("acknowledged_by", ID, nullable=True),
        sa.Column("acknowledged_by_name", sa.String(length=200), nullable=True),
        _breach(schema, "breach_notices"),
        _staff(schema, "breach_notices", "queued_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_notices")),
        sa.UniqueConstraint(
            "breach_id", "seq", "tenant_id", name=op.f("uq_breach_notices_breach_id_seq_tenant_id")
        ),
        schema=schema,
    )
    op.create_index(
        "ix_breach_notices_tenant_acknowledged",
        "breach_notices",
        ["tenant_id", "acknowledged_at"],
        schema=schema,
    )


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_index("ix_breach_notices_tenant_acknowledged", table_name="breach_notices", schema=schema)
    op.drop_table("breach_notices", schema=schema)
    op.drop_table("breach_organizations", schema=schema)
    op.drop_index("ix_breach_updates_breach_id", table_name="breach_updates", schema=schema)
    op.drop_table("breach_updates", schema=schema)
    op.drop_index("ix_breaches_discovered_at", table_name="breaches", schema=schema)
    op.drop_table("breaches", schema=schema)
