"""the event key: the device's time before the event id

Revision 0015 (after 0014), created 2026-12-07 10:30:00.

- `uq_event_key` (site, equipment_id, event_id) is replaced by two partial unique indexes:
  `uq_event_key_timed` (site, equipment_id, device_ts, event_id) for events that carry the device's time, and
  `uq_event_key_untimed` (site, equipment_id, event_id) for those that do not. A resend (the same payload,
  so the same `ts` and `event_id`) is still recognised however old its first copy; an id sent again with
  another time is now a new event (docs/devices.md §5).
- Why: with random event ids (UUIDs) every new row landed on another leaf page of the old index, so at a
  million stored events each committed batch wrote about one index page per message; with the device's time
  first, a station's new keys land together at the end of its part of the index (docs/benchmarks.md, #23).

Every stored row satisfies the new keys, as the old key was stricter. Downgrading recreates the old key, which
fails if an event id was since stored twice with different times; the error says so.

Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMED, UNTIMED = sa.text("device_ts IS NOT NULL"), sa.text("device_ts IS NULL")


def upgrade() -> None:
    """Apply the change."""
    op.create_index("uq_event_key_timed", "equipment_event", ["site", "equipment_id", "device_ts", "event_id"],
                    unique=True, sqlite_where=TIMED, postgresql_where=TIMED)  # fmt: skip
    op.create_index("uq_event_key_untimed", "equipment_event", ["site", "equipment_id", "event_id"],
                    unique=True, sqlite_where=UNTIMED, postgresql_where=UNTIMED)  # fmt: skip
    op.drop_index("uq_event_key", table_name="equipment_event")


def downgrade() -> None:
    """Undo the change (refused when an event id is stored twice with different device times)."""
    twice = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM (SELECT 1 FROM equipment_event GROUP BY site, equipment_id, event_id "
        "HAVING count(*) > 1) AS repeated")).scalar_one()  # fmt: skip
    if twice:
        raise RuntimeError(f"cannot go back before revision 0015: {twice} event ids are stored more than once "
                           "(with different device times), which the older key does not allow")  # fmt: skip
    op.create_index("uq_event_key", "equipment_event", ["site", "equipment_id", "event_id"], unique=True)
    op.drop_index("uq_event_key_untimed", table_name="equipment_event")
    op.drop_index("uq_event_key_timed", table_name="equipment_event")
