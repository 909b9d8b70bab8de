"""MQTT and listener helpers for the integration tests: real clients against the test broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from shared.store.settings import Settings
from telemetry.broker_acl import listener_user
from telemetry.listener import Listener
from tests.helpers import wait_until

if TYPE_CHECKING:
    from tests.conftest import Broker


@dataclass
class Client:
    """A connected paho client (MQTT v5) with the outcomes of its requests recorded for assertions."""

    client: mqtt.Client
    connack: list[ReasonCode] = field(default_factory=list)
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)
    subacks: list[list[ReasonCode]] = field(default_factory=list)
    received: list[mqtt.MQTTMessage] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self.pubacks, timeout=10, what=f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def subscribe(self, topic: str) -> list[ReasonCode]:
        count = len(self.subacks)
        self.client.subscribe(topic, qos=1)
        wait_until(lambda: len(self.subacks) > count, timeout=10, what="SUBACK")
        return self.subacks[-1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(
    port: int,
    username: str | None = None,
    password: str | None = None,
    *,
    client_id: str | None = None,
    wait: bool = True,
    clean_start: bool = True,
) -> Client:
    """Connect a v5 client; returns once the CONNACK arrived (accepted or not)."""
    raw = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    raw.max_inflight_messages_set(500)
    raw.max_queued_messages_set(0)
    if username:
        raw.username_pw_set(username, password)
    wrapper = Client(raw)
    raw.on_connect = lambda _c, _u, _f, rc, _p: wrapper.connack.append(rc)
    raw.on_publish = lambda _c, _u, mid, rc, _p: wrapper.pubacks.__setitem__(mid, rc)
    raw.on_subscribe = lambda _c, _u, _mid, rcs, _p: wrapper.subacks.append(list(rcs))
    raw.on_message = lambda _c, _u, msg: wrapper.received.append(msg)
    raw.connect("127.0.0.1", port, clean_start=clean_start)
    raw.loop_start()
    if wait:
        wait_until(lambda: wrapper.connack, timeout=10, what="CONNACK")
    return wrapper


def usage_messages(devices: list[str], per_device: int, prefix: str = "clinic") -> list[tuple[str, bytes]]:
    """Alternating start/stop events for each device, interleaved across devices, with unique event ids."""
    now = datetime.now(UTC).isoformat()
    out = []
    for n in range(per_device):
        for device in devices:
            body = {"v": 1, "event_id": f"{device}-{n}", "event": "start" if n % 2 == 0 else "stop", "ts": now}
            if n % 2:
                body["duration_s"] = 60
            out.append((f"{prefix}/main/equipment/{device}/usage", json.dumps(body).encode()))
    return out


def publish_all(client: Client, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and wait until the broker acknowledged every one."""
    infos = [client.client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout=60)
        assert info.is_published()


def listener_settings(broker: Broker, db_url: str, *, member: int = 1, **overrides: Any) -> Settings:
    """Settings for a listener on the test broker and store (listener account `member`: its client id too)."""
    user = listener_user(member)
    values: dict[str, Any] = {
        "data_dir": broker.settings.data_dir,
        "database_url": db_url,
        "mqtt_port": broker.port,
        "mqtt_username": user,
        "mqtt_password": broker.accounts[user],
        "timezone": "UTC",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def running_listener(settings: Settings, engine: Any, *, writer_thread: bool = False) -> Iterator[Listener]:
    """The project's listener on a thread (its writer a process, or with `writer_thread` a thread on `engine`, for
    tests that hook the engine's events), stopped (commit, ack) on exit."""
    listener = Listener(settings, engine, writer_thread=writer_thread)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    try:
        wait_until(listener.subscribed.is_set, timeout=15, what="listener subscribed")
        yield listener
    finally:
        listener.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "listener did not stop"


def listener_process(settings: Settings) -> subprocess.Popen[bytes]:
    """`clinic listen` as a real process, configured through CLINIC_* environment variables."""
    env = {**os.environ, **settings.as_env()}
    code = "from clinic.cli import main; main()"
    with open(settings.data_dir / "listener.log", "ab") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen([sys.executable, "-c", code, "listen"], env=env, stderr=log)
