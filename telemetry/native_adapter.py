"""The native-device adapter: reads Shelly, Tasmota, Zigbee2MQTT and ESPHome messages, infers uses, cleanings
and faults, and publishes them as the device contract's messages on the stations' own topics.

Why this shape: translating at the edge keeps one path into the store (the listener's exactly-once ingest, dead
letters, replay, a chain's bridges). Exactly once across crashes: each batch's inference states, the packet ids
it consumed and the derived messages (an outbox) commit in one transaction; only then are the native messages
acknowledged and the derived ones published at QoS 1, and an outbox row is deleted once the broker confirmed
it. A crash anywhere replays from the last commit: a redelivered native message is recognised by its packet id
and bytes, and a derived message published twice has the same event id, which ingest stores once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.equipment.native.dialects import NATIVE_SUBSCRIPTIONS
from shared.equipment.native.store import (
    bindings_version,
    delete_outbox,
    load_bindings,
    load_translator,
    pending_outbox,
    store_plan,
)
from shared.equipment.native.translate import NativeMessage, Outgoing, Plan, Translator
from shared.store.db import write_transaction
from shared.store.settings import Settings
from shared.store.types import utcnow
from telemetry.batching import Backoff
from telemetry.broker_acl import NATIVE_USER
from telemetry.persistent_session import BrokerRefused, connect_persistent, persistent_client, refusal

log = logging.getLogger(__name__)

BATCH_MAX = 500  # native messages planned and committed in one transaction
FLUSH_EVERY_S = 0.2  # holds are seconds long: a fifth of a second of batching costs nothing a person sees
BINDINGS_EVERY_S = 1.0  # how often a bind, unbind or new threshold is picked up
IDLE_POLL_S = 0.1
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0
DB_RETRY_MIN_S, DB_RETRY_MAX_S = 0.2, 10.0


@dataclass(slots=True)
class AdapterStats:
    """Running totals, for logs, tests and benchmarks."""

    received: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    derived: int = 0
    batches: int = 0
    connects: int = 0


@dataclass(slots=True)
class _Held:
    message: NativeMessage
    qos: int
    generation: int


class NativeAdapter:
    """Runs until `stop()`: subscribe to the vendors' topics, translate in batches, publish what they imply."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self.stats = AdapterStats()
        self.client_id = settings.mqtt_username or NATIVE_USER
        self.translator = Translator(prefix=settings.topic_prefix)
        self._held: list[_Held] = []
        self._inflight: dict[int, int] = {}  # paho mid of a derived publish -> its outbox row
        self._confirmed: list[int] = []  # outbox rows the broker acknowledged, deleted with the next batch
        self._version: tuple[int, object] | None = None
        self._next_flush = self._next_bindings = self._retry_at = 0.0
        self._db_backoff = Backoff(DB_RETRY_MIN_S, DB_RETRY_MAX_S)
        self._net_backoff = Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._generation = 0
        self._connected = self._stopping = False
        self._refused: str | None = None
        self.subscribed = threading.Event()  # set once the broker confirmed every native subscription
        self._client = self._make_client()

    def stop(self) -> None:
        """Ask `run()` to commit what it holds and return (safe from a signal handler)."""
        self._stopping = True

    def run(self) -> None:
        """Load what was committed, connect, and translate until stopped; reconnects with backoff."""
        with write_transaction(self.engine) as conn:
            startup = load_translator(conn, self.translator, client_id=self.client_id)
            self._version = bindings_version(conn)
        self._queue_outbox(startup)
        next_attempt = 0.0
        while not self._stopping:
            if self._refused:
                raise BrokerRefused(self._refused)
            if self._client.socket() is None:
                if time.monotonic() >= next_attempt and not self._try_connect():
                    next_attempt = time.monotonic() + self._net_backoff.next()
                time.sleep(0.05)
                continue
            if self._client.loop(timeout=IDLE_POLL_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._connected = False
                next_attempt = time.monotonic() + self._net_backoff.next()
            self._tick()
        self._shutdown()

    # -- the work between network reads ------------------------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_bindings:
            self._next_bindings = now + BINDINGS_EVERY_S
            self._reload_bindings()
        if now < self._retry_at:
            return
        due = len(self._held) >= BATCH_MAX or (now >= self._next_flush and (self._held or self._confirmed))
        if due or (now >= self._next_flush and self.translator.due(utcnow())):
            self._next_flush = now + FLUSH_EVERY_S
            self._flush(self._held[:BATCH_MAX])

    def _reload_bindings(self) -> None:
        """Pick up binds, unbinds and new thresholds (a cheap count-and-newest query when nothing changed)."""
        try:
            with self.engine.connect() as conn:
                version = bindings_version(conn)
                if version == self._version:
                    return
                views, states = load_bindings(conn)
        except (OperationalError, DBAPIError) as exc:
            log.warning("could not read the bindings (%s); trying again shortly", type(exc).__name__)
            return
        self._version = version
        log.info("bindings changed: %d device bindings now", len(views))
        self._queue_outbox(self.translator.use_bindings(views, states))

    def _queue_outbox(self, outgoing: Sequence[Outgoing]) -> None:
        """Statuses implied by new bindings: committed to the outbox like any derived message."""
        if not outgoing:
            return
        self._commit(Plan(outgoing=list(outgoing)), [])

    def _flush(self, batch: list[_Held]) -> None:
        plan = self.translator.plan([held.message for held in batch], utcnow())
        if self._commit(plan, batch):
            self.stats.batches += 1
            self.stats.duplicates += plan.duplicates
            self.stats.dead_lettered += len(plan.rejects)
            for reject in plan.rejects:
                log.warning("dead letter (%s) on %s", reject.reason, reject.topic)

    def _commit(self, plan: Plan, batch: list[_Held]) -> bool:
        """Store the plan, then acknowledge its messages and publish what it derived; False if the store failed."""
        done = list(self._confirmed)
        try:
            with write_transaction(self.engine) as conn:
                ids = store_plan(conn, plan, client_id=self.client_id, done=done)
        except (OperationalError, DBAPIError) as exc:
            delay = self._db_backoff.next()
            self._retry_at = time.monotonic() + delay
            log.warning("database unavailable (%s); holding %d messages unacked, retrying in %.1fs",
                        type(exc).__name__, len(self._held), delay)  # fmt: skip
            return False
        self._db_backoff.reset()
        self._retry_at = 0.0
        del self._confirmed[: len(done)]
        self.translator.accept(plan)
        del self._held[: len(batch)]
        for held in batch:
            if held.qos > 0 and held.generation == self._generation and self._connected:
                self._client.ack(held.message.mid, held.qos)
        self.stats.derived += len(ids)
        self._publish(list(zip(ids, plan.outgoing, strict=True)))
        return True

    def _publish(self, rows: list[tuple[int, Outgoing]]) -> None:
        """Publish derived messages at QoS 1 (while disconnected they wait in the outbox for the reconnect)."""
        if not self._connected:
            return
        for outbox_id, out in rows:
            info = self._client.publish(out.topic, out.payload, qos=1, retain=out.retain)
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._inflight[info.mid] = outbox_id
            log.debug("published %s on %s", out.payload[:80], out.topic)

    # -- connection ------------------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        client = persistent_client(self.settings, self.client_id)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def _try_connect(self) -> bool:
        if not connect_persistent(self._client, self.settings):
            return False
        self._generation += 1
        return True

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            self._refused = refusal(reason, "the native adapter", f"check its account {self.client_id}")
            return
        self._connected = True
        self._net_backoff.reset()
        self.stats.connects += 1
        client.subscribe([(topic, 1) for topic in NATIVE_SUBSCRIPTIONS])
        log.info("connected (session present: %s), subscribing to %d native topic filters",
                 getattr(flags, "session_present", "?"), len(NATIVE_SUBSCRIPTIONS))  # fmt: skip
        self._inflight.clear()
        try:
            with self.engine.connect() as conn:
                waiting = pending_outbox(conn)
        except (OperationalError, DBAPIError):
            log.warning("could not read the outbox; its messages go out after the next batch", exc_info=True)
            return
        self._publish(waiting)  # whatever the broker had not confirmed before the connection went

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused %d native subscriptions (%s): check the ACL of %s",
                      len(refused), ", ".join(refused), self.client_id)  # fmt: skip
        else:
            log.info("subscribed to the native topics")
            self.subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.subscribed.clear()
        if self._connected:
            log.warning("disconnected from the broker: %s", reason)
        self._connected = False

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # Nothing raises out of a paho callback: the message is only buffered here; parsing happens in the plan.
        topic = msg._topic.decode("utf-8", "replace")
        native = NativeMessage(topic, bytes(msg.payload), utcnow(), msg.mid, bool(msg.dup))
        self._held.append(_Held(native, msg.qos, self._generation))
        self.stats.received += 1

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        outbox_id = self._inflight.pop(mid, None)
        if outbox_id is not None and not reason.is_failure:
            self._confirmed.append(outbox_id)
        elif outbox_id is not None:
            log.error("the broker refused a derived message (%s): check the ACL of %s", reason, self.client_id)

    def _shutdown(self) -> None:
        """Commit what is held, let the broker confirm the derived messages, then disconnect (session kept)."""
        deadline = time.monotonic() + 10
        while self._held and time.monotonic() < deadline:
            self._retry_at = 0.0
            self._flush(self._held[:BATCH_MAX])
            if self._held:
                time.sleep(0.2)
        end = time.monotonic() + 2
        while self._inflight and self._client.socket() is not None and time.monotonic() < end:
            self._client.loop(timeout=0.05)
        if self._confirmed:
            try:
                with write_transaction(self.engine) as conn:
                    delete_outbox(conn, self._confirmed)
            except (OperationalError, DBAPIError):
                log.warning("could not delete confirmed outbox rows; they are published again at start")
        if self._client.socket() is not None:
            self._connected = False
            self._client.disconnect()
            self._client.loop(timeout=0.1)
        log.info("native adapter stopped: %s", self.stats)
