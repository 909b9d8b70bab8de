"""Tables of the records an inspector reads: disinfectants, maintenance plans, the append-only equipment records
and the head of their hash chain (migration 0013)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, Index, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from shared.store.types import BIG_ID, utc_column, utcnow


class Disinfectant(SQLModel, table=True):
    """A disinfectant the clinic keeps, with how long a surface must stay wet with it (its contact time)."""

    __tablename__ = "disinfectant"
    __table_args__ = (UniqueConstraint("name", name="uq_disinfectant_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    contact_min: float
    is_default: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    created_by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})


class MaintenanceTask(SQLModel, table=True):
    """One task of a station's maintenance plan, due every `every_days` days or every `every_hours` in-use hours,
    counted from `since` (its creation or last done) and `since_in_use_seconds` (the station's in-use seconds
    then). With `blocks_use`, an overdue task takes the station out of service until it is done."""

    __tablename__ = "maintenance_task"
    __table_args__ = (
        Index("uq_maintenance_task", "site", "equipment_id", "task", unique=True),
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    equipment_id: str = Field(max_length=64)
    task: str = Field(max_length=200)
    every_days: float | None = None
    every_hours: float | None = None
    blocks_use: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    since: datetime = Field(sa_column=utc_column(nullable=False))
    since_in_use_seconds: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    created_by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})


class EquipmentRecord(SQLModel, table=True):
    """An append-only record (shared/equipment/record_chain.py): a cleaning, maintenance done, out of / back in
    service, or a correction of an earlier record (`corrects`, its `seq`; `void` when it says the record was
    wrong altogether). `seq` is its place in the chain, `prev_hash` its predecessor's hash, `hash` its own."""

    __tablename__ = "equipment_record"
    __table_args__ = (
        Index("uq_equipment_record_seq", "seq", unique=True),
        Index("ix_equipment_record_station", "site", "equipment_id", "kind", "at"),
        Index("ix_equipment_record_at", "at"),
        Index("ix_equipment_record_corrects", "corrects"),
        Index("ix_equipment_record_event", "event_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    site: str = Field(max_length=64)
    equipment_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # cleaning | maintenance | out_of_service | back_in_service | correction
    at: datetime = Field(sa_column=utc_column(nullable=False))  # when it happened
    by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    recorded_at: datetime = Field(sa_column=utc_column(nullable=False))
    event_id: str | None = Field(default=None, max_length=80)  # the equipment_event it came with, if any
    disinfectant: str | None = Field(default=None, max_length=100)
    contact_min: float | None = None
    task_id: int | None = None
    task: str | None = Field(default=None, max_length=200)
    in_use_seconds: float | None = None  # the station's in-use seconds when a maintenance task was done
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    corrects: int | None = Field(default=None, sa_column=Column(BigInteger))
    void: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RecordChainHead(SQLModel, table=True):
    """The chain's one head row (id 1): its last `seq` and `hash`, updated in the appending transaction."""

    __tablename__ = "record_chain_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
