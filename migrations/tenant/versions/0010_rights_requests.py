"""personal-data requests: what a person asks, when it came, its deadline and its answer

Revision ID: 3c8e5a7f1b24
Revises: 9d6e1f3b2a48
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, fk_target, real_schema

revision = "3c8e5a7f1b24"
down_revision = "9d6e1f3b2a48"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    op.create_table(
        "rights_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("participant_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("answered_by", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            [fk_target(schema, "participants.id")],
            name=op.f("fk_rights_requests_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [fk_target(schema, "users.id")],
            name=op.f("fk_rights_requests_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_requests")),
        schema=schema,
    )
    for column in ("participant_id", "user_id", "due_on", "status"):
        op.create_index(f"ix_rights_requests_{column}", "rights_requests", [column], schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    for column in ("participant_id", "user_id", "due_on", "status"):
        op.drop_index(f"ix_rights_requests_{column}", table_name="rights_requests", schema=schema)
    op.drop_table("rights_requests", schema=schema)
