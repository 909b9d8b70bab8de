"""Publishing at QoS 1 as the simulator's account, with a bounded window of unacknowledged messages.

The window is kept here rather than in paho (see Publisher), so a benchmark's publish rate is not limited by
paho's queue handling; bench/reliability/ builds its reconnecting flood on this class.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt

from bench.common.broker import Broker
from bench.common.payloads import Message
from bench.common.sessions import connect_blocking, disconnect, v5_client
from telemetry.broker_acl import SIMULATOR_USER

PUBLISH_WINDOW = 500  # QoS 1 publishes in flight at once (below the broker's receive maximum of 1000)


class Publisher:
    """The simulator's account publishing at QoS 1, with its own window of unacknowledged messages."""

    def __init__(self, broker: Broker) -> None:
        self.client = v5_client(f"bench-pub-{uuid.uuid4().hex[:8]}", SIMULATOR_USER, broker.simulator_password)
        # paho rescans its whole outgoing queue on every PUBACK when it holds more than its in-flight limit,
        # so the window is kept here and paho's limit set above it (it then never queues).
        self.client.max_inflight_messages_set(PUBLISH_WINDOW * 2)
        self.client.max_queued_messages_set(0)
        self._cond = threading.Condition()
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.client.on_publish = self._on_publish
        connect_blocking(self.client, broker.port, clean_start=True, expiry=0)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        with self._cond:
            self.acked += 1
            if reason.is_failure:
                self.failed += 1
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes) -> None:
        with self._cond:
            while self.sent - self.acked >= PUBLISH_WINDOW:
                if not self._cond.wait(timeout=30):
                    raise TimeoutError("no PUBACK for 30s")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {info.rc}")
        with self._cond:
            self.sent += 1

    def wait_all_acked(self, timeout: float = 120) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.acked >= self.sent, timeout=timeout):
                raise TimeoutError(f"only {self.acked} of {self.sent} publishes acknowledged")
        if self.failed:
            raise RuntimeError(f"the broker refused {self.failed} publishes (check the ACL)")

    def close(self) -> None:
        disconnect(self.client)


def publish_backlog(broker: Broker, messages: Sequence[Message]) -> float:
    """Publish everything at QoS 1 and wait for every PUBACK; returns the seconds it took."""
    publisher = Publisher(broker)
    try:
        started = time.perf_counter()
        for topic, payload in messages:
            publisher.publish(topic, payload)
        publisher.wait_all_acked()
        return time.perf_counter() - started
    finally:
        publisher.close()
