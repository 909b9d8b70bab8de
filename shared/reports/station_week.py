"""One station's week replayed from its events: its uses' starts and in-use time, out of service, offline.

(Cleaning after each use is the inspector's record, `shared.equipment.cleaning_records`.) The events of the
week, with a day before (a use running at midnight) and after (its stop), are read per station through the
(site, equipment, event time) index, so the report's cost follows the week's events, not the size of the log.
What was true at the week's start (out of service, offline) comes from the station's last such event before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, or_, select

from shared.equipment.ingest_rows import EVENTS
from shared.equipment.models import FAULTS, STATUS  # literal, so the partial indexes' conditions match

WINDOW = timedelta(days=1)  # read this much before and after the week (a use across midnight, a late cleaning)

Interval = tuple[datetime, datetime]


@dataclass(slots=True)
class StationWeek:
    """What the events say about one station over a window."""

    starts: list[datetime] = field(default_factory=list)
    in_use: list[Interval] = field(default_factory=list)
    out_of_service: list[Interval] = field(default_factory=list)
    offline: list[Interval] = field(default_factory=list)


_COLUMNS = ("channel", "event", "event_at", "duration_s", "severity", "code")


def read_station_week(conn: Connection, *, site: str, equipment_id: str, start: datetime, end: datetime) -> StationWeek:
    """Replay the station's events from `start - WINDOW` to `end + WINDOW` (intervals are not clipped)."""
    first, last = start - WINDOW, end + WINDOW
    key = (EVENTS.c.site == site, EVENTS.c.equipment_id == equipment_id)
    query = (
        select(*(EVENTS.c[c] for c in _COLUMNS))
        .where(*key, EVENTS.c.event_at >= first, EVENTS.c.event_at < last, EVENTS.c.channel != "cleaning")
        .order_by(EVENTS.c.event_at, EVENTS.c.id)
    )
    replay = _Replay(until=last)
    replay.carry_in(conn, key, first)
    for row in conn.execute(query):
        replay.apply(*row)
    return replay.finish()


class _Replay:
    """Walks one station's events in time order (the state machine's rules, reduced to what the report needs)."""

    def __init__(self, *, until: datetime) -> None:
        self.week = StationWeek()
        self.until = until
        self.open_since: datetime | None = None  # a use in progress
        self.oos_since: datetime | None = None
        self.fault_code: str | None = None
        self.offline_since: datetime | None = None

    def carry_in(self, conn: Connection, key: tuple[object, ...], before: datetime) -> None:
        """Out of service and offline as they stood at `before` (the last event that decided each)."""
        fault = conn.execute(
            select(EVENTS.c.event, EVENTS.c.code, EVENTS.c.event_at)
            .where(*key, FAULTS, EVENTS.c.event_at < before,  # type: ignore[arg-type]
                   or_(EVENTS.c.event == "cleared", EVENTS.c.severity == "critical"))
            .order_by(EVENTS.c.event_at.desc()).limit(1)
        ).first()  # fmt: skip
        if fault is not None and fault.event == "fault":
            self.oos_since, self.fault_code = before, fault.code
        status = conn.execute(
            select(EVENTS.c.event)
            .where(*key, STATUS, EVENTS.c.event_at < before)  # type: ignore[arg-type]
            .order_by(EVENTS.c.event_at.desc()).limit(1)
        ).first()  # fmt: skip
        if status is not None and status.event == "offline":
            self.offline_since = before

    def apply(
        self, channel: str, event: str, at: datetime, duration_s: float | None, severity: str | None, code: str | None
    ) -> None:
        """One event, in time order."""
        if channel == "usage":
            self._start(at) if event == "start" else self._stop(at, duration_s)
        elif channel == "fault":
            self._fault(event, at, severity, code)
        elif channel == "status":
            if event == "offline" and self.offline_since is None:
                self.offline_since = at
            elif event == "online" and self.offline_since is not None:
                self.week.offline.append((self.offline_since, at))
                self.offline_since = None

    def _start(self, at: datetime) -> None:
        if self.open_since is not None:  # a start while in use closes the open use (its stop was lost)
            self.week.in_use.append((self.open_since, at))
        self.open_since = at
        self.week.starts.append(at)

    def _stop(self, at: datetime, duration_s: float | None) -> None:
        began = at - timedelta(seconds=duration_s) if duration_s is not None else self.open_since
        self.open_since = None
        if began is not None:
            self.week.in_use.append((began, at))

    def _fault(self, event: str, at: datetime, severity: str | None, code: str | None) -> None:
        if event == "cleared":
            if self.oos_since is not None and (code is None or code == self.fault_code):
                self.week.out_of_service.append((self.oos_since, at))
                self.oos_since = self.fault_code = None
        elif severity == "critical" and self.oos_since is None:
            self.oos_since, self.fault_code = at, code
        elif severity == "critical":
            self.fault_code = code

    def finish(self) -> StationWeek:
        """Close what is still open at the end of the window."""
        if self.open_since is not None:
            self.week.in_use.append((self.open_since, self.until))
        if self.oos_since is not None:
            self.week.out_of_service.append((self.oos_since, self.until))
        if self.offline_since is not None:
            self.week.offline.append((self.offline_since, self.until))
        return self.week
