"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, fk_target, real_schema
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)  # ALTER statements are not schema-translated
    ${upgrades if upgrades else "pass"}


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    ${downgrades if downgrades else "pass"}
