"""logins bound to server-side records, applied SMS receipts, tasks that keep their job

Revision ID: 5b1e0c7a9d21
Revises: 88c1d56b0628
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, fk_target, real_schema

revision = "5b1e0c7a9d21"
down_revision = "88c1d56b0628"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)  # ALTER statements are not schema-translated
    op.create_table(
        "user_logins",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("remember_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", tenants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("browser", sa.String(length=60), nullable=False),
        sa.Column("system", sa.String(length=60), nullable=False),
        sa.Column("created_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], [fk_target(schema, "users.id")], name=op.f("fk_user_logins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_logins")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_logins_key_hash")),
        schema=schema,
    )
    op.create_index(op.f("ix_user_logins_user_id"), "user_logins", ["user_id"], unique=False, schema=schema)
    op.create_table(
        "sms_receipts",
        sa.Column("id", ID, nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("received_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_receipts")),
        sa.UniqueConstraint("provider_id", "status", name=op.f("uq_sms_receipts_provider_id_status")),
        schema=schema,
    )
    op.create_index(
        op.f("ix_sms_receipts_received_at"), "sms_receipts", ["received_at"], unique=False, schema=schema
    )
    with op.batch_alter_table("tasks", schema=schema) as batch:
        batch.add_column(sa.Column("job", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("job_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("enqueued_at", tenants.db.UTCDateTime(timezone=True), nullable=True))
    # Every session and remember-me cookie issued before is bound to nothing: everyone logs in again once.
    with op.batch_alter_table("users", schema=schema) as batch:
        batch.drop_column("session_token")


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("users", schema=schema) as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=32), nullable=False, server_default="x"))
    with op.batch_alter_table("tasks", schema=schema) as batch:
        batch.drop_column("enqueued_at")
        batch.drop_column("job_id")
        batch.drop_column("job")
    op.drop_index(op.f("ix_sms_receipts_received_at"), table_name="sms_receipts", schema=schema)
    op.drop_table("sms_receipts", schema=schema)
    op.drop_index(op.f("ix_user_logins_user_id"), table_name="user_logins", schema=schema)
    op.drop_table("user_logins", schema=schema)
