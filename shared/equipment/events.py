"""Messages as the domain sees them, after parsing at the edge: events, status reports and rejects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Channel = Literal["usage", "cleaning", "fault", "status"]
# A device time further ahead than FUTURE_TOLERANCE, or older than MAX_LATENESS (no broker queue keeps a
# message that long), means the device clock is wrong: such events are ordered by when they arrived.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_LATENESS = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """A usage, cleaning or fault event from a device (or a staff action recorded the same way)."""

    site: str
    equipment_id: str
    channel: Channel
    event: str
    event_id: str
    received_at: datetime
    device_ts: datetime | None = None
    session_id: str | None = None
    duration_s: float | None = None
    metrics: dict[str, Any] | None = None
    by: str | None = None
    method: str | None = None
    code: str | None = None
    severity: str | None = None
    message: str | None = None
    source: str = "device"
    topic: str = field(default="", repr=False)  # as received, kept for a dead letter if it must become one
    payload: bytes = field(default=b"", repr=False)

    @property
    def event_at(self) -> datetime:
        """When the event happened, for ordering: the device's time unless its clock is clearly wrong."""
        if self.device_ts is None:
            return self.received_at
        if not self.received_at - MAX_LATENESS <= self.device_ts <= self.received_at + FUTURE_TOLERANCE:
            return self.received_at
        return self.device_ts


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A device's retained `online`/`offline` status (its Last Will says `offline`)."""

    site: str
    equipment_id: str
    online: bool
    received_at: datetime
    topic: str = field(default="", repr=False)
    payload: bytes = field(default=b"", repr=False)

    @property
    def event_at(self) -> datetime:
        """Status carries no device time: it is ordered by when it arrived."""
        return self.received_at


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that cannot be recorded as an event, with the reason; it goes to the dead letters."""

    topic: str
    payload: bytes
    reason: str
    received_at: datetime
    site: str | None = None
    equipment_id: str | None = None


Decoded = DeviceEvent | StatusReport | Rejected


@dataclass(slots=True)
class BatchResult:
    """What one ingest batch did: counts for logs and tests, and rejects when the caller keeps them."""

    inserted: int = 0
    duplicates: int = 0
    status_changes: int = 0
    dead_lettered: int = 0
    rejected: list[Rejected] = field(default_factory=list)
