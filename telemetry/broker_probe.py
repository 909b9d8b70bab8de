"""Whether the broker answers MQTT: one anonymous CONNECT, for `clinic status`.

Anonymous on purpose: connecting with the listener's account would take its session (the broker uses the account
as the client id) and knock the listener off. Any CONNACK, "not authorised" included, means the broker is up and
speaking MQTT; no answer within the timeout means it is not.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from shared.store.settings import Settings
from telemetry.broker_tls import use_tls

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class BrokerProbe:
    """What the probe saw."""

    where: str
    answering: bool
    detail: str  # "answers (anonymous refused, as configured)", or why not


def probe_broker(settings: Settings, *, timeout: float = PROBE_TIMEOUT_S) -> BrokerProbe:
    """Connect anonymously to the configured broker and wait for its CONNACK."""
    where = f"{settings.mqtt_host}:{settings.mqtt_port}"
    answered = threading.Event()
    reason: list[str] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, code: Any, _p: Any) -> None:
        reason.append(str(code))
        answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"clinic-status-{os.getpid()}-{uuid.uuid4().hex[:6]}",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.on_connect = on_connect
    if settings.mqtt_tls_ca:
        use_tls(client, settings.mqtt_tls_ca)
    try:
        client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10)
    except OSError as exc:
        return BrokerProbe(where, False, f"does not accept connections ({exc.strerror or exc})")
    client.loop_start()
    try:
        if not answered.wait(timeout):
            return BrokerProbe(where, False, f"accepted the connection but sent no MQTT answer within {timeout:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    if reason and reason[0] == "Success":
        return BrokerProbe(where, True, "answers")
    return BrokerProbe(where, True, f"answers (anonymous refused: {reason[0]}, as it should)")
