"""The listener's batching half: buffer what arrives, commit it in batches, dead-letter the rest, ack after commit."""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.equipment.dead_letter_limits import purge_old
from shared.equipment.events import BatchResult, Decoded, Rejected
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.store.db import is_transient, write_transaction
from shared.store.settings import Settings
from shared.store.types import utcnow

log = logging.getLogger("telemetry.listener")  # the listener's own log: its operators read one logger

PURGE_EVERY_S = 3600.0  # how often the listener deletes dead letters past their retention


@dataclass(slots=True)
class ListenerStats:
    """Running totals, for logs, tests and benchmarks."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    batches: int = 0
    db_retries: int = 0
    connects: int = 0


@dataclass(slots=True)
class Pending:
    """A message received and not yet acknowledged, with the connection it came on."""

    mid: int
    qos: int
    generation: int
    decoded: Decoded


@dataclass(slots=True)
class Backoff:
    """Exponential backoff between `low` and `high` seconds."""

    low: float
    high: float
    current: float = field(default=0.0)

    def next(self) -> float:
        """The next delay: `low` first, then doubling up to `high`."""
        self.current = self.low if self.current == 0 else min(self.high, self.current * 2)
        return self.current

    def reset(self) -> None:
        """Start again from `low` (after a success)."""
        self.current = 0.0


class Batching:
    """The listener's message side (a mixin of `Listener`, which owns the state declared here and the client)."""

    settings: Settings
    engine: Engine
    stats: ListenerStats
    _on_batch: Callable[[BatchResult], None] | None
    _tz: tzinfo
    _quota: int
    _next_purge: float
    _buffer: list[Pending]
    _first_buffered: float
    _retry_at: float
    _db_backoff: Backoff
    _generation: int
    _connected: bool
    _client: mqtt.Client

    # -- messages ---------------------------------------------------------------------------------------
    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # Nothing may raise out of a paho callback: decode() turns every bad message into a Rejected.
        try:
            decoded = decode(msg.topic, bytes(msg.payload), prefix=self.settings.topic_prefix, received_at=utcnow())
        except Exception as exc:
            log.exception("could not decode a message on %s", msg._topic)
            topic = msg._topic.decode("utf-8", "replace")
            decoded = Rejected(topic, bytes(msg.payload), f"internal decode error: {exc!r}", utcnow())
        if not self._buffer:
            self._first_buffered = time.monotonic()
        self._buffer.append(Pending(msg.mid, msg.qos, self._generation, decoded))
        self.stats.received += 1

    def _maybe_flush(self, *, force: bool = False) -> None:
        if not self._buffer or time.monotonic() < self._retry_at:
            return
        full = len(self._buffer) >= self.settings.ingest_batch_max
        waited = (time.monotonic() - self._first_buffered) * 1000 >= self.settings.ingest_max_delay_ms
        if force or full or waited or not self._more_to_read():
            self._flush()

    def _maybe_purge(self) -> None:
        """Once an hour (the first time soon after start), delete dead letters past their retention; between
        batches only, and a failure just waits for the next hour: housekeeping never stops recording."""
        if self._buffer or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_S
        days = self.settings.dead_letter_retention_days
        try:
            with write_transaction(self.engine) as conn:
                purged = purge_old(conn, utcnow(), days=days)
        except (OperationalError, DBAPIError):
            log.warning("dead-letter retention sweep failed; trying again in an hour", exc_info=True)
            return
        if purged:
            log.info("deleted %d dead letters older than %d days", purged, days)

    def _more_to_read(self) -> bool:
        """Whether the socket already holds more data (then keep reading: the batch grows for free)."""
        sock = self._client.socket()
        if sock is None:
            return False
        pending = getattr(sock, "pending", None)
        if pending is not None and pending() > 0:
            return True
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)

    def _flush(self) -> None:
        batch = self._buffer
        try:
            result = record_batch(
                engine=self.engine, items=[p.decoded for p in batch], tz=self._tz, dead_letter_quota=self._quota
            )
        except Exception as exc:
            if _unavailable(exc):
                self._wait_for_database(exc)
                return
            log.warning("a batch of %d could not be recorded (%s); retrying one message at a time", len(batch), exc)
            result, done, failure = self._record_one_by_one(batch)
            if failure is not None:  # the database went away midway: ack what is committed, hold the rest
                self._ack(batch[:done])
                self._buffer = batch[done:]
                self._account(result)
                self._wait_for_database(failure)
                return
        self._db_backoff.reset()
        self._retry_at = 0.0
        self._buffer = []
        self._ack(batch)
        self._account(result)

    def _wait_for_database(self, exc: Exception) -> None:
        delay = self._db_backoff.next()
        self._retry_at = time.monotonic() + delay
        self.stats.db_retries += 1
        log.warning(
            "database unavailable (%s); holding %d messages unacked, retrying in %.1fs",
            type(exc).__name__,
            len(self._buffer),
            delay,
        )

    def _record_one_by_one(self, batch: list[Pending]) -> tuple[BatchResult, int, Exception | None]:
        """Each message in its own transaction; one that cannot be stored becomes a dead letter.

        Returns what was recorded, how many messages (from the start of `batch`) are committed, and the error
        that stopped it early when the database became unavailable (those messages stay held, unacked).
        """
        total = BatchResult()
        for done, pending in enumerate(batch):
            try:
                part = self._record_or_dead_letter(pending.decoded)
            except Exception as exc:  # unavailable, or even the dead letter could not be written
                return total, done, exc
            total.inserted += part.inserted
            total.duplicates += part.duplicates
            total.dead_lettered += part.dead_lettered
            total.rejected.extend(part.rejected)
        return total, len(batch), None

    def _record_or_dead_letter(self, decoded: Decoded) -> BatchResult:
        """One message, or its dead letter when storing it fails for a reason retrying will not fix."""
        try:
            return record_batch(engine=self.engine, items=[decoded], tz=self._tz, dead_letter_quota=self._quota)
        except Exception as exc:
            if _unavailable(exc):
                raise
            log.warning("a message on %s could not be stored (%s); keeping it as a dead letter", _topic(decoded), exc)
            failure = exc
        topic, payload = _topic(decoded), getattr(decoded, "payload", b"")
        reason = f"could not be stored: {type(failure).__name__}: {str(failure)[:300]}"
        return record_batch(engine=self.engine, items=[Rejected(topic, payload, reason, utcnow())], tz=self._tz,
                            dead_letter_quota=self._quota)

    def _ack(self, batch: list[Pending]) -> None:
        for pending in batch:
            # Acks for a previous connection are void: the broker redelivers those, and they dedupe.
            if pending.qos > 0 and pending.generation == self._generation and self._connected:
                self._client.ack(pending.mid, pending.qos)

    def _account(self, result: BatchResult) -> None:
        self.stats.batches += 1
        self.stats.inserted += result.inserted
        self.stats.duplicates += result.duplicates
        self.stats.dead_lettered += result.dead_lettered
        for reject in result.rejected:
            log.warning("dead letter (%s) on %s", reject.reason, reject.topic)
        if self._on_batch is not None:
            self._on_batch(result)



def _unavailable(exc: Exception) -> bool:
    """A failure of the database rather than of the batch (locked, down, connection lost): hold and retry."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or is_transient(exc))


def _topic(decoded: Decoded) -> str:
    return getattr(decoded, "topic", "")
