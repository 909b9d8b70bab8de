"""The MQTT listener: persistent QoS 1 session, batches committed in the MQTT thread, acks only after commit.

Why this shape (docs/devices.md has the contract, docs/benchmarks.md the figures): the broker keeps our
session while we are down, so nothing published meanwhile is lost; a message is acknowledged only once its
row is committed, so a crash before the ack means the broker redelivers it, and the unique event key turns
that into one row.
Writing in the MQTT thread (no queue to a writer thread) and committing whatever is buffered as soon as the
socket has nothing more to read keeps latency low at light load and batches large under a flood.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.equipment.dead_letter_limits import purge_old
from shared.equipment.events import BatchResult, Decoded, Rejected
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.topics import subscription
from shared.store.db import is_transient, write_transaction
from shared.store.settings import Settings
from shared.store.types import utcnow
from telemetry.broker_tls import use_tls

log = logging.getLogger(__name__)

RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0  # exponential backoff between connection attempts
DB_RETRY_MIN_S, DB_RETRY_MAX_S = 0.2, 10.0  # backoff while the database is locked or down
PURGE_EVERY_S = 3600.0  # how often the listener deletes dead letters past their retention
IDLE_POLL_S = 0.25  # longest the network loop blocks, so stop() and keep-alives are noticed
FATAL_CONNACK = {134, 135, 138}  # bad credentials, not authorised, banned: retrying will not help


class BrokerRefused(RuntimeError):
    """The broker refused our credentials; the message says why."""


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
class _Pending:
    mid: int
    qos: int
    generation: int
    decoded: Decoded


@dataclass(slots=True)
class _Backoff:
    low: float
    high: float
    current: float = field(default=0.0)

    def next(self) -> float:
        self.current = self.low if self.current == 0 else min(self.high, self.current * 2)
        return self.current

    def reset(self) -> None:
        self.current = 0.0


class Listener:
    """Records every device message exactly once; `run()` blocks until `stop()` (or a signal) is called."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        on_batch: Callable[[BatchResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.stats = ListenerStats()
        self._on_batch = on_batch
        self._tz = settings.tz
        self._quota = settings.dead_letters_per_device_hour
        self._next_purge = 0.0  # monotonic time of the next retention sweep of the dead letters
        self._buffer: list[_Pending] = []
        self._first_buffered = 0.0
        self._retry_at = 0.0
        self._db_backoff = _Backoff(DB_RETRY_MIN_S, DB_RETRY_MAX_S)
        self._net_backoff = _Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._generation = 0
        self._connected = False
        self._stopping = False
        self._refused: str | None = None
        self.subscribed = threading.Event()  # set once the broker confirmed our subscription
        self._client = self._make_client()

    # -- public -----------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask `run()` to flush, acknowledge what it committed and return (safe from a signal handler)."""
        self._stopping = True

    def run(self) -> None:
        """Connect, then receive and record until stopped; reconnects with backoff when the broker goes."""
        next_attempt = 0.0
        while not self._stopping:
            if self._refused:
                raise BrokerRefused(self._refused)
            if self._client.socket() is None:
                if time.monotonic() >= next_attempt and not self._try_connect():
                    next_attempt = time.monotonic() + self._net_backoff.next()
                self._maybe_flush(force=bool(self._buffer))
                time.sleep(0.05 if self._client.socket() is None else 0)
                continue
            rc = self._client.loop(timeout=self._loop_timeout())
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._lost_connection(rc)
                next_attempt = time.monotonic() + self._net_backoff.next()
            self._maybe_flush()
            self._maybe_purge()
        self._shutdown()

    def _loop_timeout(self) -> float:
        """How long the network loop may wait for the socket: not at all while a batch is ready to commit, and
        until the next attempt while the database is unavailable (so a long outage costs no CPU)."""
        if not self._buffer:
            return IDLE_POLL_S
        wait = self._retry_at - time.monotonic()
        return min(wait, IDLE_POLL_S) if wait > 0 else 0.0

    # -- connection -------------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.resolved_mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password)
        if s.mqtt_tls_ca:
            use_tls(client, s.mqtt_tls_ca)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _try_connect(self) -> bool:
        s = self.settings
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = s.mqtt_session_expiry_s  # the broker queues for us while we are down
        props.ReceiveMaximum = s.mqtt_receive_maximum  # unacked messages in flight: must exceed a batch
        try:
            self._client.connect(
                s.mqtt_host, s.mqtt_port, keepalive=s.mqtt_keepalive_s, clean_start=False, properties=props
            )
        except OSError as exc:
            log.warning("cannot reach the broker at %s:%s (%s); retrying", s.mqtt_host, s.mqtt_port, exc)
            return False
        self._generation += 1
        return True

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any) -> None:
        if reason.is_failure:
            if reason.value in FATAL_CONNACK:
                self._refused = f"the broker refused the listener: {reason} (check CLINIC_MQTT_USERNAME/PASSWORD)"
            log.warning("broker refused the connection: %s", reason)
            return
        self._connected = True
        self._net_backoff.reset()
        self.stats.connects += 1
        topic = subscription(self.settings.topic_prefix, self.settings.mqtt_shared_group)
        # Subscribe on every connect, so a broker that lost our session still gets the subscription back.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(topic, options=options)
        log.info(
            "connected to %s:%s (session present: %s), subscribing to %s",
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            getattr(flags, "session_present", "?"),
            topic,
        )

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        if any(reason.is_failure for reason in reasons):
            log.error("the broker refused the subscription: %s (check the ACL)", reasons)
            return
        log.info("subscribed: the broker confirmed the subscription")
        self.subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if self._connected:
            log.warning("disconnected from the broker: %s", reason)
        self._connected = False
        self.subscribed.clear()

    def _lost_connection(self, rc: MQTTErrorCode) -> None:
        """Commit what we hold (the broker will redeliver it, and the event key dedupes); drop the socket."""
        log.debug("network loop ended with %s", rc)
        self._connected = False
        self._maybe_flush(force=True)
        if self._client.socket() is not None:  # paho closes it on most errors; make sure, so run() reconnects
            self._client._sock_close()

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
        self._buffer.append(_Pending(msg.mid, msg.qos, self._generation, decoded))
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

    def _record_one_by_one(self, batch: list[_Pending]) -> tuple[BatchResult, int, Exception | None]:
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

    def _ack(self, batch: list[_Pending]) -> None:
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

    def _shutdown(self) -> None:
        """Flush, commit and acknowledge, then leave the session in place for next time."""
        deadline = time.monotonic() + 10
        while self._buffer and time.monotonic() < deadline:
            self._retry_at = 0.0
            self._flush()
            if self._buffer:
                time.sleep(0.2)
        if self._client.socket() is not None:
            end = time.monotonic() + 2
            while self._client.want_write() and time.monotonic() < end:
                self._client.loop(timeout=0.05)
            self._connected = False  # a disconnect we asked for is not worth a warning
            self._client.disconnect()
            self._client.loop(timeout=0.1)
        log.info("listener stopped: %s", self.stats)


def _unavailable(exc: Exception) -> bool:
    """A failure of the database rather than of the batch (locked, down, connection lost): hold and retry."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and (exc.connection_invalidated or is_transient(exc))


def _topic(decoded: Decoded) -> str:
    return getattr(decoded, "topic", "")
