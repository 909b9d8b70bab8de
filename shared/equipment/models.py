"""Tables of the telemetry store: equipment, its current state, the raw event log, daily rollups, dead letters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKeyConstraint, Index, LargeBinary, String, Text, text
from sqlmodel import Field, SQLModel

from shared.store.types import BIG_ID, utc_column, utcnow


class Equipment(SQLModel, table=True):
    """A station in the therapy gym, identified by site and id (the id is also its MQTT topic level)."""

    __tablename__ = "equipment"

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(default="other", max_length=64)
    zone: str = Field(default="", max_length=100)
    clean_after_use: bool = True
    maintenance_interval_hours: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class EquipmentState(SQLModel, table=True):
    """The current state of one station, kept up to date by ingest so the board never scans the log."""

    __tablename__ = "equipment_state"
    __table_args__ = (
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    site: str = Field(primary_key=True, max_length=64)
    equipment_id: str = Field(primary_key=True, max_length=64)
    usage_status: str = Field(default="available", max_length=32)  # available | in_use | needs_cleaning
    out_of_service: bool = False
    online: bool | None = None
    online_changed_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_seen: datetime | None = Field(default=None, sa_column=utc_column())
    last_event_at: datetime | None = Field(default=None, sa_column=utc_column())
    in_use_since: datetime | None = Field(default=None, sa_column=utc_column())
    current_session_id: str | None = Field(default=None, max_length=64)
    needs_cleaning_since: datetime | None = Field(default=None, sa_column=utc_column())
    last_cleaned_at: datetime | None = Field(default=None, sa_column=utc_column())
    last_cleaned_by: str | None = Field(default=None, max_length=200)
    used_without_cleaning: int = 0
    fault_code: str | None = Field(default=None, max_length=64)
    fault_severity: str | None = Field(default=None, max_length=16)
    fault_message: str | None = Field(default=None, max_length=500)
    fault_since: datetime | None = Field(default=None, sa_column=utc_column())
    uses_total: int = 0
    uses_today: int = 0
    uses_today_date: date | None = None
    in_use_seconds_total: float = 0.0
    closed_by_start_from: datetime | None = Field(default=None, sa_column=utc_column())  # see StationState
    closed_by_start_at: datetime | None = Field(default=None, sa_column=utc_column())
    closed_by_start_session: str | None = Field(default=None, max_length=64)
    serviced_at: datetime | None = Field(default=None, sa_column=utc_column())
    serviced_in_use_seconds: float = 0.0  # in-use seconds at the last service: maintenance is due from here
    updated_at: datetime | None = Field(default=None, sa_column=utc_column())


FAULTS, STATUS = text("channel = 'fault'"), text("channel = 'status'")  # the partial indexes' rows
TIMED, UNTIMED = text("device_ts IS NOT NULL"), text("device_ts IS NULL")  # the two halves of the event key


class EquipmentEvent(SQLModel, table=True):
    """One device (or staff) event, stored exactly once thanks to its unique key: (site, equipment, device time,
    event id) when the device sent a time, else (site, equipment, event id) (docs/devices.md §5).

    The device's time leads the key so that each station's new keys land together at the end of its part of the
    index: a random event id alone (a UUID) put every new row on another page of a large index, which made
    every commit write about one index page per message (docs/benchmarks.md, issue #23)."""

    __tablename__ = "equipment_event"
    __table_args__ = (
        Index("uq_event_key_timed", "site", "equipment_id", "device_ts", "event_id", unique=True,
              sqlite_where=TIMED, postgresql_where=TIMED),
        Index("uq_event_key_untimed", "site", "equipment_id", "event_id", unique=True,
              sqlite_where=UNTIMED, postgresql_where=UNTIMED),
        Index("ix_event_equipment_time", "site", "equipment_id", "event_at"),
        # The last fault / status change before a time, in one probe (the weekly report's look-back): small
        # partial indexes, touched only by those rare rows.
        Index("ix_event_fault_time", "site", "equipment_id", "event_at", sqlite_where=FAULTS, postgresql_where=FAULTS),
        Index("ix_event_status_time", "site", "equipment_id", "event_at", sqlite_where=STATUS, postgresql_where=STATUS),
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    site: str = Field(max_length=64)
    equipment_id: str = Field(max_length=64)
    event_id: str = Field(max_length=80)
    channel: str = Field(max_length=16)  # usage | cleaning | fault | status | correction (undo.py)
    event: str = Field(max_length=16)
    device_ts: datetime | None = Field(default=None, sa_column=utc_column())
    event_at: datetime = Field(sa_column=utc_column(nullable=False))
    received_at: datetime = Field(sa_column=utc_column(nullable=False))
    session_id: str | None = Field(default=None, max_length=64)
    duration_s: float | None = None
    code: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=16)
    message: str | None = Field(default=None, sa_column=Column(Text))
    by: str | None = Field(default=None, max_length=200)
    method: str | None = Field(default=None, max_length=100)
    metrics: str | None = Field(default=None, sa_column=Column(Text))  # JSON text as the device sent it
    source: str = Field(default="device", max_length=16)


class StationDay(SQLModel, table=True):
    """One station's figures for one local day, kept by ingest in the batch's transaction from the rows it
    inserted (so a redelivery adds nothing): the usage and cleaning charts read these, not the event log."""

    __tablename__ = "station_day"
    __table_args__ = (
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    site: str = Field(primary_key=True, max_length=64)
    equipment_id: str = Field(primary_key=True, max_length=64)
    day: date = Field(sa_column=Column(Date, primary_key=True))  # in the clinic's time zone (CLINIC_TIMEZONE)
    uses: int = 0  # usage starts
    in_use_seconds: float = 0.0  # what the day's events added to the station's in-use seconds
    cleanings: int = 0
    faults: int = 0  # fault events raised (not clears)
    uses_needing_cleaning: int = 0  # stops at a station that must be cleaned after use
    cleaned_before_next_use: int = 0  # cleanings that ended a "needs cleaning" wait
    clean_wait_minutes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # ^ each such wait in minutes, space-separated: the median needs the values, and a day has a handful


class DeadLetter(SQLModel, table=True):
    """A message that could not be recorded, kept with the reason so it is never silently lost."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    fingerprint: str = Field(max_length=64, unique=True)  # sha256 of topic + payload: a redelivery is one row
    received_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    last_received_at: datetime = Field(sa_column=utc_column(nullable=False))
    seen_count: int = 1
    topic: str = Field(sa_column=Column(Text, nullable=False))
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    payload_size: int
    truncated: bool = False
    reason: str = Field(sa_column=Column(Text, nullable=False))  # for people: may be reworded
    code: str = Field(default="other", sa_column=Column(String(32), nullable=False, server_default="other", index=True))
    # ^ the reason's stable code (`shared.equipment.payloads.ReasonCode`): what code matches on, never the text
    site: str | None = Field(default=None, max_length=64, index=True)
    equipment_id: str | None = Field(default=None, max_length=64, index=True)
    replayed_at: datetime | None = Field(default=None, sa_column=utc_column())


class FaultReport(SQLModel, table=True):
    """A person's fault report (shared/equipment/faults.py): what kind of fault, their notes and an optional photo,
    kept with the fault event that took the station out of service (`event_id`)."""

    __tablename__ = "fault_report"
    __table_args__ = (
        Index("uq_fault_report_event", "site", "equipment_id", "event_id", unique=True),
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    equipment_id: str = Field(max_length=64)
    event_id: str = Field(max_length=80)  # the fault event's, as in equipment_event
    category: str = Field(max_length=32)  # a key of shared.equipment.faults.CATEGORIES
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    photo: str | None = Field(default=None, max_length=64)  # a file name under <data dir>/fault-photos
    by: str = Field(max_length=200)
    at: datetime = Field(sa_column=utc_column(nullable=False))  # the fault event's time (the station's fault_since)
