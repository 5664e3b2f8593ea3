"""erasure: a participant erased at their request keeps their row, with when, and how long their attendance
evidence is kept under a legal obligation

Revision ID: 5e1a9c3d7b62
Revises: 3c8e5a7f1b24
Create Date: 2026-12-04 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, real_schema

revision = "5e1a9c3d7b62"
down_revision = "3c8e5a7f1b24"
branch_labels = None
depends_on = None


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("participants", schema=schema) as batch:
        batch.add_column(sa.Column("erased_at", tenants.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("evidence_kept_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("evidence_basis", sa.String(length=200), nullable=True))


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("participants", schema=schema) as batch:
        batch.drop_column("evidence_basis")
        batch.drop_column("evidence_kept_until")
        batch.drop_column("erased_at")
