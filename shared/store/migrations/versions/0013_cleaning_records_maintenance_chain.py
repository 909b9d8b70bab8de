"""cleaning records, maintenance plans and the records' hash chain

Revision 0013 (after 0012), created 2026-12-07 03:30:00.

- `disinfectant`: the short list of disinfectants a clinic keeps, each with its contact time in minutes.
- `maintenance_task`: a station's maintenance plan, one row per task, due every N days or every H in-use hours,
  optionally taking the station out of service while overdue. Each station's `maintenance_interval_hours` becomes
  a task "Maintenance" due every that many in-use hours, counted from its last service.
- `equipment_record`: the append-only records an inspector reads (cleanings, maintenance done, out of / back in
  service, corrections), each carrying the SHA-256 of its predecessor's hash (`prev_hash`) and its own (`hash`).
- `record_chain_head`: one row, the chain's last position and hash, updated in the transaction that appends, so
  concurrent writers queue on it and never fork the chain.

Self-contained: plain SQLAlchemy, nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply the change."""
    op.create_table(
        "disinfectant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact_min", sa.Float(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_disinfectant_name"),
    )
    task = op.create_table(
        "maintenance_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("every_days", sa.Float(), nullable=True),
        sa.Column("every_hours", sa.Float(), nullable=True),
        sa.Column("blocks_use", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since_in_use_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_maintenance_task", "maintenance_task", ["site", "equipment_id", "task"], unique=True)
    op.create_table(
        "equipment_record",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=200), server_default="", nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=True),
        sa.Column("disinfectant", sa.String(length=100), nullable=True),
        sa.Column("contact_min", sa.Float(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("task", sa.String(length=200), nullable=True),
        sa.Column("in_use_seconds", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("corrects", sa.BigInteger(), nullable=True),
        sa.Column("void", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_equipment_record_seq", "equipment_record", ["seq"], unique=True)
    op.create_index("ix_equipment_record_station", "equipment_record", ["site", "equipment_id", "kind", "at"])
    op.create_index("ix_equipment_record_at", "equipment_record", ["at"])
    op.create_index("ix_equipment_record_corrects", "equipment_record", ["corrects"])
    op.create_index("ix_equipment_record_event", "equipment_record", ["event_id"])
    op.create_table(
        "record_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(sa.table("record_chain_head", sa.column("id", sa.Integer()), sa.column("seq", sa.BigInteger()),
                            sa.column("hash", sa.String())), [{"id": 1, "seq": 0, "hash": "0" * 64}])  # fmt: skip
    _interval_tasks(task)


def _interval_tasks(task: sa.Table) -> None:
    """Each station's in-use-hours maintenance interval becomes its task "Maintenance", from its last service."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT e.site, e.id, e.maintenance_interval_hours, s.serviced_at, s.serviced_in_use_seconds "
        "FROM equipment e LEFT JOIN equipment_state s ON s.site = e.site AND s.equipment_id = e.id "
        "WHERE e.maintenance_interval_hours IS NOT NULL"
    )).all()  # fmt: skip
    now = datetime.now(UTC)
    values = [{"site": site, "equipment_id": eid, "task": "Maintenance", "every_days": None, "every_hours": hours,
               "blocks_use": False, "since": _utc(serviced_at) or now, "since_in_use_seconds": seconds or 0.0,
               "created_at": now, "created_by": "migration 0013"}
              for site, eid, hours, serviced_at, seconds in rows]  # fmt: skip
    if values:
        op.bulk_insert(task, values)


def _utc(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns text)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(parsed, datetime)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def downgrade() -> None:
    """Undo it (downgrades are for development; a clinic restores a backup instead)."""
    op.drop_table("record_chain_head")
    for name in ("ix_equipment_record_event", "ix_equipment_record_corrects", "ix_equipment_record_at",
                 "ix_equipment_record_station", "uq_equipment_record_seq"):  # fmt: skip
        op.drop_index(name, table_name="equipment_record")
    op.drop_table("equipment_record")
    op.drop_index("uq_maintenance_task", table_name="maintenance_task")
    op.drop_table("maintenance_task")
    op.drop_table("disinfectant")
