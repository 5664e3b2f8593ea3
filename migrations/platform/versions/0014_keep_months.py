"""retention: an organization may choose a shorter period than the 3 years after its end of service

Revision ID: 7b4e1c9a2d36
Revises: 6a3d2f8e1c95
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

from tenants.db import PLATFORM, real_schema

revision = "7b4e1c9a2d36"
down_revision = "6a3d2f8e1c95"
branch_labels = None
depends_on = None


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.add_column(sa.Column("keep_months", sa.Integer(), nullable=True))


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.drop_column("keep_months")
