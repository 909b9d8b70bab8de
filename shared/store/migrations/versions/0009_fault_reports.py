"""fault reports

Revision 0009 (after 0008), created 2026-12-07 00:30:00.

A person's fault report kept with the fault event that took the station out of service: its category (won't start,
display/controls, ...), optional notes and an optional photo's file name (the photo itself lives in the data
folder, shared/equipment/fault_photos.py). Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "fault_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("photo", sa.String(length=64), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_fault_report_event", "fault_report", ["site", "equipment_id", "event_id"], unique=True)


def downgrade() -> None:
    """Undo it (downgrades are for development; a clinic restores a backup instead)."""
    op.drop_index("uq_fault_report_event", table_name="fault_report")
    op.drop_table("fault_report")
