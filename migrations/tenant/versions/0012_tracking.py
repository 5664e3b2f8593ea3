"""tracking: attendance thresholds and the follow-up rule's settings, the employer contact of an enrolment,
the hours a certificate states, absence justifications and follow-up steps

Revision ID: 8d2b6f4a1e37
Revises: 5e1a9c3d7b62
Create Date: 2026-12-04 22:30:00
"""

import sqlalchemy as sa
from alembic import op

import tenants.db
from tenants.db import TENANT, fk_target, real_schema

revision = "8d2b6f4a1e37"
down_revision = "5e1a9c3d7b62"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = tenants.db.UTCDateTime(timezone=True)

ORGANIZATION = (
    ("attendance_threshold", sa.Integer(), "80"),
    ("risk_absences", sa.Integer(), "2"),
    ("followup_enabled", sa.Boolean(), sa.true()),
    ("followup_absences", sa.Integer(), "2"),
    ("alsace_moselle", sa.Boolean(), sa.false()),
    ("proof_keep_months", sa.Integer(), "12"),
)


def upgrade():
    schema = real_schema(op.get_bind(), TENANT)
    with op.batch_alter_table("organization", schema=schema) as batch:
        for name, kind, default in ORGANIZATION:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
    with op.batch_alter_table("trainings", schema=schema) as batch:
        batch.add_column(sa.Column("attendance_threshold", sa.Integer(), nullable=True))
    with op.batch_alter_table("enrollments", schema=schema) as batch:
        batch.add_column(sa.Column("employer_contact_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("employer_contact_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("documents", schema=schema) as batch:
        batch.add_column(sa.Column("hours", sa.Numeric(7, 2), nullable=True))
    op.create_table(
        "absence_justifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("slot_id", ID, nullable=False),
        sa.Column("participant_id", ID, nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("proof_blob_id", ID, nullable=True),
        sa.Column("proof_content_type", sa.String(length=40), nullable=True),
        sa.Column("recorded_by_user_id", ID, nullable=True),
        sa.Column("submitted_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by_user_id", ID, nullable=True),
        sa.Column("proof_purged_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            [fk_target(schema, "slots.id")],
            name=op.f("fk_absence_justifications_slot_id_slots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            [fk_target(schema, "participants.id")],
            name=op.f("fk_absence_justifications_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence_justifications")),
        sa.UniqueConstraint(
            "slot_id", "participant_id", name=op.f("uq_absence_justifications_slot_id_participant_id")
        ),
        schema=schema,
    )
    for column in ("slot_id", "participant_id", "status"):
        op.create_index(
            f"ix_absence_justifications_{column}", "absence_justifications", [column], schema=schema
        )
    op.create_table(
        "followup_steps",
        sa.Column("id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("participant_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("slot_ids", sa.JSON(), nullable=False),
        sa.Column("told", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            [fk_target(schema, "training_sessions.id")],
            name=op.f("fk_followup_steps_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            [fk_target(schema, "participants.id")],
            name=op.f("fk_followup_steps_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_steps")),
        sa.UniqueConstraint(
            "session_id",
            "participant_id",
            "kind",
            name=op.f("uq_followup_steps_session_id_participant_id_kind"),
        ),
        schema=schema,
    )
    for column in ("session_id", "participant_id"):
        op.create_index(f"ix_followup_steps_{column}", "followup_steps", [column], schema=schema)


def downgrade():
    schema = real_schema(op.get_bind(), TENANT)
    for column in ("session_id", "participant_id"):
        op.drop_index(f"ix_followup_steps_{column}", table_name="followup_steps", schema=schema)
    op.drop_table("followup_steps", schema=schema)
    for column in ("slot_id", "participant_id", "status"):
        op.drop_index(
            f"ix_absence_justifications_{column}", table_name="absence_justifications", schema=schema
        )
    op.drop_table("absence_justifications", schema=schema)
    with op.batch_alter_table("documents", schema=schema) as batch:
        batch.drop_column("hours")
    with op.batch_alter_table("enrollments", schema=schema) as batch:
        batch.drop_column("employer_contact_email")
        batch.drop_column("employer_contact_name")
    with op.batch_alter_table("trainings", schema=schema) as batch:
        batch.drop_column("attendance_threshold")
    with op.batch_alter_table("organization", schema=schema) as batch:
        for name, _kind, _default in reversed(ORGANIZATION):
            batch.drop_column(name)
