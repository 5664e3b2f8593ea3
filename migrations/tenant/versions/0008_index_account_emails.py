"""the tenant's active accounts written to the platform's index of account emails (platform 0007)

Revision ID: 8b5d2f3a1c07
Revises: 7e3b9a1c4d52
Create Date: 2026-12-03 22:30:00
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from tenants.db import PLATFORM, TENANT, real_schema

revision = "8b5d2f3a1c07"
down_revision = "7e3b9a1c4d52"
branch_labels = None
depends_on = None


def _hash(email: str) -> str:
    # The same as blueprints/accounts/email_index.email_hash, frozen here as migrations are.
    return hashlib.sha256(f"emarge-account-email:{email.strip().lower()}".encode()).hexdigest()


def upgrade():
    bind = op.get_bind()
    schema, platform = real_schema(bind, TENANT), real_schema(bind, PLATFORM)
    tenants = sa.table("tenants", sa.column("id"), sa.column("schema"), schema=platform)
    users = sa.table("users", sa.column("email"), sa.column("role"), sa.column("active"), schema=schema)
    index = sa.table(
        "account_emails", sa.column("email_hash"), sa.column("tenant_id"), sa.column("is_admin"), schema=platform
    )
    tenant_id = bind.execute(sa.select(tenants.c.id).where(tenants.c.schema == schema)).scalar()
    if tenant_id is None:
        return  # a schema no tenant row names (a test's spare): nothing to index
    rows = [
        {"email_hash": _hash(email), "tenant_id": tenant_id, "is_admin": role == "admin"}
        for email, role in bind.execute(sa.select(users.c.email, users.c.role).where(users.c.active.is_(True)))
    ]
    bind.execute(sa.delete(index).where(index.c.tenant_id == tenant_id))
    if rows:
        bind.execute(index.insert(), rows)


def downgrade():
    pass  # the platform's table goes with platform 0007's downgrade
