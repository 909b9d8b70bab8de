"""Record a batch of decoded messages in one transaction: events once each, state derived from new rows only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, and_, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.db import write_transaction
from shared.equipment import StationState, apply_event, apply_status
from shared.events import BatchResult, Decoded, DeviceEvent, Rejected, StatusReport
from shared.models import DeadLetter, Equipment, EquipmentEvent, EquipmentState, utcnow

KEPT_PAYLOAD_BYTES = 64 * 1024  # dead letters keep at most this much of a payload
_KEY_CHUNK = 400  # keys per IN (...) list, well under SQLite's bound-variable limit

Key = tuple[str, str]

EVENTS: Table = EquipmentEvent.__table__  # type: ignore[attr-defined]
STATES: Table = EquipmentState.__table__  # type: ignore[attr-defined]
EQUIPMENT: Table = Equipment.__table__  # type: ignore[attr-defined]
DEAD: Table = DeadLetter.__table__  # type: ignore[attr-defined]


def record_batch(engine: Engine, items: Sequence[Decoded], *, tz: tzinfo, keep_rejects: bool = False) -> BatchResult:
    """Store `items` atomically; rejects go to the dead letters unless `keep_rejects` (they are returned)."""
    with write_transaction(engine) as conn:
        return record_batch_in(conn, items, tz=tz, keep_rejects=keep_rejects)


def record_batch_in(
    conn: Connection, items: Sequence[Decoded], *, tz: tzinfo, keep_rejects: bool = False
) -> BatchResult:
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

    new_keys = _insert_events(conn, [item for item in known if isinstance(item, DeviceEvent)])
    result.inserted = len(new_keys)
    result.duplicates = sum(isinstance(item, DeviceEvent) for item in known) - len(new_keys)

    touched: dict[Key, StationState] = {}
    status_rows: list[dict[str, Any]] = []
    for item in sorted(known, key=lambda it: it.event_at):
        key = (item.site, item.equipment_id)
        state = touched.get(key) or states[key]
        if isinstance(item, DeviceEvent):
            event_key = (item.site, item.equipment_id, item.event_id)
            if event_key not in new_keys:
                continue
            new_keys.discard(event_key)  # a key repeated inside one batch is applied once
            touched[key] = apply_event(state, item, clean_after_use=clean_rule[key], tz=tz)
        else:
            after = apply_status(state, item)
            if after.online != state.online:
                status_rows.append(_status_row(item))
            touched[key] = after
    if status_rows:
        result.status_changes = len(_insert_events_rows(conn, status_rows))
    _write_states(conn, touched.values())
    result.rejected = rejects
    if not keep_rejects:
        result.dead_lettered = dead_letter(conn, rejects)
    return result


def dead_letter(conn: Connection, rejects: Iterable[Rejected]) -> int:
    """Keep rejects with their reason; the same topic and payload again bumps its count (and shows it again)."""
    rows = [_dead_letter_row(r) for r in rejects]
    if not rows:
        return 0
    stmt = _insert(conn, DEAD)
    excluded = stmt.excluded  # type: ignore[attr-defined]
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[DEAD.c.fingerprint],
        set_={
            "seen_count": DEAD.c.seen_count + 1,
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
    """Registered equipment among `keys`, with its clean-after-use rule."""
    found: dict[Key, bool] = {}
    for chunk in _chunks(sorted(keys)):
        query = select(EQUIPMENT.c.site, EQUIPMENT.c.id, EQUIPMENT.c.clean_after_use).where(
            tuple_(EQUIPMENT.c.site, EQUIPMENT.c.id).in_(chunk)
        )
        found.update({(site, eq): bool(rule) for site, eq, rule in conn.execute(query)})
    return found


def _lock_states(conn: Connection, keys: set[Key]) -> dict[Key, StationState]:
    """Load (and on PostgreSQL lock, in key order, so two listeners never deadlock) the state rows."""
    if not keys:
        return {}
    missing_rows = [{"site": s, "equipment_id": e} for s, e in sorted(keys)]
    conn.execute(_insert(conn, STATES).on_conflict_do_nothing(), missing_rows)  # type: ignore[attr-defined]
    states: dict[Key, StationState] = {}
    for chunk in _chunks(sorted(keys)):
        query = (
            select(STATES)
            .where(tuple_(STATES.c.site, STATES.c.equipment_id).in_(chunk))
            .order_by(STATES.c.site, STATES.c.equipment_id)
            .with_for_update()
        )
        for row in conn.execute(query):
            states[(row.site, row.equipment_id)] = StationState.from_row(row)
    return states


def _insert_events(conn: Connection, events: list[DeviceEvent]) -> set[tuple[str, str, str]]:
    return _insert_events_rows(conn, [event.as_row() for event in events])


def _insert_events_rows(conn: Connection, rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Insert, skipping keys already stored; returns the keys that were new."""
    if not rows:
        return set()
    stmt = (
        _insert(conn, EVENTS)
        .on_conflict_do_nothing(index_elements=["site", "equipment_id", "event_id"])  # type: ignore[attr-defined]
        .returning(EVENTS.c.site, EVENTS.c.equipment_id, EVENTS.c.event_id)
    )
    new: set[tuple[str, str, str]] = set()
    for chunk in _chunks(rows):
        new.update((r.site, r.equipment_id, r.event_id) for r in conn.execute(stmt, chunk))
    return new


def _write_states(conn: Connection, states: Iterable[StationState]) -> None:
    rows = []
    now = utcnow()
    for state in states:
        row = state.as_row()
        row["b_site"] = row.pop("site")
        row["b_equipment_id"] = row.pop("equipment_id")
        row["updated_at"] = now
        rows.append(row)
    if not rows:
        return
    stmt = update(STATES).where(
        and_(STATES.c.site == bindparam("b_site"), STATES.c.equipment_id == bindparam("b_equipment_id"))
    )
    conn.execute(stmt, rows)


def _status_row(report: StatusReport) -> dict[str, Any]:
    value = "online" if report.online else "offline"
    return {
        "site": report.site,
        "equipment_id": report.equipment_id,
        "event_id": f"status-{report.received_at.isoformat()}-{value}",
        "channel": "status",
        "event": value,
        "device_ts": None,
        "event_at": report.received_at,
        "received_at": report.received_at,
        "source": "device",
    }


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
