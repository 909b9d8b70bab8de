"""The flood: QoS 1 messages published from a thread, every PUBACK awaited, across broker restarts.

Its own module because the main thread times its faults on the flood's progress (`acked`, `done`) while it runs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from bench.common import PUBLISH_WINDOW, Broker, Message, Publisher


class FloodPublisher(Publisher):
    """bench.common.Publisher that keeps going across broker restarts.

    paho keeps every unacknowledged QoS 1 message (also those published while disconnected) and sends it again
    after reconnecting, so each message is PUBACKed once in the end; `infos` tells which were.
    """

    def __init__(self, broker: Broker) -> None:
        super().__init__(broker)
        self.connects = 1
        self.client.reconnect_delay_set(0.1, 1)
        self.client.on_connect = self._count_connect

    def _count_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.connects += 1

    def publish_info(self, topic: str, payload: bytes, window_timeout: float) -> mqtt.MQTTMessageInfo:
        with self._cond:
            while self.sent - self.acked >= PUBLISH_WINDOW:
                if not self._cond.wait(timeout=window_timeout):
                    raise TimeoutError(f"no PUBACK for {window_timeout:.0f}s")
        info = self.client.publish(topic, payload, qos=1)
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            # Published while the broker was away: paho keeps it and sends it after reconnecting. Mark the info
            # as pending rather than failed, so that is_published() tells whether its PUBACK came.
            info.rc = mqtt.MQTT_ERR_SUCCESS
        elif info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        with self._cond:
            self.sent += 1
        return info

    def wait_acked(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.acked >= self.sent, timeout=timeout)


class Flood:
    """Publishes the messages from a thread; `acked` and `done` let the main thread time its faults."""

    def __init__(self, broker: Broker, messages: list[Message], timeout: float) -> None:
        self.messages = messages
        self.timeout = timeout
        self.publisher = FloodPublisher(broker)
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.error: str | None = None
        self.started = 0.0
        self.publish_s = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="flood", daemon=True)

    @property
    def acked(self) -> int:
        return self.publisher.acked

    def start(self) -> None:
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        try:
            for topic, payload in self.messages:
                self.infos.append(self.publisher.publish_info(topic, payload, self.timeout))
            if not self.publisher.wait_acked(self.timeout):
                raise TimeoutError(f"only {self.publisher.acked:,} of {self.publisher.sent:,} PUBACKed")
        except BaseException as exc:  # reported by the main thread
            self.error = f"flood: {exc}"
        finally:
            self.publish_s = time.monotonic() - self.started
            self.done.set()

    def published(self) -> list[int]:
        """Indexes of the messages the broker acknowledged (a refusal in the PUBACK is reported as an error)."""
        return [i for i, info in enumerate(self.infos) if info.is_published()]

    def close(self) -> None:
        self.publisher.close()
