"""Record a batch of decoded messages in one transaction: events once each, state derived from new rows only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Insert, Table, TextClause, select, text
from sqlalchemy.dialects import postgresql, sqlite

from shared.equipment.dead_letter_limits import PER_DEVICE_HOUR, within_quota
from shared.equipment.events import BatchResult, Decoded, DeviceEvent, Rejected, StatusReport
from shared.equipment.models import DeadLetter, Equipment, EquipmentEvent, EquipmentState
from shared.equipment.rollups import Before, DayTotals
from shared.equipment.state_machine import StationState, apply_event_in_place, apply_status
from shared.store.db import write_transaction
from shared.store.types import utcnow

KEPT_PAYLOAD_BYTES = 8 * 1024  # dead letters keep at most this much of a payload (its size is kept too)
_KEY_CHUNK = 400  # keys per IN (...) list, well under SQLite's bound-variable limit

Key = tuple[str, str]

EVENTS: Table = EquipmentEvent.__table__  # type: ignore[attr-defined]
STATES: Table = EquipmentState.__table__  # type: ignore[attr-defined]
EQUIPMENT: Table = Equipment.__table__  # type: ignore[attr-defined]
DEAD: Table = DeadLetter.__table__  # type: ignore[attr-defined]
STATE_COLUMNS = [STATES.c[f.name] for f in fields(StationState)]  # in StationState's order: rows map by position


def record_batch(
    *, engine: Engine, items: Sequence[Decoded], tz: tzinfo, keep_rejects: bool = False,
    dead_letter_quota: int = PER_DEVICE_HOUR,
) -> BatchResult:  # fmt: skip
    """Store `items` atomically; rejects go to the dead letters (within each device's hourly quota) unless
    `keep_rejects` (they are returned). Owns its transaction: the listener's batch, one Core
    `write_transaction` (IMMEDIATE on SQLite)."""
    with write_transaction(engine) as conn:
        return record_batch_in(conn, items, tz=tz, keep_rejects=keep_rejects, dead_letter_quota=dead_letter_quota)


def record_batch_in(
    conn: Connection, items: Sequence[Decoded], *, tz: tzinfo, keep_rejects: bool = False,
    dead_letter_quota: int = PER_DEVICE_HOUR,
) -> BatchResult:  # fmt: skip
    """`record_batch` inside a transaction the caller owns."""
    result = BatchResult()
    rejects = [item for item in items if isinstance(item, Rejected)]
    known = [item for item in items if not isinstance(item, Rejected)]
    keys = {(item.site, item.equipment_id) for item in known}
    clean_rule = _registered(conn, keys)
    states = _lock_states(conn, set(clean_rule))
    for item in known:
        if (item.site, item.equipment_id) not in clean_rule:
            rejects.append(_unknown(item))
    known = [item for item in known if (item.site, item.equipment_id) in clean_rule]

    events = [item for item in known if isinstance(item, DeviceEvent)]
    new_keys = _insert_rows(conn, [_event_values(event) for event in events])
    result.inserted = len(new_keys)
    result.duplicates = len(events) - len(new_keys)

    touched: dict[Key, StationState] = {}
    days = DayTotals(tz)
    status_rows: list[tuple[Any, ...]] = []
    for item in sorted(known, key=lambda it: it.event_at):
        key = (item.site, item.equipment_id)
        state = touched.get(key)
        if state is None:
            state = touched[key] = replace(states[key])  # one working copy per station per batch
        if isinstance(item, DeviceEvent):
            event_key = (item.site, item.equipment_id, item.event_id)
            if event_key not in new_keys:
                continue
            new_keys.discard(event_key)  # a key repeated inside one batch is applied once
            before = Before.of(state)
            apply_event_in_place(state, item, clean_after_use=clean_rule[key], tz=tz)
            days.add(item, before, state, clean_after_use=clean_rule[key])
        else:
            after = apply_status(state, item)
            if after.online != state.online:
                status_rows.append(_status_values(item))
            touched[key] = after
    if status_rows:
        result.status_changes = len(_insert_rows(conn, status_rows))
    _write_states(conn, touched.values())
    days.write(conn)
    result.rejected = rejects
    if not keep_rejects:
        result.dead_lettered = dead_letter(conn, rejects, quota=dead_letter_quota)
    return result


def dead_letter(conn: Connection, rejects: Iterable[Rejected], *, quota: int = PER_DEVICE_HOUR) -> int:
    """Keep rejects with their reason; the same topic and payload again bumps its count (and shows it again)."""
    rows = [_dead_letter_row(r) for r in rejects]
    if not rows:
        return 0
    rows = within_quota(conn, rows, utcnow(), limit=quota)
    stmt = _insert(conn, DEAD)
    excluded = stmt.excluded  # type: ignore[attr-defined]
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[DEAD.c.fingerprint],
        set_={
            "seen_count": DEAD.c.seen_count + excluded.seen_count,  # 1, or what an over-quota row counted
            "last_received_at": excluded.last_received_at,
            "reason": excluded.reason,
            "replayed_at": None,  # it failed again: show it again
        },
    )
    conn.execute(stmt, rows)
    return len(rows)


def fingerprint(topic: str, payload: bytes) -> str:
    """Identity of a dead letter: the same bytes on the same topic are the same message."""
    return hashlib.sha256(topic.encode("utf-8", "surrogateescape") + b"\0" + payload).hexdigest()


def _registered(conn: Connection, keys: set[Key]) -> dict[Key, bool]:
    """Registered equipment among `keys`, with its clean-after-use rule (probes on the primary key)."""
    found: dict[Key, bool] = {}
    for site, ids in _by_site(keys):
        query = select(EQUIPMENT.c.site, EQUIPMENT.c.id, EQUIPMENT.c.clean_after_use).where(
            EQUIPMENT.c.site == site, EQUIPMENT.c.id.in_(ids)
        )
        found.update({(s, eq): bool(rule) for s, eq, rule in conn.execute(query)})
    return found


def _lock_states(conn: Connection, keys: set[Key]) -> dict[Key, StationState]:
    """Load (and on PostgreSQL lock, in key order, so two listeners never deadlock) the state rows."""
    if not keys:
        return {}
    states = _select_states(conn, keys)
    missing = keys - states.keys()
    if missing:  # registration creates the row; this covers equipment inserted by other means
        rows = [{"site": s, "equipment_id": e} for s, e in sorted(missing)]
        conn.execute(_insert(conn, STATES).on_conflict_do_nothing(), rows)  # type: ignore[attr-defined]
        states.update(_select_states(conn, missing))
    return states


def _select_states(conn: Connection, keys: set[Key]) -> dict[Key, StationState]:
    states: dict[Key, StationState] = {}
    for site, ids in _by_site(keys):
        query = (
            select(*STATE_COLUMNS)
            .where(STATES.c.site == site, STATES.c.equipment_id.in_(ids))
            .order_by(STATES.c.equipment_id)
            .with_for_update()
        )
        for row in conn.execute(query):
            states[(row[0], row[1])] = StationState(*row)
    return states


def _by_site(keys: set[Key]) -> Iterable[tuple[str, Sequence[str]]]:
    """Keys grouped by site, in order, in chunks: `site = ? AND id IN (...)` probes the primary key, where a
    row-value IN list of pairs makes SQLite scan the table."""
    by_site: dict[str, list[str]] = {}
    for site, equipment_id in sorted(keys):
        by_site.setdefault(site, []).append(equipment_id)
    for site, ids in by_site.items():
        for chunk in _chunks(ids):
            yield site, chunk


def _quoted(dialect: Any, names: Iterable[str]) -> str:
    return ", ".join(dialect.identifier_preparer.quote(n) for n in names)


_EVENT_COLUMNS = [c.name for c in EVENTS.columns if c.name != "id"]
_STATE_VALUES = [f.name for f in fields(StationState)][2:]  # every column but the key, in StationState's order


def _pg_insert_events() -> TextClause:
    """One INSERT ... SELECT FROM unnest(one array per column): the same short statement for any batch size.

    SQLAlchemy's multi-row VALUES for a 400-row chunk is ~200 KB of SQL with 6,800 placeholders, which psycopg
    re-parses on every execute (it caches only statements under 4 KB and 50 parameters). The conflict check
    probes the unique index, so its cost does not grow with the store.
    """
    dialect = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{c.name} AS {c.type.compile(dialect=dialect)}[])" for c in EVENTS.columns
                       if c.name != "id")  # fmt: skip
    return text(
        f"INSERT INTO {EVENTS.name} ({_quoted(dialect, _EVENT_COLUMNS)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (site, equipment_id, event_id) DO NOTHING RETURNING site, equipment_id, event_id"
    )


_PG_INSERT_EVENTS = _pg_insert_events()
_SQLITE_INSERT_EVENTS = (
    f"INSERT INTO {EVENTS.name} ({_quoted(sqlite.dialect(), _EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)}) ON CONFLICT (site, equipment_id, event_id) DO NOTHING"
)
# Rows are appended with ids above every stored one (INTEGER PRIMARY KEY, and the batch holds the write lock),
# so the rows this batch inserted are a range of the primary key: cheap whatever the size of the store.
_SQLITE_LAST_ID = f"SELECT max(id) FROM {EVENTS.name}"
_SQLITE_NEW_KEYS = f"SELECT site, equipment_id, event_id FROM {EVENTS.name} WHERE id > ?"


def _event_values(event: DeviceEvent) -> tuple[Any, ...]:
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


def _insert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> set[tuple[str, str, str]]:
    """Insert event rows, skipping keys already stored (or repeated in `rows`); returns the keys that were new."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        arrays = {name: [row[i] for row in rows] for i, name in enumerate(_EVENT_COLUMNS)}
        return {(site, eq, event_id) for site, eq, event_id in conn.execute(_PG_INSERT_EVENTS, arrays)}
    last = conn.exec_driver_sql(_SQLITE_LAST_ID).scalar() or 0
    times = (5, 6, 7)  # device_ts, event_at, received_at
    bound = [tuple(_sqlite_time(v) if i in times else v for i, v in enumerate(row)) for row in rows]
    conn.exec_driver_sql(_SQLITE_INSERT_EVENTS, bound)
    return {(site, eq, event_id) for site, eq, event_id in conn.exec_driver_sql(_SQLITE_NEW_KEYS, (last,))}


def _sqlite_time(value: datetime | None) -> str | None:
    """UTCDateTime's stored text (the listener's datetimes are UTC already; others are converted)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


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


def _write_states(conn: Connection, states: Iterable[StationState]) -> None:
    now = utcnow()
    rows = [(*(getattr(s, n) for n in _STATE_VALUES), now, s.site, s.equipment_id) for s in states]
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
        conn.exec_driver_sql(_SQLITE_UPDATE_STATES, rows)
    else:
        conn.exec_driver_sql(_PG_UPDATE_STATES, rows)


def _status_values(report: StatusReport) -> tuple[Any, ...]:
    """An online/offline change as an event row (`_EVENT_COLUMNS` order)."""
    value = "online" if report.online else "offline"
    at = report.received_at
    event_id = f"status-{at.isoformat()}-{value}"
    return (report.site, report.equipment_id, event_id, "status", value, None, at, at, None, None, None, None,
            None, None, None, None, "device")  # fmt: skip


def _unknown(item: DeviceEvent | StatusReport) -> Rejected:
    return Rejected(
        topic=item.topic,
        payload=item.payload,
        reason=f"equipment {item.equipment_id!r} is not registered at site {item.site!r}",
        received_at=item.received_at,
        site=item.site,
        equipment_id=item.equipment_id,
    )


def _dead_letter_row(reject: Rejected) -> dict[str, Any]:
    kept = reject.payload[:KEPT_PAYLOAD_BYTES]
    return {
        "fingerprint": fingerprint(reject.topic, reject.payload),
        "received_at": reject.received_at,
        "last_received_at": reject.received_at,
        "seen_count": 1,
        "topic": reject.topic,
        "payload": kept,
        "payload_size": len(reject.payload),
        "truncated": len(kept) < len(reject.payload),
        "reason": reject.reason,
        "site": reject.site,
        "equipment_id": reject.equipment_id,
    }


def _insert(conn: Connection, table: Table) -> Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


def _chunks(items: Sequence[Any], size: int = _KEY_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
