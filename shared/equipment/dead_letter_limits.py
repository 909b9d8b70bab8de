"""Bounds on what a device can make the clinic store as dead letters: a quota per device and hour, and retention.

A rogue or broken device must not fill the disk: past `PER_DEVICE_HOUR` new dead letters from one device in the
hour they arrived in, the excess is not stored but counted, in one row per device and hour whose `seen_count` says how
many were dropped and whose reason says why (so nothing is lost silently). Dead letters are kept for
`RETENTION_DAYS`, then the listener deletes them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select

from shared.equipment.models import DeadLetter

DEAD: Table = DeadLetter.__table__  # type: ignore[attr-defined]
PER_DEVICE_HOUR = 100  # new dead letters kept per device (or per unknown topic source) and hour
RETENTION_DAYS = 90  # dead letters older than this are deleted by the listener
OVER_QUOTA = "over the limit of {limit} kept messages per device per hour: counted here, not stored"

Source = tuple[str | None, str | None]


def within_quota(
    conn: Connection, rows: list[dict[str, Any]], now: datetime, *, limit: int = PER_DEVICE_HOUR
) -> list[dict[str, Any]]:
    """`rows` (new dead letters) with each device's excess over its hourly quota replaced by one counting row."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    known = _known_fingerprints(conn, [row["fingerprint"] for row in rows])
    by_source: dict[Source, list[dict[str, Any]]] = defaultdict(list)
    kept: list[dict[str, Any]] = []
    for row in rows:
        if row["fingerprint"] in known:
            kept.append(row)  # a redelivery only bumps the count of a row already kept
        else:
            by_source[(row["site"], row["equipment_id"])].append(row)
    for source, fresh in by_source.items():
        room = max(0, limit - _kept_this_hour(conn, source, hour))
        kept.extend(fresh[:room])
        if len(fresh) > room:
            kept.append(_overflow_row(source, hour, fresh[room], len(fresh) - room, limit))
    return kept


def purge_old(conn: Connection, now: datetime, *, days: int = RETENTION_DAYS) -> int:
    """Delete dead letters last seen more than `days` ago; returns how many."""
    result = conn.execute(delete(DEAD).where(DEAD.c.last_received_at < now - timedelta(days=days)))
    return int(result.rowcount or 0)


def _known_fingerprints(conn: Connection, fingerprints: list[str]) -> set[str]:
    if not fingerprints:
        return set()
    query = select(DEAD.c.fingerprint).where(DEAD.c.fingerprint.in_(fingerprints))
    return set(conn.execute(query).scalars())


def _kept_this_hour(conn: Connection, source: Source, hour: datetime) -> int:
    site, equipment_id = source
    query = select(func.count()).select_from(DEAD).where(
        DEAD.c.site.is_(None) if site is None else DEAD.c.site == site,
        DEAD.c.equipment_id.is_(None) if equipment_id is None else DEAD.c.equipment_id == equipment_id,
        DEAD.c.received_at >= hour,
        DEAD.c.received_at < hour + timedelta(hours=1),
    )
    return int(conn.execute(query).scalar_one())


def _overflow_row(source: Source, hour: datetime, first: dict[str, Any], dropped: int, limit: int) -> dict[str, Any]:
    site, equipment_id = source
    key = f"over-quota\0{site}\0{equipment_id}\0{hour.isoformat()}".encode()
    return {
        **first,
        "fingerprint": hashlib.sha256(key).hexdigest(),
        "seen_count": dropped,
        "payload": b"",
        "payload_size": 0,
        "truncated": True,
        "reason": OVER_QUOTA.format(limit=limit),
    }
