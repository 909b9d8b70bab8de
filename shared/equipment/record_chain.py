"""The append-only equipment records and their hash chain: what makes tampering evident.

Every record (a cleaning, maintenance done, out of / back in service, a correction) takes the next place `seq`
in one chain for the whole store, and carries `prev_hash`, its predecessor's hash, and `hash`, the SHA-256 of
`prev_hash` and a canonical serialisation of its own fields. Nothing updates or deletes a record: a correction is a
new record whose `corrects` names the `seq` it corrects (with `void` when the corrected record should not have
been made at all); both are kept and shown.

Appending reads and updates the one-row `record_chain_head` in the writer's transaction: on PostgreSQL the
`SELECT ... FOR UPDATE` makes concurrent writers (the listener's batch, a staff action) queue on that row, and
on SQLite every writer's transaction is IMMEDIATE, so it holds the database's write lock from its start. Either
way the next writer sees the head the previous one committed, and the chain never forks. Writers lock the head
last (after any station rows), so it adds no deadlock.

`verify_chain` walks the chain in `seq` order and names the first record whose hash does not match its fields
(edited), whose predecessor is missing (deleted) or whose `prev_hash` is not its predecessor's hash, and checks
that the head still points at the last record (the newest record deleted).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shared.equipment.record_models import EquipmentRecord, RecordChainHead
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

RECORDS: Table = EquipmentRecord.__table__  # type: ignore[attr-defined]
HEAD: Table = RecordChainHead.__table__  # type: ignore[attr-defined]
GENESIS = "0" * 64  # the first record's prev_hash
RecordKind = Literal["cleaning", "maintenance", "out_of_service", "back_in_service", "correction"]
KINDS: tuple[RecordKind, ...] = ("cleaning", "maintenance", "out_of_service", "back_in_service", "correction")
# The fields a record's hash covers, in this order (everything but its row id and its own hash).
HASHED = ("seq", "site", "equipment_id", "kind", "at", "by", "recorded_at", "event_id", "disinfectant",
          "contact_min", "task_id", "task", "in_use_seconds", "notes", "corrects", "void", "prev_hash")  # fmt: skip
_SORTED = tuple(sorted(HASHED))
_TIMES = ("at", "recorded_at")
_FLOATS = ("contact_min", "in_use_seconds")  # hashed as their repr (stored as floats; see _fields)
_VERIFY_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record to append (its place and hashes are given by `append`)."""

    site: str
    equipment_id: str
    kind: RecordKind
    at: datetime
    by: str = ""
    event_id: str | None = None
    disinfectant: str | None = None
    contact_min: float | None = None
    task_id: int | None = None
    task: str | None = None
    in_use_seconds: float | None = None
    notes: str = ""
    corrects: int | None = None
    void: bool = False


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify_chain` found: `intact`, how many records it checked, the head's hash, and if broken the first
    broken record's `seq` (None when the head is what is wrong) and why."""

    intact: bool
    records: int
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""


def append(conn: Connection, records: Sequence[NewRecord], *, now: datetime | None = None) -> list[int]:
    """Append `records` to the chain in the caller's transaction, in the order given; returns their `seq`s."""
    if not records:
        return []
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()).first()
    if head is None:  # a store whose head row was never made (created from the models, or emptied by a test)
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        conn.execute(dialect.insert(HEAD).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1).with_for_update()).one()
    seq, prev = int(head.seq), str(head.hash)
    recorded_at = now or utcnow()
    rows: list[dict[str, Any]] = []
    for record in records:
        seq += 1
        row = {**_fields(record), "seq": seq, "recorded_at": recorded_at, "prev_hash": prev}
        row["hash"] = prev = record_hash(row)
        rows.append(row)
    _insert_rows(conn, rows)
    conn.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, hash=prev))
    return [row["seq"] for row in rows]


_COLUMNS = (*HASHED, "hash")
_QUOTED = ", ".join(sqlite.dialect().identifier_preparer.quote(c) for c in _COLUMNS)
_SQLITE_INSERT = f"INSERT INTO {RECORDS.name} ({_QUOTED}) VALUES ({', '.join('?' for _ in _COLUMNS)})"


def _insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the new records: on SQLite as plain tuples (Core's per-value processing was most of the cost of
    appending, in the listener's batches), on PostgreSQL through Core's batched insert."""
    if conn.dialect.name != "sqlite":
        conn.execute(insert(RECORDS), rows)
        return
    stored = [tuple(_sqlite_value(row[c]) for c in _COLUMNS) for row in rows]
    conn.exec_driver_sql(_SQLITE_INSERT, stored)


def _sqlite_value(value: Any) -> Any:
    """A value as UTCDateTime and Boolean store it on SQLite (UTC text with microseconds; 0/1)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def record_hash(row: Mapping[str, Any] | RowMapping) -> str:
    """SHA-256 (hex) of a record's canonical serialisation: its `HASHED` fields as sorted-key JSON, times as UTC
    with microseconds, numbers as given."""
    canonical = {name: row[name] for name in _SORTED}  # inserted in key order: the same JSON as sort_keys
    for name in _TIMES:
        canonical[name] = _time(canonical[name])
    for name in _FLOATS:
        value = canonical[name]
        canonical[name] = repr(value) if isinstance(value, float) else value
    text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the whole chain (in chunks, whatever its length) and report the first break, if any."""
    head = conn.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == 1)).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    expected_seq, prev, count, after = 1, GENESIS, 0, 0
    while True:
        rows = conn.execute(select(RECORDS).where(RECORDS.c.seq > after).order_by(RECORDS.c.seq)
                            .limit(_VERIFY_CHUNK)).mappings().all()  # fmt: skip
        for row in rows:
            seq = int(row["seq"])
            if seq != expected_seq:
                gap = (f"record {expected_seq} is" if seq == expected_seq + 1
                       else f"records {expected_seq} to {seq - 1} are")  # fmt: skip
                return _broken(count, head_hash, seq, f"{gap} missing before it (deleted)")
            if row["prev_hash"] != prev:
                return _broken(count, head_hash, seq, "its predecessor's hash does not match (the chain was rewritten)")
            if record_hash(row) != row["hash"]:
                return _broken(count, head_hash, seq, "its fields do not match its hash (it was edited)")
            prev, expected_seq, count = str(row["hash"]), seq + 1, count + 1
        if len(rows) < _VERIFY_CHUNK:
            break
        after = int(rows[-1]["seq"])
    if head_seq != expected_seq - 1 or head_hash != prev:
        last = expected_seq - 1
        return _broken(count, head_hash, None, f"the chain ends at record {last} but its head says record {head_seq}"
                       + (" (the newest records were deleted)" if head_seq > last else ""))  # fmt: skip
    return ChainReport(True, count, head_hash)


def _broken(count: int, head_hash: str, seq: int | None, problem: str) -> ChainReport:
    return ChainReport(False, count, head_hash, seq, problem)


def _fields(record: NewRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in record.__slots__}
    values["notes"] = (values["notes"] or "")[:4000]
    values["by"] = (values["by"] or "")[:200]
    for name in ("contact_min", "in_use_seconds"):  # stored as floats: hashed as the float read back
        values[name] = None if values[name] is None else float(values[name])
    return values


def _time(value: datetime) -> str:
    """A time as hashed: UTC, with microseconds and a Z ("2026-12-01T10:25:00.000000Z")."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def correct_record(
    conn: Connection, *, seq: int, by: str, reason: str, void: bool = False, disinfectant: str | None = None,
    contact_min: float | None = None, now: datetime | None = None,
) -> int:  # fmt: skip
    """Append a correction of record `seq` (voiding it, or naming the disinfectant it should have named) with the
    reason, by `by`; returns the correction's place. The corrected record stays as it was."""
    if not reason.strip():
        raise ValidationFailed("say why the record is corrected")
    row = conn.execute(select(RECORDS).where(RECORDS.c.seq == seq)).mappings().first()
    if row is None:
        raise NotFound(f"no record {seq}")
    if row["kind"] == "correction":
        raise ValidationFailed(f"record {seq} is a correction: correct the record it corrects ({row['corrects']})")
    if not void and disinfectant is None:
        raise ValidationFailed("say what is wrong: --void, or --disinfectant for a cleaning")
    if disinfectant is not None and row["kind"] != "cleaning":
        raise ValidationFailed(f"record {seq} is not a cleaning")
    at = now or utcnow()
    fix = NewRecord(site=str(row["site"]), equipment_id=str(row["equipment_id"]), kind="correction", at=at, by=by,
                    event_id=row["event_id"], corrects=seq, void=void, disinfectant=disinfectant,
                    contact_min=contact_min, notes=reason.strip())  # fmt: skip
    (done,) = append(conn, [fix], now=at)
    return done
