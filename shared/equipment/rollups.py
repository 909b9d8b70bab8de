"""Per-station daily rollups: what each newly stored event adds to its station's day, written once per batch.

Ingest calls `DayTotals.add` only for rows it actually inserted, right after applying the event to the
station's state, and `write` in the same transaction: a redelivered event adds nothing, so the rollups stay
exact, and the charts read a few hundred rows instead of the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy import Connection, Table

from shared.equipment.events import DeviceEvent
from shared.equipment.models import StationDay
from shared.equipment.state_machine import StationState

DAYS: Table = StationDay.__table__  # type: ignore[attr-defined]
_COUNTERS = ("uses", "in_use_seconds", "cleanings", "faults", "uses_needing_cleaning", "cleaned_before_next_use")


@dataclass(slots=True)
class _Day:
    uses: int = 0
    in_use_seconds: float = 0.0
    cleanings: int = 0
    faults: int = 0
    uses_needing_cleaning: int = 0
    cleaned_before_next_use: int = 0
    clean_waits: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Before:
    """The parts of a station's state an event's contribution is measured against."""

    uses_total: int
    in_use_seconds_total: float
    usage_status: str
    needs_cleaning_since: datetime | None
    last_event_at: datetime | None

    @classmethod
    def of(cls, state: StationState) -> Before:
        """Snapshot `state` before an event is applied to it."""
        return cls(state.uses_total, state.in_use_seconds_total, state.usage_status, state.needs_cleaning_since,
                   state.last_event_at)  # fmt: skip


class DayTotals:
    """Contributions of one batch's new events, per (site, station, local day)."""

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._days: dict[tuple[str, str, date], _Day] = {}

    def add(self, event: DeviceEvent, before: Before, after: StationState, *, clean_after_use: bool) -> None:
        """Count `event` (newly stored), given its station's state before and after applying it."""
        at = event.event_at
        key = (event.site, event.equipment_id, at.astimezone(self._tz).date())
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = _Day()
        day.uses += after.uses_total - before.uses_total
        day.in_use_seconds += after.in_use_seconds_total - before.in_use_seconds_total
        channel = event.channel
        if channel == "usage":
            if event.event == "stop" and clean_after_use:
                day.uses_needing_cleaning += 1
        elif channel == "cleaning":
            day.cleanings += 1
            in_order = before.last_event_at is None or at >= before.last_event_at
            if in_order and before.usage_status == "needs_cleaning" and before.needs_cleaning_since is not None:
                day.cleaned_before_next_use += 1
                minutes = max(0.0, (at - before.needs_cleaning_since).total_seconds() / 60)
                day.clean_waits.append(f"{minutes:.3f} ")
        elif channel == "fault" and event.event == "fault":
            day.faults += 1

    def write(self, conn: Connection) -> None:
        """Add this batch's figures to the stored days (one upsert per station-day touched)."""
        if not self._days:
            return
        sqlite = conn.dialect.name == "sqlite"
        rows = [
            (site, equipment_id, day.isoformat() if sqlite else day, d.uses, d.in_use_seconds, d.cleanings,
             d.faults, d.uses_needing_cleaning, d.cleaned_before_next_use, "".join(d.clean_waits))
            for (site, equipment_id, day), d in self._days.items()
        ]  # fmt: skip
        conn.exec_driver_sql(_upsert_sql("?" if sqlite else "%s"), rows)


def _upsert_sql(mark: str) -> str:
    columns = ("site", "equipment_id", "day", *_COUNTERS, "clean_wait_minutes")
    adds = ", ".join(f"{c} = {DAYS.name}.{c} + excluded.{c}" for c in _COUNTERS)
    return (
        f"INSERT INTO {DAYS.name} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)}) "
        f"ON CONFLICT (site, equipment_id, day) DO UPDATE SET {adds}, "
        f"clean_wait_minutes = {DAYS.name}.clean_wait_minutes || excluded.clean_wait_minutes"
    )


def rebuild_days(conn: Connection, *, tz: tzinfo) -> int:
    """Recompute every station's days from the event log (for a store made before rollups existed).

    Each station's events are replayed in event order through the state machine, from a fresh state, exactly
    as ingest would have counted them; returns the number of events replayed. Rows already there are replaced.
    """
    from shared.equipment.models import Equipment, EquipmentEvent
    from shared.equipment.state_machine import apply_event_in_place

    equipment: Table = Equipment.__table__  # type: ignore[attr-defined]
    events: Table = EquipmentEvent.__table__  # type: ignore[attr-defined]
    rules = {(r.site, r.id): bool(r.clean_after_use) for r in conn.execute(equipment.select())}
    conn.execute(DAYS.delete())
    columns = [events.c[n] for n in ("site", "equipment_id", "channel", "event", "event_id", "received_at",
                                     "device_ts", "session_id", "duration_s", "by", "method", "code", "severity",
                                     "message", "source")]  # fmt: skip
    query = events.select().with_only_columns(*columns).order_by(
        events.c.site, events.c.equipment_id, events.c.event_at, events.c.id
    )
    state: StationState | None = None
    days, replayed = DayTotals(tz), 0
    for row in conn.execute(query.execution_options(yield_per=5000)):
        key = (row.site, row.equipment_id)
        if key not in rules:
            continue
        if state is None or (state.site, state.equipment_id) != key:
            state = StationState(*key)
        event = DeviceEvent(**row._asdict())
        before = Before.of(state)
        apply_event_in_place(state, event, clean_after_use=rules[key], tz=tz)
        days.add(event, before, state, clean_after_use=rules[key])
        replayed += 1
    days.write(conn)
    return replayed
