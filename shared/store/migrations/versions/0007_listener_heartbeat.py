"""listener heartbeat

Revision 0007 (after 0006), created 2026-12-06 21:26:29.728583.

One row per listener account: its last sign of life, so the apps can say when recording has stopped
(shared/equipment/recording.py). Self-contained: plain SQLAlchemy types, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "listener_heartbeat",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    """Undo it (downgrades are for development; a clinic restores a backup instead)."""
    op.drop_table("listener_heartbeat")
