"""Whether device messages are being recorded: each listener's heartbeat in the store, and what the apps say of it.

The listener's writer process upserts one row per listener account (`listener_heartbeat`): in the transaction of
a batch when one is going anyway, or alone about every third of the MQTT keep-alive while it is idle, and only
while the listener holds its subscription and its writer can commit; a clean stop sets `stopped_at`. So a row
whose beat is older than 1.5 keep-alives means that listener is gone (killed, hung, cut off from the broker, or
held by an unavailable database): what devices send is queued by the broker, not recorded, and the board,
the lobby's station badges and `clinic equipment list` are out of date. The apps read only this table (the
kiosks import no MQTT code). An empty table says nothing: no listener has ever run on this store (a fresh
install before `clinic up`).

On MQTT the listener also says it (for monitoring, and for a chain's center through the site's bridge): a
retained message on `status_topic(...)`, `status_payload(...)` below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, select

from shared.store.types import utc_column

STALE_AFTER_KEEPALIVES = 1.5  # a beat older than this many MQTT keep-alives: that listener is gone
BEATS_PER_KEEPALIVE = 3  # the listener beats about every third of its keep-alive
STATUS_TOPIC = "{prefix}/{site}/system/listener/{client_id}"


class ListenerHeartbeat(SQLModel, table=True):
    """The last sign of life of one listener (by broker account, which is also its client id)."""

    __tablename__ = "listener_heartbeat"

    account: str = Field(primary_key=True, max_length=128)
    site: str = Field(max_length=64)
    pid: int
    host: str = Field(max_length=255)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    beat_at: datetime = Field(sa_column=utc_column(nullable=False))
    stopped_at: datetime | None = Field(default=None, sa_column=utc_column())


@dataclass(frozen=True, slots=True)
class ListenerIdentity:
    """Who beats: the listener's account, site, process and machine, and when this run of it started."""

    account: str
    site: str
    pid: int
    host: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    """`recording`: some listener beat lately and has not stopped. Otherwise `stopped_since` is the last moment one
    was known to record (its last beat, or its clean stop), or None when no listener ever ran on this store."""

    recording: bool
    stopped_since: datetime | None

    @property
    def stopped(self) -> bool:
        """What the apps warn about: a listener ran here, and none is recording now (never seen is not stopped)."""
        return not self.recording and self.stopped_since is not None

    def since_text(self, tz: tzinfo, now: datetime) -> str:
        """When it stopped on the clinic's clock: "14:05" the same day, "2026-12-05 18:30" before."""
        if self.stopped_since is None:
            return ""
        local = self.stopped_since.astimezone(tz)
        same_day = local.date() == now.astimezone(tz).date()
        return local.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")


def beat_interval_s(keepalive_s: float) -> float:
    """How often a listener beats: about a third of its keep-alive (10 s by default)."""
    return keepalive_s / BEATS_PER_KEEPALIVE


def record_beat(conn: Connection, listener: ListenerIdentity, now: datetime) -> None:
    """Upsert the listener's row (one statement, inside the caller's transaction): alive at `now`, not stopped."""
    table = ListenerHeartbeat.__table__  # type: ignore[attr-defined]
    values = {"account": listener.account, "site": listener.site, "pid": listener.pid, "host": listener.host,
              "started_at": listener.started_at, "beat_at": now, "stopped_at": None}  # fmt: skip
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert = dialect.insert(table).values(values)
    changed = {name: insert.excluded[name] for name in values if name != "account"}
    conn.execute(insert.on_conflict_do_update(index_elements=["account"], set_=changed))


def record_stop(conn: Connection, listener: ListenerIdentity, now: datetime) -> None:
    """A clean stop: this run of the listener (not an earlier or another one) says when it stopped."""
    table = ListenerHeartbeat.__table__  # type: ignore[attr-defined]
    this_run = (table.c.account == listener.account, table.c.started_at == listener.started_at,
                table.c.pid == listener.pid, table.c.stopped_at.is_(None))  # fmt: skip
    conn.execute(update(table).where(*this_run).values(stopped_at=now))


def close_restored_heartbeats(*, session: Session) -> int:
    """A restored store's listeners are not running (a restore is refused while one runs), whatever their last beat
    says: each is recorded as stopped at its last beat, so nobody reads a backup's beat as a live listener."""
    done = session.execute(
        update(ListenerHeartbeat).where(col(ListenerHeartbeat.stopped_at).is_(None))
        .values(stopped_at=ListenerHeartbeat.beat_at)
    )  # fmt: skip
    return int(done.rowcount)  # type: ignore[attr-defined]


def recording_status(*, session: Session, now: datetime, keepalive_s: float) -> RecordingStatus:
    """Whether some listener records device messages now (a beat within 1.5 keep-alives, not stopped); if none
    does, since when (the latest last beat or clean stop); `stopped_since` None when no listener ever ran here."""
    rows = session.exec(select(ListenerHeartbeat).order_by(col(ListenerHeartbeat.account))).all()
    if not rows:
        return RecordingStatus(recording=False, stopped_since=None)
    fresh_from = now - timedelta(seconds=STALE_AFTER_KEEPALIVES * keepalive_s)
    if any(row.stopped_at is None and row.beat_at >= fresh_from for row in rows):
        return RecordingStatus(recording=True, stopped_since=None)
    return RecordingStatus(recording=False, stopped_since=max(row.stopped_at or row.beat_at for row in rows))


# -- the same news on MQTT: the listener's retained status message ----------------------------------------------
def status_topic(prefix: str, site: str, client_id: str) -> str | None:
    """Where the listener says whether it is online (retained), or None when its client id cannot be a topic level."""
    if not client_id or any(ch in client_id for ch in "/+#\x00"):
        return None
    return STATUS_TOPIC.format(prefix=prefix, site=site, client_id=client_id)


def status_payload(state: Literal["online", "offline"], since: datetime | None, pid: int) -> bytes:
    """The documented JSON: {"state": "online" | "offline", "since": RFC 3339 UTC or null, "pid": N}. `since` is
    null in the last will, which the broker sends unchanged when it loses the connection: the moment is unknown."""
    when = since.astimezone(UTC).isoformat().replace("+00:00", "Z") if since is not None else None
    return json.dumps({"state": state, "since": when, "pid": pid}).encode()
