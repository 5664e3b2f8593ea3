"""every slot has its signing state from the start: pages no longer make it on first view

Revision ID: 6c2f1d8b0e34
Revises: 5b1e0c7a9d21
Create Date: 2026-12-03 10:00:00
"""

import secrets

import sqlalchemy as sa
from alembic import op

from tenants.db import TENANT, real_schema

revision = "6c2f1d8b0e34"
down_revision = "5b1e0c7a9d21"
branch_labels = None
depends_on = None


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    slots = sa.table("slots", sa.column("id"), schema=schema)
    states = sa.table("slot_states", sa.column("slot_id"), sa.column("room_secret"), schema=schema)
    bind = op.get_bind()
    missing = bind.execute(
        sa.select(slots.c.id).where(slots.c.id.not_in(sa.select(states.c.slot_id))).order_by(slots.c.id)
    ).scalars()
    rows = [{"slot_id": slot_id, "room_secret": secrets.token_hex(32)} for slot_id in missing]
    if rows:
        bind.execute(states.insert(), rows)


def downgrade():
    pass  # the rows stay valid: the code before this made the same ones on first view
