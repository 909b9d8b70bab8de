"""Baseline: the schema of the last release before migrations (commit 364688b), as its `create_all` made it.

Revision 0001 (the first). It creates only the tables a store lacks, so that a store made by that release
(tables but no alembic_version) is adopted as this revision and upgraded from here, keeping its rows.
Frozen: never edit it; a change to the models is a new revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _missing(table: str) -> bool:
    """Whether the store lacks `table` (a pre-migration store has them all)."""
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    """Create the release's tables and their indexes, skipping those that exist."""
    if _missing("audit_entry"):
        op.create_table(
            "audit_entry",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("action", sa.String(length=64), nullable=False),
            sa.Column("target", sa.String(length=200), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("audit_entry", schema=None) as batch_op:
            batch_op.create_index("ix_audit_at", ["at"], unique=False)

    if _missing("dead_letter"):
        op.create_table(
            "dead_letter",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
            sa.Column("fingerprint", sa.String(length=64), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("seen_count", sa.Integer(), nullable=False),
            sa.Column("topic", sa.Text(), nullable=False),
            sa.Column("payload", sa.LargeBinary(), nullable=False),
            sa.Column("payload_size", sa.Integer(), nullable=False),
            sa.Column("truncated", sa.Boolean(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("site", sa.String(length=64), nullable=True),
            sa.Column("equipment_id", sa.String(length=64), nullable=True),
            sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("fingerprint"),
        )
        with op.batch_alter_table("dead_letter", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_dead_letter_equipment_id"), ["equipment_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_dead_letter_received_at"), ["received_at"], unique=False)
            batch_op.create_index(batch_op.f("ix_dead_letter_site"), ["site"], unique=False)

    if _missing("equipment"):
        op.create_table(
            "equipment",
            sa.Column("site", sa.String(length=64), nullable=False),
            sa.Column("id", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=64), nullable=False),
            sa.Column("zone", sa.String(length=100), nullable=False),
            sa.Column("clean_after_use", sa.Boolean(), nullable=False),
            sa.Column("maintenance_interval_hours", sa.Float(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("site", "id"),
        )

    if _missing("exercise"):
        op.create_table(
            "exercise",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=120), nullable=False),
            sa.Column("instructions", sa.Text(), nullable=False),
            sa.Column("image_url", sa.String(length=500), nullable=True),
            sa.Column("equipment_kind", sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
        )

    if _missing("patient"):
        op.create_table(
            "patient",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("first_name", sa.String(length=100), nullable=False),
            sa.Column("last_name", sa.String(length=100), nullable=False),
            sa.Column("dob", sa.Date(), nullable=False),
            sa.Column("phone", sa.String(length=40), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )

    if _missing("staff_account"):
        op.create_table(
            "staff_account",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("display_name", sa.String(length=100), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("password_hash", sa.String(length=300), nullable=False),
            sa.Column("failed_attempts", sa.Integer(), nullable=False),
            sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("username"),
        )

    if _missing("appointment"):
        op.create_table(
            "appointment",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=True),
            sa.Column("site", sa.String(length=64), nullable=False),
            sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("minutes", sa.Integer(), nullable=False),
            sa.Column("clinician", sa.String(length=100), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("appointment", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_appointment_patient_id"), ["patient_id"], unique=False)
            batch_op.create_index("ix_appointment_site_start", ["site", "starts_at"], unique=False)

    if _missing("equipment_event"):
        op.create_table(
            "equipment_event",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
            sa.Column("site", sa.String(length=64), nullable=False),
            sa.Column("equipment_id", sa.String(length=64), nullable=False),
            sa.Column("event_id", sa.String(length=80), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("event", sa.String(length=16), nullable=False),
            sa.Column("device_ts", sa.DateTime(timezone=True), nullable=True),
            sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("session_id", sa.String(length=64), nullable=True),
            sa.Column("duration_s", sa.Float(), nullable=True),
            sa.Column("code", sa.String(length=64), nullable=True),
            sa.Column("severity", sa.String(length=16), nullable=True),
            sa.Column("message", sa.Text(), nullable=True),
            sa.Column("by", sa.String(length=200), nullable=True),
            sa.Column("method", sa.String(length=100), nullable=True),
            sa.Column("metrics", sa.Text(), nullable=True),
            sa.Column("source", sa.String(length=16), nullable=False),
            sa.ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("equipment_event", schema=None) as batch_op:
            batch_op.create_index("ix_event_equipment_time", ["site", "equipment_id", "event_at"], unique=False)
            batch_op.create_index("uq_event_key", ["site", "equipment_id", "event_id"], unique=True)

    if _missing("equipment_state"):
        op.create_table(
            "equipment_state",
            sa.Column("site", sa.String(length=64), nullable=False),
            sa.Column("equipment_id", sa.String(length=64), nullable=False),
            sa.Column("usage_status", sa.String(length=32), nullable=False),
            sa.Column("out_of_service", sa.Boolean(), nullable=False),
            sa.Column("online", sa.Boolean(), nullable=True),
            sa.Column("online_changed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("in_use_since", sa.DateTime(timezone=True), nullable=True),
            sa.Column("current_session_id", sa.String(length=64), nullable=True),
            sa.Column("needs_cleaning_since", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_cleaned_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_cleaned_by", sa.String(length=200), nullable=True),
            sa.Column("used_without_cleaning", sa.Integer(), nullable=False),
            sa.Column("fault_code", sa.String(length=64), nullable=True),
            sa.Column("fault_severity", sa.String(length=16), nullable=True),
            sa.Column("fault_message", sa.String(length=500), nullable=True),
            sa.Column("fault_since", sa.DateTime(timezone=True), nullable=True),
            sa.Column("uses_total", sa.Integer(), nullable=False),
            sa.Column("uses_today", sa.Integer(), nullable=False),
            sa.Column("uses_today_date", sa.Date(), nullable=True),
            sa.Column("in_use_seconds_total", sa.Float(), nullable=False),
            sa.Column("serviced_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("serviced_in_use_seconds", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("site", "equipment_id"),
        )

    if _missing("plan_item"):
        op.create_table(
            "plan_item",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=True),
            sa.Column("exercise_id", sa.Integer(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("sets", sa.Integer(), nullable=True),
            sa.Column("reps", sa.Integer(), nullable=True),
            sa.Column("hold_s", sa.Integer(), nullable=True),
            sa.Column("minutes", sa.Float(), nullable=True),
            sa.Column("load", sa.String(length=60), nullable=True),
            sa.Column("equipment_site", sa.String(length=64), nullable=True),
            sa.Column("equipment_id", sa.String(length=64), nullable=True),
            sa.Column("notes", sa.String(length=500), nullable=True),
            sa.Column("active_from", sa.Date(), nullable=False),
            sa.Column("active_to", sa.Date(), nullable=True),
            sa.ForeignKeyConstraint(
                ["exercise_id"],
                ["exercise.id"],
            ),
            sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("plan_item", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_plan_item_patient_id"), ["patient_id"], unique=False)

    if _missing("qr_token"):
        op.create_table(
            "qr_token",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=True),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("failed_dob_attempts", sa.Integer(), nullable=False),
            sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("token_hash"),
        )
        with op.batch_alter_table("qr_token", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_qr_token_patient_id"), ["patient_id"], unique=False)

    if _missing("check_in"):
        op.create_table(
            "check_in",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("site", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("result", sa.String(length=24), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=True),
            sa.Column("appointment_id", sa.Integer(), nullable=True),
            sa.Column("kiosk", sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="SET NULL"),
            sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("check_in", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_check_in_patient_id"), ["patient_id"], unique=False)
            batch_op.create_index("ix_check_in_site_at", ["site", "at"], unique=False)

    if _missing("session_feedback"):
        op.create_table(
            "session_feedback",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("appointment_id", sa.Integer(), nullable=False),
            sa.Column("patient_id", sa.Integer(), nullable=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("pain", sa.Integer(), nullable=False),
            sa.Column("difficulty", sa.String(length=16), nullable=False),
            sa.Column("exercises", sa.Text(), nullable=True),
            sa.CheckConstraint("pain >= 0 AND pain <= 10", name="ck_session_feedback_pain"),
            sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("session_feedback", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_session_feedback_appointment_id"), ["appointment_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_session_feedback_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    """Drop every table (development only)."""
    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_feedback_patient_id"))
        batch_op.drop_index(batch_op.f("ix_session_feedback_appointment_id"))

    op.drop_table("session_feedback")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_site_at")
        batch_op.drop_index(batch_op.f("ix_check_in_patient_id"))

    op.drop_table("check_in")
    with op.batch_alter_table("qr_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qr_token_patient_id"))

    op.drop_table("qr_token")
    with op.batch_alter_table("plan_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_item_patient_id"))

    op.drop_table("plan_item")
    op.drop_table("equipment_state")
    with op.batch_alter_table("equipment_event", schema=None) as batch_op:
        batch_op.drop_index("uq_event_key")
        batch_op.drop_index("ix_event_equipment_time")

    op.drop_table("equipment_event")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_site_start")
        batch_op.drop_index(batch_op.f("ix_appointment_patient_id"))

    op.drop_table("appointment")
    op.drop_table("staff_account")
    op.drop_table("patient")
    op.drop_table("exercise")
    op.drop_table("equipment")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letter_site"))
        batch_op.drop_index(batch_op.f("ix_dead_letter_received_at"))
        batch_op.drop_index(batch_op.f("ix_dead_letter_equipment_id"))

    op.drop_table("dead_letter")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_at")

    op.drop_table("audit_entry")
