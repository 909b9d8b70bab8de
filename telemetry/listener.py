"""The MQTT listener: persistent QoS 1 session, batches committed in the MQTT thread, acks only after commit.

Why this shape (docs/devices.md has the contract, docs/benchmarks.md the figures): the broker keeps our
session while we are down, so nothing published meanwhile is lost; a message is acknowledged only once its
row is committed, so a crash before the ack means the broker redelivers it, and the unique event key turns
that into one row.
Writing in the MQTT thread (no queue to a writer thread) and committing whatever is buffered as soon as the
socket has nothing more to read keeps latency low at light load and batches large under a flood.
The batching half (buffer, commit, dead letters, ack) is the `Batching` mixin in telemetry/batching.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine

from shared.equipment.events import BatchResult
from shared.equipment.topics import subscription
from shared.store.settings import Settings
from telemetry.batching import Backoff, Batching, ListenerStats, Pending
from telemetry.persistent_session import BrokerRefused, connect_persistent, persistent_client, refusal

log = logging.getLogger(__name__)

RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0  # exponential backoff between connection attempts
DB_RETRY_MIN_S, DB_RETRY_MAX_S = 0.2, 10.0  # backoff while the database is locked or down
IDLE_POLL_S = 0.25  # longest the network loop blocks, so stop() and keep-alives are noticed


class Listener(Batching):
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
        self._buffer: list[Pending] = []
        self._first_buffered = 0.0
        self._retry_at = 0.0
        self._db_backoff = Backoff(DB_RETRY_MIN_S, DB_RETRY_MAX_S)
        self._net_backoff = Backoff(RECONNECT_MIN_S, RECONNECT_MAX_S)
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
        client = persistent_client(self.settings, self.settings.resolved_mqtt_client_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _try_connect(self) -> bool:
        if not connect_persistent(self._client, self.settings):
            return False
        self._generation += 1
        return True

    def _on_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any) -> None:
        if reason.is_failure:
            self._refused = refusal(reason, "the listener", "check CLINIC_MQTT_USERNAME/PASSWORD")
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
