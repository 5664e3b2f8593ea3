"""the platform's index of account emails, by hash (filled per tenant by the tenant migration 0008)

Revision ID: 8a4c1e2f7b90
Revises: 6d1a7c3e5f20
Create Date: 2026-12-03 22:30:00
"""

import sqlalchemy as sa
from alembic import op

from tenants.db import PLATFORM, fk_target, real_schema

revision = "8a4c1e2f7b90"
down_revision = "6d1a7c3e5f20"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.create_table(
        "account_emails",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], [fk_target(schema, "tenants.id")], name=op.f("fk_account_emails_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email_hash", "tenant_id", name=op.f("pk_account_emails")),
        schema=schema,
    )
    op.create_index("ix_account_emails_tenant_id", "account_emails", ["tenant_id"], unique=False, schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    op.drop_index("ix_account_emails_tenant_id", table_name="account_emails", schema=schema)
    op.drop_table("account_emails", schema=schema)
