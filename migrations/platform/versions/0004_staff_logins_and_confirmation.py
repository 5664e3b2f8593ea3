"""staff logins, single-use authenticator codes with encrypted secrets, organizations' confirmation

Revision ID: 9e4d2f61a0b3
Revises: c3c9f62b6171
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

import tenants.db
from tenants.db import PLATFORM, fk_target, real_schema

revision = "9e4d2f61a0b3"
down_revision = "c3c9f62b6171"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    schema = real_schema(op.get_bind(), PLATFORM)  # ALTER statements are not schema-translated
    op.create_table(
        "staff_logins",
        sa.Column("id", ID, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("browser", sa.String(length=60), nullable=False),
        sa.Column("system", sa.String(length=60), nullable=False),
        sa.Column("created_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tenants.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], [fk_target(schema, "staff.id")], name=op.f("fk_staff_logins_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_logins")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_staff_logins_key_hash")),
        schema=schema,
    )
    op.create_index(op.f("ix_staff_logins_staff_id"), "staff_logins", ["staff_id"], unique=False, schema=schema)
    with op.batch_alter_table("staff", schema=schema) as batch:
        batch.drop_column("session_token")
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch.alter_column("totp_secret", type_=sa.String(length=255), existing_nullable=False)
    # The authenticator secrets, kept in clear until now, are encrypted under the app's key.
    from blueprints.staff.totp import encrypt_secret

    staff = sa.table("staff", sa.column("id"), sa.column("totp_secret"), schema=schema)
    bind = op.get_bind()
    for ident, secret in bind.execute(sa.select(staff.c.id, staff.c.totp_secret)).all():
        bind.execute(
            staff.update()
            .where(staff.c.id == ident)
            .values(totp_secret=encrypt_secret(secret, current_app.config))
        )
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.add_column(sa.Column("confirmed_at", tenants.db.UTCDateTime(timezone=True), nullable=True))
    # Organizations made before this revision were accepted without the rule: they count as confirmed.
    tenants_table = sa.table("tenants", sa.column("confirmed_at"), sa.column("created_at"), schema=schema)
    bind.execute(tenants_table.update().values(confirmed_at=tenants_table.c.created_at))


def downgrade():
    schema = real_schema(op.get_bind(), PLATFORM)
    with op.batch_alter_table("tenants", schema=schema) as batch:
        batch.drop_column("confirmed_at")
    from blueprints.staff.totp import decrypt_secret

    staff = sa.table("staff", sa.column("id"), sa.column("totp_secret"), schema=schema)
    bind = op.get_bind()
    for ident, stored in bind.execute(sa.select(staff.c.id, staff.c.totp_secret)).all():
        bind.execute(
            staff.update().where(staff.c.id == ident).values(totp_secret=decrypt_secret(stored, current_app.config))
        )
    with op.batch_alter_table("staff", schema=schema) as batch:
        batch.alter_column("totp_secret", type_=sa.String(length=64), existing_nullable=False)
        batch.drop_column("totp_last_step")
        batch.add_column(sa.Column("session_token", sa.String(length=32), nullable=False, server_default="x"))
    op.drop_index(op.f("ix_staff_logins_staff_id"), table_name="staff_logins", schema=schema)
    op.drop_table("staff_logins", schema=schema)
