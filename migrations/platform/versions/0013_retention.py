"""retention: the verification index keeps a dropped organization's documents (type, dates, fingerprint)

Revision ID: 6a3d2f8e1c95
Revises: 4f2c8a1d9e60
Create Date: 2026-12-04 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import PLATFORM, real_schema

revision = "6a3d2f8e1c95"
down_revision = "4f2c8a1d9e60"
branch_labels = None
depends_on = None

COLUMNS = (
    ("kind", sa.String(length=30)),
    ("sha256", sa.String(length=64)),
    ("size", sa.Integer()),
    ("content_type", sa.String(length=100)),
    ("issued_at", tenants.db.UTCDateTime(timezone=True)),
    ("start_date", sa.Date()),
    ("end_date", sa.Date()),
    ("version", sa.Integer()),
)


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("document_codes", schema=schema) as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("document_codes", schema=schema) as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
