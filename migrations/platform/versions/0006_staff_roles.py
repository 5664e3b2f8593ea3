"""staff roles and timezones, the platform's staff log, the organizations' end of service and deletion request

Revision ID: 6d1a7c3e5f20
Revises: 5b8e0c7d2a41
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "6d1a7c3e5f20"
down_revision = "5b8e0c7d2a41"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("staff", schema=schema) as batch:
        # Staff made before roles existed ran the whole console: they stay platform admins.
        batch.add_column(sa.Column("role", sa.String(length=20), nullable=False, server_default="platform-admin"))
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="Europe/Paris")
        )
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.add_column(sa.Column("end_of_service_at", tenants.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("deletion_requested_at", tenants.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "staff_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_id", ID, nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_staff_id", ID, nullable=True),
        sa.Column("tenant_id", ID, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], [fk_target(schema, "staff.id")], name=op.f("fk_staff_events_staff_id_staff"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["target_staff_id"], [fk_target(schema, "staff.id")],
            name=op.f("fk_staff_events_target_staff_id_staff"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_events")),
        schema=schema,
    )
    op.create_index("ix_staff_events_at", "staff_events", ["at"], unique=False, schema=schema)
    op.create_index("ix_staff_events_staff_id", "staff_events", ["staff_id"], unique=False, schema=schema)
    op.create_index("ix_staff_events_tenant_id", "staff_events", ["tenant_id"], unique=False, schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_index("ix_staff_events_tenant_id", table_name="staff_events", schema=schema)
    op.drop_index("ix_staff_events_staff_id", table_name="staff_events", schema=schema)
    op.drop_index("ix_staff_events_at", table_name="staff_events", schema=schema)
    op.drop_table("staff_events", schema=schema)
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.drop_column("deletion_requested_at")
        batch.drop_column("end_of_service_at")
    with op.batch_alter_table("staff", schema=schema) as batch:
        batch.drop_column("timezone")
        batch.drop_column("role")
