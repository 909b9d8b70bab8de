"""Record a batch of decoded messages in one transaction: events once each, state derived from new rows only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.equipment.dead_letter_limits import PER_DEVICE_HOUR, within_quota
from shared.equipment.disinfectants import Choice, usual_disinfectants
from shared.equipment.events import BatchResult, Decoded, DeviceEvent, Rejected, StatusReport
from shared.equipment.ingest_rows import (
    DEAD,
    EQUIPMENT,
    STATES,
    EventKey,
    event_key,
    event_values,
    insert_event_rows,
    status_values,
    write_states,
)
from shared.equipment.payloads import CodedReject, reason_code
from shared.equipment.record_chain import NewRecord, append
from shared.equipment.rollups import Before, DayTotals
from shared.equipment.state_machine import StationState, apply_event_in_place, apply_status
from shared.store.db import write_transaction

KEPT_PAYLOAD_BYTES = 8 * 1024  # dead letters keep at most this much of a payload (its size is kept too)
_KEY_CHUNK = 400  # keys per IN (...) list, well under SQLite's bound-variable limit

Key = tuple[str, str]

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
    dead_letter_quota: int = PER_DEVICE_HOUR, cleaned_with: Mapping[str, Choice] | None = None,
) -> BatchResult:  # fmt: skip
    """`record_batch` inside a transaction the caller owns. New cleanings and changes in or out of service are
    appended to the records' chain (shared/equipment/record_chain.py), a cleaning with the disinfectant
    `cleaned_with` gives for its event id (a staff action's choice), else the station's usual one."""
    result = BatchResult()
    rejects = [item for item in items if isinstance(item, Rejected)]
    known = [item for item in items if not isinstance(item, Rejected)]
    clean_rule = _registered(conn, {(item.site, item.equipment_id) for item in known})
    states = _lock_states(conn, set(clean_rule))
    rejects += [_unknown(item) for item in known if (item.site, item.equipment_id) not in clean_rule]
    known = [item for item in known if (item.site, item.equipment_id) in clean_rule]

    events = [item for item in known if isinstance(item, DeviceEvent)]
    new_keys = insert_event_rows(conn, [event_values(event) for event in events])
    result.inserted = len(new_keys)
    result.duplicates = len(events) - len(new_keys)

    days = DayTotals(tz)
    records: list[tuple[DeviceEvent, str]] = []
    touched, status_rows = _apply_in_order(known, states, new_keys, clean_rule, days, tz, records)
    if status_rows:
        result.status_changes = len(insert_event_rows(conn, status_rows))
    write_states(conn, touched.values())
    days.write(conn)
    if records:  # after the station rows: the chain's head is always locked last
        append(conn, _records(conn, records, cleaned_with or {}))
    result.rejected = rejects
    if not keep_rejects:
        result.dead_lettered = dead_letter(conn, rejects, quota=dead_letter_quota)
    return result


def _apply_in_order(
    known: list[DeviceEvent | StatusReport], states: dict[Key, StationState], new_keys: set[EventKey],
    clean_rule: dict[Key, bool], days: DayTotals, tz: tzinfo, records: list[tuple[DeviceEvent, str]],
) -> tuple[dict[Key, StationState], list[tuple[Any, ...]]]:  # fmt: skip
    """Apply the batch in event-time order to one working copy per station: new events move the state machine
    and the day's totals (an event repeated inside the batch counts once); a status report that changes
    online-ness is kept as an event row. Returns the stations' new states and those status rows; `records` gets
    the new events that make a record, with its kind."""
    touched: dict[Key, StationState] = {}
    status_rows: list[tuple[Any, ...]] = []
    for item in sorted(known, key=lambda it: it.event_at):
        key = (item.site, item.equipment_id)
        state = touched.get(key)
        if state is None:
            state = touched[key] = replace(states[key])
        if isinstance(item, DeviceEvent):
            key_of_event = event_key(item)
            if key_of_event not in new_keys:
                continue
            new_keys.discard(key_of_event)
            before, was_out = Before.of(state), state.out_of_service
            apply_event_in_place(state, item, clean_after_use=clean_rule[key], tz=tz)
            days.add(item, before, state, clean_after_use=clean_rule[key])
            if item.channel == "cleaning" and item.event == "cleaned":
                records.append((item, "cleaning"))
            elif was_out != state.out_of_service:
                records.append((item, "out_of_service" if state.out_of_service else "back_in_service"))
        else:
            after = apply_status(state, item)
            if after.online != state.online:
                status_rows.append(status_values(item))
            touched[key] = after
    return touched, status_rows


def _records(
    conn: Connection, made: list[tuple[DeviceEvent, str]], cleaned_with: Mapping[str, Choice]
) -> list[NewRecord]:
    """The records of a batch's new events: a cleaning with its disinfectant, out of or back in service."""
    usual: dict[Key, Choice] = usual_disinfectants(conn, {(e.site, e.equipment_id) for e, kind in made
                                                          if kind == "cleaning" and e.event_id not in cleaned_with})
    found = []
    for event, kind in made:
        key = (event.site, event.equipment_id)
        common: dict[str, Any] = {"site": event.site, "equipment_id": event.equipment_id, "at": event.event_at,
                  "by": event.by or event.source, "event_id": event.event_id}  # fmt: skip
        if kind == "cleaning":
            choice = cleaned_with.get(event.event_id) or usual.get(key)
            if choice is not None:
                usual[key] = choice  # the station's last, for its next cleaning in this batch
            found.append(NewRecord(kind="cleaning", disinfectant=choice.name if choice else None,
                                   contact_min=choice.contact_min if choice else None, notes=event.method or "",
                                   **common))  # fmt: skip
        else:
            words = " ".join(w for w in (event.code or "", event.message or "") if w)
            found.append(NewRecord(kind="out_of_service" if kind == "out_of_service" else "back_in_service",
                                   notes=words, **common))  # fmt: skip
    return found


def dead_letter(conn: Connection, rejects: Iterable[Rejected], *, quota: int = PER_DEVICE_HOUR) -> int:
    """Keep rejects with their reason; the same topic and payload again bumps its count (and shows it again)."""
    rows = [_dead_letter_row(r) for r in rejects]
    if not rows:
        return 0
    # The quota's hour is the hour the listener received the batch, the clock `_kept_this_hour` counts by: a
    # batch written a moment past the hour (or after an outage) counts against the hour it arrived in.
    received = max(row["received_at"] for row in rows)
    given = {row["fingerprint"] for row in rows}
    rows = within_quota(conn, rows, received, limit=quota)
    for row in rows:
        if row["fingerprint"] not in given:  # a row counting a device's excess (it copies its first's fields)
            row["code"] = "over_quota"
    stmt = _insert(conn, DEAD)
    excluded = stmt.excluded  # type: ignore[attr-defined]
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[DEAD.c.fingerprint],
        set_={
            "seen_count": DEAD.c.seen_count + excluded.seen_count,  # 1, or what an over-quota row counted
            "last_received_at": excluded.last_received_at,
            "reason": excluded.reason,
            "code": excluded.code,
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


def _unknown(item: DeviceEvent | StatusReport) -> Rejected:
    return CodedReject(
        topic=item.topic,
        payload=item.payload,
        reason=f"equipment {item.equipment_id!r} is not registered at site {item.site!r}",
        received_at=item.received_at,
        site=item.site,
        equipment_id=item.equipment_id,
        code="unknown_device",
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
        "code": reason_code(reject),
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
