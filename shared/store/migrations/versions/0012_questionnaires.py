"""questionnaires: definitions a clinic loads, when each is due per patient, and the answers with their score

Revision 0012 (after 0011), created 2026-12-07 03:30:00.

`questionnaire`: a FHIR R4 Questionnaire a clinic added (`clinic questionnaire add`; the shipped ones are files in
the package), with its scoring rule inside. `questionnaire_assignment`: which questionnaire a patient is asked and
when (every N visits, every N days, at intake, at discharge), one row per patient and questionnaire.
`questionnaire_response`: the answers, kept while in progress against the visit's appointment (so the lobby
resumes after a reset), then completed with the score, or skipped ("Ask me at the desk").
Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "questionnaire",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "questionnaire_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("every_visits", sa.Integer(), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("at_intake", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("discharge_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activities", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "questionnaire", name="uq_questionnaire_assignment_patient"),
    )
    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("asked", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", "questionnaire", name="uq_questionnaire_response_visit"),
    )
    op.create_index("ix_questionnaire_response_patient", "questionnaire_response",
                    ["patient_id", "questionnaire", "authored_at"])  # fmt: skip


def downgrade() -> None:
    """Undo the change."""
    op.drop_index("ix_questionnaire_response_patient", table_name="questionnaire_response")
    op.drop_table("questionnaire_response")
    op.drop_table("questionnaire_assignment")
    op.drop_table("questionnaire")
