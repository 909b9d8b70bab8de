"""Tables of the native devices: bindings to stations, their inference state, the devices seen, the adapter's
deliveries (to recognise a redelivery) and its outbox (derived events committed before they are published)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKeyConstraint, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from shared.store.types import BIG_ID, utc_column, utcnow


class NativeBinding(SQLModel, table=True):
    """A native device (or one channel or entity of it) feeding a station, with its thresholds."""

    __tablename__ = "native_binding"
    __table_args__ = (
        Index("uq_native_binding_source", "via", "source", "channel", "entity", unique=True),
        Index("ix_native_binding_station", "site", "equipment_id"),
        ForeignKeyConstraint(["site", "equipment_id"], ["equipment.site", "equipment.id"], ondelete="CASCADE"),
        # Never reuse an id (SQLite would after a delete): derived event ids carry it, and a new binding's
        # events must not repeat an old one's, which ingest would take for duplicates.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    equipment_id: str = Field(max_length=64)
    via: str = Field(max_length=16)  # shelly | tasmota | zigbee2mqtt | esphome
    source: str = Field(max_length=64)  # the device's own MQTT name
    channel: str = Field(default="", max_length=16)  # switch or meter number; "" where the dialect has none
    entity: str = Field(default="", max_length=64)  # ESPHome object id; "" where the dialect has none
    role: str = Field(default="usage", max_length=16)  # usage | cleaned | fault
    on_watts: float = 10.0
    off_watts: float = 3.0
    on_hold_s: float = 60.0
    off_hold_s: float = 120.0
    idle_s: float = 120.0
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class NativeState(SQLModel, table=True):
    """One binding's inference state (JSON of `InferenceState`), written with the deliveries that moved it."""

    __tablename__ = "native_state"
    __table_args__ = (ForeignKeyConstraint(["binding_id"], ["native_binding.id"], ondelete="CASCADE"),)

    binding_id: int = Field(primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class NativeSource(SQLModel, table=True):
    """A native device the adapter has heard from, bound or not: what it last said, for the staff app's Devices page."""

    __tablename__ = "native_source"

    via: str = Field(primary_key=True, max_length=16)
    source: str = Field(primary_key=True, max_length=64)
    first_seen: datetime = Field(sa_column=utc_column(nullable=False))
    last_seen: datetime = Field(sa_column=utc_column(nullable=False))
    online: bool | None = None
    messages: int = 0
    last_topic: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    last_payload: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    summary: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    recent: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    # ^ JSON [[epoch s, channel or entity, value], ...]: the last readings (watts or 0/1), for calibration


class NativeDelivery(SQLModel, table=True):
    """The last message committed under each packet id of the adapter's session: a redelivery (DUP flag, same
    packet id, same topic and payload) of a message already committed is recognised and not applied again."""

    __tablename__ = "native_delivery"

    client_id: str = Field(primary_key=True, max_length=128)
    mid: int = Field(primary_key=True)
    fingerprint: str = Field(max_length=64)


class NativeOutbox(SQLModel, table=True):
    """A derived contract message committed with the state that produced it, deleted once the broker has it."""

    __tablename__ = "native_outbox"

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True, autoincrement=True))
    topic: str = Field(sa_column=Column(Text, nullable=False))
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    retain: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
