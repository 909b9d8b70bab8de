"""The tables the ingest writes, and its bulk rows: events inserted once each and states updated, per dialect."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite

from shared.equipment.events import DeviceEvent, StatusReport
from shared.equipment.models import DeadLetter, Equipment, EquipmentEvent, EquipmentState
from shared.equipment.state_machine import StationState
from shared.store.types import from_sqlite_text, utcnow

EVENTS: Table = EquipmentEvent.__table__  # type: ignore[attr-defined]
STATES: Table = EquipmentState.__table__  # type: ignore[attr-defined]
EQUIPMENT: Table = Equipment.__table__  # type: ignore[attr-defined]
DEAD: Table = DeadLetter.__table__  # type: ignore[attr-defined]


def _quoted(dialect: Any, names: Iterable[str]) -> str:
    return ", ".join(dialect.identifier_preparer.quote(n) for n in names)


_EVENT_COLUMNS = [c.name for c in EVENTS.columns if c.name != "id"]
_STATE_VALUES = [f.name for f in fields(StationState)][2:]  # every column but the key, in StationState's order


def _pg_insert_events() -> TextClause:
    """One INSERT ... SELECT FROM unnest(one array per column): the same short statement for any batch size.

    SQLAlchemy's multi-row VALUES for a 400-row chunk is ~200 KB of SQL with 6,800 placeholders, which psycopg
    re-parses on every execute (it caches only statements under 4 KB and 50 parameters). The conflict check
    probes the event key's unique index (either half, hence no conflict target), so its cost does not grow with
    the store.
    """
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=dialect)}[])" for c in EVENTS.columns
                       if c.name != "id")  # fmt: skip
    return text(
        f"INSERT INTO {EVENTS.name} ({_quoted(dialect, _EVENT_COLUMNS)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT DO NOTHING RETURNING site, equipment_id, event_id, device_ts"
    )


_PG_INSERT_EVENTS = _pg_insert_events()
_SQLITE_INSERT_EVENTS = (
    f"INSERT INTO {EVENTS.name} ({_quoted(sqlite.dialect(), _EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)}) ON CONFLICT DO NOTHING"
)
# Rows are appended with ids above every stored one (INTEGER PRIMARY KEY, and the batch holds the write lock),
# so the rows this batch inserted are a range of the primary key: cheap whatever the size of the store.
_SQLITE_LAST_ID = f"SELECT max(id) FROM {EVENTS.name}"
_SQLITE_NEW_KEYS = f"SELECT site, equipment_id, event_id, device_ts FROM {EVENTS.name} WHERE id > ?"

EventKey = tuple[str, str, str, datetime | None]
"""What makes an event the same one (the unique key): site, equipment, event id and the device's time (None when
the device sent none; aware datetimes of one instant are equal whatever their zone). A resend repeats the payload,
so it repeats all four (docs/devices.md §5)."""


def event_key(event: DeviceEvent) -> EventKey:
    return event.site, event.equipment_id, event.event_id, event.device_ts


def event_values(event: DeviceEvent) -> tuple[Any, ...]:
    """An event as a tuple in `_EVENT_COLUMNS` order (times as aware datetimes)."""
    metrics = event.metrics
    return (
        event.site, event.equipment_id, event.event_id, event.channel, event.event, event.device_ts,
        event.event_at, event.received_at, event.session_id, event.duration_s, event.code, event.severity,
        event.message, event.by, event.method, None if metrics is None else _metrics_text(metrics), event.source,
    )  # fmt: skip


def _metrics_text(metrics: dict[str, Any]) -> str:
    try:
        return orjson.dumps(metrics).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits: the standard module copes
        return json.dumps(metrics, separators=(",", ":"), ensure_ascii=False)


def insert_event_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> set[EventKey]:
    """Insert event rows, skipping keys already stored (or repeated in `rows`); returns the keys that were new."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        arrays = {name: [row[i] for row in rows] for i, name in enumerate(_EVENT_COLUMNS)}
        return {(site, eq, event_id, ts) for site, eq, event_id, ts in conn.execute(_PG_INSERT_EVENTS, arrays)}
    last = conn.exec_driver_sql(_SQLITE_LAST_ID).scalar() or 0
    bound = [_sqlite_times(row) for row in rows]
    conn.exec_driver_sql(_SQLITE_INSERT_EVENTS, bound)
    sent = {b[5]: row[5] for b, row in zip(bound, rows, strict=True) if row[5] is not None}  # stored text -> time
    return {(site, eq, event_id, None if ts is None else sent.get(ts) or from_sqlite_text(ts))
            for site, eq, event_id, ts in conn.exec_driver_sql(_SQLITE_NEW_KEYS, (last,))}  # fmt: skip


def _sqlite_time(value: datetime | None) -> str | None:
    """UTCDateTime's stored text (the listener's datetimes are UTC already; others are converted)."""
    if value is None:
        return None
    if value.tzinfo is UTC:
        return value.isoformat(" ", "microseconds")[:26]  # without its "+00:00": one call, no copy
    value = value.astimezone(UTC)  # another zone, or naive (taken as local time, as before)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_times(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """An event row with device_ts, event_at and received_at (columns 5 to 7) as stored text; event_at is most
    often the device's time itself (DeviceEvent.event_at), formatted once."""
    device_ts, event_at = _sqlite_time(row[5]), row[6]
    at = device_ts if event_at is row[5] else _sqlite_time(event_at)
    return (*row[:5], device_ts, at, _sqlite_time(row[7]), *row[8:])


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _sqlite_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _update_states_sql(dialect: Any, mark: str) -> str:
    sets = ", ".join(f"{dialect.identifier_preparer.quote(n)} = {mark}" for n in [*_STATE_VALUES, "updated_at"])
    return f"UPDATE {STATES.name} SET {sets} WHERE site = {mark} AND equipment_id = {mark}"


_SQLITE_UPDATE_STATES = _update_states_sql(sqlite.dialect(), "?")
_PG_UPDATE_STATES = _update_states_sql(postgresql.dialect(), "%s")


def write_states(conn: Connection, states: Iterable[StationState]) -> None:
    """Update the state rows of `states` in one executemany (their key columns pick the row)."""
    now = utcnow()
    rows = [(*(getattr(s, n) for n in _STATE_VALUES), now, s.site, s.equipment_id) for s in states]
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
        conn.exec_driver_sql(_SQLITE_UPDATE_STATES, rows)
    else:
        conn.exec_driver_sql(_PG_UPDATE_STATES, rows)


def status_values(report: StatusReport) -> tuple[Any, ...]:
    """An online/offline change as an event row (`_EVENT_COLUMNS` order)."""
    value = "online" if report.online else "offline"
    at = report.received_at
    event_id = f"status-{at.isoformat()}-{value}"
    return (report.site, report.equipment_id, event_id, "status", value, None, at, at, None, None, None, None,
            None, None, None, None, "device")  # fmt: skip
