"""The native adapter's rows: load what it committed, and store a planned batch in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.equipment.ingest import dead_letter
from shared.equipment.native.bindings import BindingView, binding_view
from shared.equipment.native.inference import InferenceState
from shared.equipment.native.models import NativeBinding, NativeDelivery, NativeOutbox, NativeSource, NativeState
from shared.equipment.native.translate import Outgoing, Plan, SourceSeen, Translator
from shared.store.types import utcnow

BINDINGS: Table = NativeBinding.__table__  # type: ignore[attr-defined]
STATES: Table = NativeState.__table__  # type: ignore[attr-defined]
SOURCES: Table = NativeSource.__table__  # type: ignore[attr-defined]
DELIVERIES: Table = NativeDelivery.__table__  # type: ignore[attr-defined]
OUTBOX: Table = NativeOutbox.__table__  # type: ignore[attr-defined]


def bindings_version(conn: Connection) -> tuple[int, object]:
    """A cheap fingerprint of the bindings (their count and newest change): the adapter reloads when it moves."""
    count, newest = conn.execute(select(func.count(), func.max(BINDINGS.c.updated_at))).one()
    return int(count), newest


def load_bindings(conn: Connection) -> tuple[list[BindingView], dict[int, InferenceState]]:
    """Every binding, and the committed inference state of each that has one."""
    views = [binding_view(NativeBinding(**row._mapping)) for row in conn.execute(select(BINDINGS))]
    states: dict[int, InferenceState] = {}
    for binding_id, text in conn.execute(select(STATES.c.binding_id, STATES.c.state)):
        try:
            states[binding_id] = InferenceState.from_json(text)
        except ValueError:  # written by another release: start that binding afresh rather than stop the adapter
            continue
    return views, states


def load_translator(conn: Connection, translator: Translator, *, client_id: str) -> list[Outgoing]:
    """Fill a new translator with what was committed; returns the status messages its bindings imply."""
    for row in conn.execute(select(SOURCES)):
        m = row._mapping
        translator.sources[(m["via"], m["source"])] = SourceSeen(
            m["via"], m["source"], m["first_seen"], m["last_seen"], m["online"], m["messages"], m["last_topic"],
            bytes(m["last_payload"]), json.loads(m["summary"] or "{}"), json.loads(m["recent"] or "[]"))  # fmt: skip
    query = select(DELIVERIES.c.mid, DELIVERIES.c.fingerprint).where(DELIVERIES.c.client_id == client_id)
    translator.deliveries = {mid: fingerprint for mid, fingerprint in conn.execute(query)}
    views, states = load_bindings(conn)
    return translator.use_bindings(views, states)


def store_plan(conn: Connection, plan: Plan, *, client_id: str, done: Sequence[int] = ()) -> list[int]:
    """Write a planned batch (states, devices seen, packet ids, outbox, dead letters) and delete the outbox rows
    the broker has confirmed (`done`); returns the new outbox ids, in the order of `plan.outgoing`."""
    now = utcnow()
    if plan.states:
        _upsert(conn, STATES, ["binding_id"], [{"binding_id": bid, "state": s.to_json(), "updated_at": now}
                                               for bid, s in plan.states.items()], live=_live_bindings(conn, plan))
    if plan.sources:  # the calibration history only where it is due (the same columns in each executemany)
        for with_recent in (True, False):
            rows = [_source_row(s, with_recent) for s in plan.sources.values() if s.save_recent is with_recent]
            if rows:
                _upsert(conn, SOURCES, ["via", "source"], rows)
    if plan.deliveries:
        rows = [{"client_id": client_id, "mid": mid, "fingerprint": fp} for mid, fp in plan.deliveries.items()]
        _upsert(conn, DELIVERIES, ["client_id", "mid"], rows)
    if plan.rejects:
        dead_letter(conn, plan.rejects)
    if done:
        conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(list(done))))
    if not plan.outgoing:
        return []
    rows = [{"topic": o.topic, "payload": o.payload, "retain": o.retain, "created_at": now} for o in plan.outgoing]
    result = conn.execute(insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


def pending_outbox(conn: Connection) -> list[tuple[int, Outgoing]]:
    """Derived messages committed but not yet confirmed by the broker (published again at start)."""
    query = select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.payload, OUTBOX.c.retain).order_by(OUTBOX.c.id)
    return [(oid, Outgoing(topic, bytes(payload), bool(retain))) for oid, topic, payload, retain in conn.execute(query)]


def delete_outbox(conn: Connection, ids: Sequence[int]) -> None:
    """Forget derived messages the broker has confirmed."""
    if ids:
        conn.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(list(ids))))


def _live_bindings(conn: Connection, plan: Plan) -> set[int]:
    """The planned states' bindings that still exist (one may have been unbound since the plan was made)."""
    query = select(BINDINGS.c.id).where(BINDINGS.c.id.in_(list(plan.states)))
    return {row[0] for row in conn.execute(query)}


def _source_row(seen: SourceSeen, with_recent: bool) -> dict[str, Any]:
    row = {"via": seen.via, "source": seen.source, "first_seen": seen.first_seen, "last_seen": seen.last_seen,
           "online": seen.online, "messages": seen.messages, "last_topic": seen.last_topic,
           "last_payload": seen.last_payload, "summary": json.dumps(seen.summary, default=str)}  # fmt: skip
    if with_recent:
        row["recent"] = json.dumps(seen.recent, separators=(",", ":"))
    return row


def _upsert(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]],
            live: set[int] | None = None) -> None:  # fmt: skip
    """Insert or update rows by their key (the dialect's ON CONFLICT)."""
    if live is not None:
        rows = [row for row in rows if row[keys[0]] in live]
        if not rows:
            return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), rows)
