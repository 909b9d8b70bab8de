"""station names per language

Revision 0010 (after 0009), created 2026-12-07 00:40:00.

`station_name`: what staff call a station in a language other than the clinic's own (a Spanish-speaking patient
reads "Cinta de correr 1", not "Treadmill 1"), one row per station and language, gone with the station.
Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "station_name",
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site", "equipment_id", "lang"),
    )


def downgrade() -> None:
    """Undo the change."""
    op.drop_table("station_name")
