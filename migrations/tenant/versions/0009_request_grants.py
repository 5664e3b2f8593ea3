"""support grants made by a support request: for its handler only

Revision ID: 9d6e1f3b2a48
Revises: 8b5d2f3a1c07
Create Date: 2026-12-04 01:10:00
"""

import sqlalchemy as sa
from alembic import op

from tenants.db import TENANT, real_schema

revision = "9d6e1f3b2a48"
down_revision = "8b5d2f3a1c07"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("support_grants", schema=schema) as batch:
        batch.add_column(sa.Column("staff_id", ID, nullable=True))
        batch.add_column(sa.Column("support_request_id", ID, nullable=True))


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("support_grants", schema=schema) as batch:
        batch.drop_column("support_request_id")
        batch.drop_column("staff_id")
