"""support sessions and their log, support requests, the platform's delivery log of mail to organizations

Revision ID: 9c2e4a6b8d13
Revises: 8a4c1e2f7b90
Create Date: 2026-12-04 01:10:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "9c2e4a6b8d13"
down_revision = "8a4c1e2f7b90"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "support_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("grant_id", ID, nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("write_reason", sa.String(length=300), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], [fk_target(schema, "staff.id")], name=op.f("fk_support_sessions_staff_id_staff"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_support_sessions_key_hash")),
        schema=schema,
    )
    op.create_index("ix_support_sessions_staff_id", "support_sessions", ["staff_id"], schema=schema)
    op.create_index("ix_support_sessions_tenant_id", "support_sessions", ["tenant_id"], schema=schema)
    op.create_table(
        "support_session_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("support_session_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["support_session_id"], [fk_target(schema, "support_sessions.id")],
            name=op.f("fk_support_session_events_support_session_id_support_sessions"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_session_events")),
        schema=schema,
    )
    op.create_index(
        "ix_support_session_events_support_session_id", "support_session_events", ["support_session_id"],
        schema=schema,
    )
    op.create_table(
        "platform_mails",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("tenant_id", ID, nullable=True),
        sa.Column("notice", sa.String(length=60), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_mails")),
        schema=schema,
    )
    op.create_index("ix_platform_mails_at", "platform_mails", ["at"], schema=schema)
    op.create_index("ix_platform_mails_tenant_id", "platform_mails", ["tenant_id"], schema=schema)
    op.create_table(
        "support_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("user_email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("assigned_staff_id", ID, nullable=True),
        sa.Column("grant_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_staff_id"], [fk_target(schema, "staff.id")],
            name=op.f("fk_support_requests_assigned_staff_id_staff"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_requests")),
        schema=schema,
    )
    for column in ("tenant_id", "state", "assigned_staff_id"):
        op.create_index(f"ix_support_requests_{column}", "support_requests", [column], schema=schema)
    op.create_table(
        "support_request_messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("request_id", ID, nullable=False),
        sa.Column("staff_id", ID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("screenshot", sa.LargeBinary(), nullable=True),
        sa.Column("screenshot_type", sa.String(length=20), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], [fk_target(schema, "support_requests.id")],
            name=op.f("fk_support_request_messages_request_id_support_requests"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], [fk_target(schema, "staff.id")],
            name=op.f("fk_support_request_messages_staff_id_staff"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_request_messages")),
        schema=schema,
    )
    op.create_index(
        "ix_support_request_messages_request_id", "support_request_messages", ["request_id"], schema=schema
    )


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_index("ix_support_request_messages_request_id", table_name="support_request_messages", schema=schema)
    op.drop_table("support_request_messages", schema=schema)
    for column in ("assigned_staff_id", "state", "tenant_id"):
        op.drop_index(f"ix_support_requests_{column}", table_name="support_requests", schema=schema)
    op.drop_table("support_requests", schema=schema)
    op.drop_index("ix_platform_mails_tenant_id", table_name="platform_mails", schema=schema)
    op.drop_index("ix_platform_mails_at", table_name="platform_mails", schema=schema)
    op.drop_table("platform_mails", schema=schema)
    op.drop_index(
        "ix_support_session_events_support_session_id", table_name="support_session_events", schema=schema
    )
    op.drop_table("support_session_events", schema=schema)
    op.drop_index("ix_support_sessions_tenant_id", table_name="support_sessions", schema=schema)
    op.drop_index("ix_support_sessions_staff_id", table_name="support_sessions", schema=schema)
    op.drop_table("support_sessions", schema=schema)
