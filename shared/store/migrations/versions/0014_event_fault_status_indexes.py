"""the weekly report's look-back: partial indexes on fault and status events

Revision 0014 (after 0013), created 2026-12-07 03:50:00.

- `ix_event_fault_time` and `ix_event_status_time`: (site, equipment_id, event_at) of the `fault` and of the
  `status` events only. The weekly report asks, per station, for the last fault and the last status change before
  the week (was it out of service, or offline, when the week began?): through these small indexes that is one
  probe, where the event log's own index would walk back through every use since. Only fault and status rows
  (a few in a thousand) touch them on insert.

Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["site", "equipment_id", "event_at"]


def upgrade() -> None:
    """Apply the change."""
    for name, channel in (("ix_event_fault_time", "fault"), ("ix_event_status_time", "status")):
        where = sa.text(f"channel = '{channel}'")
        op.create_index(name, "equipment_event", COLUMNS, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    """Undo the change."""
    op.drop_index("ix_event_status_time", table_name="equipment_event")
    op.drop_index("ix_event_fault_time", table_name="equipment_event")
