"""home exercise log and alerts

Revision 0011 (after 0010), created 2026-12-07 03:40:00.

The home-exercise loop: `plan_share` gains lasting take-home links (`lasting`, and `sealed_token`, the token
encrypted so `clinic plan link` can show it again); `exercise_log` (a plan line done on a local day, once),
`home_pain` (the pain given on the take-home page, one a day), `link_write` (a link's writes of the last minute,
its rate limit) and `patient_alert` (a high pain or a "very hard" session, open until staff acknowledge it; one
open alert per patient). Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the change."""
    with op.batch_alter_table("plan_share", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lasting", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("sealed_token", sa.String(length=255), nullable=True))
    op.create_table(
        "exercise_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_item_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_item_id"], ["plan_item.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["share_id"], ["plan_share.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_item_id", "day", name="uq_exercise_log_item_day"),
    )
    op.create_index("ix_exercise_log_patient_day", "exercise_log", ["patient_id", "day"], unique=False)
    op.create_table(
        "home_pain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("pain >= 0 AND pain <= 10", name="ck_home_pain_pain"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["share_id"], ["plan_share.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "day", name="uq_home_pain_patient_day"),
    )
    op.create_table(
        "link_write",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["share_id"], ["plan_share.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_link_write_share_at", "link_write", ["share_id", "at"], unique=False)
    op.create_table(
        "patient_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_patient_alert_raised_at", "patient_alert", ["raised_at"], unique=False)
    op.create_index("uq_patient_alert_open", "patient_alert", ["patient_id"], unique=True,
                    sqlite_where=sa.text("acknowledged_at IS NULL"),
                    postgresql_where=sa.text("acknowledged_at IS NULL"))  # fmt: skip


def downgrade() -> None:
    """Undo the change."""
    op.drop_index("uq_patient_alert_open", table_name="patient_alert")
    op.drop_index("ix_patient_alert_raised_at", table_name="patient_alert")
    op.drop_table("patient_alert")
    op.drop_index("ix_link_write_share_at", table_name="link_write")
    op.drop_table("link_write")
    op.drop_table("home_pain")
    op.drop_index("ix_exercise_log_patient_day", table_name="exercise_log")
    op.drop_table("exercise_log")
    with op.batch_alter_table("plan_share", schema=None) as batch_op:
        batch_op.drop_column("sealed_token")
        batch_op.drop_column("lasting")
