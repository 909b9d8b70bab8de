"""The device simulator: one MQTT client per station, publishing plausible traffic at a steady overall rate.

Each station's behaviour lives in `telemetry.sim_device`; this module owns the clients and the schedule.
Every publish is QoS 1 and follows the device contract: JSON events on usage/cleaning/fault, and a retained
`online` on status after connecting, with a retained `offline` as Last Will and on a clean shutdown.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from shared.equipment.events import Channel
from shared.equipment.topics import equipment_topic
from shared.store.settings import ID_PATTERN, Settings
from telemetry.broker import ensure_broker_files, pool_password
from telemetry.broker_acl import SIMULATOR_POOL, SIMULATOR_USER, simulator_user
from telemetry.broker_files import BrokerFiles
from telemetry.broker_tls import use_tls
from telemetry.sim_device import SimulatedDevice

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0  # longest wait for the broker to acknowledge what is still in flight
MAX_LAG_S = 1.0  # further behind schedule than this (a stall), restart the schedule instead of bursting
NAP_S = 0.1  # longest sleep between checks, so stop() takes effect promptly


class SimulatorError(RuntimeError):
    """The simulator could not start (broker unreachable or credentials refused); the message says why."""


def simulator_credentials(settings: Settings) -> tuple[str | None, str | None]:
    """CLINIC_MQTT_USERNAME/PASSWORD if set, else svc.simulator when broker files exist, else anonymous."""
    if settings.mqtt_username:
        return settings.mqtt_username, settings.mqtt_password
    if BrokerFiles(settings.broker_dir).accounts.exists():
        return SIMULATOR_USER, ensure_broker_files(settings)[SIMULATOR_USER]
    return None, None


@dataclass(slots=True)
class _Connection:
    device: SimulatedDevice
    client: mqtt.Client
    status_topic: str
    connected: threading.Event = field(default_factory=threading.Event)
    refused: str | None = None
    pending: list[mqtt.MQTTMessageInfo] = field(default_factory=list)


class Simulator:
    """Publishes simulated device traffic until `duration_s` passes or `stop()` is called; see `run()`."""

    def __init__(
        self,
        settings: Settings,
        device_ids: list[str],
        *,
        site: str,
        rate: float,
        duration_s: float | None,
        username: str | None,
        password: str | None,
        seed: int | None = None,
        no_cleaning: Collection[str] = (),
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be a positive number of messages per second, got {rate}")
        if not device_ids:
            raise ValueError("the simulator needs at least one device id")
        if not ID_PATTERN.match(site):
            raise ValueError(f"site {site!r} must match {ID_PATTERN.pattern}")
        self.settings, self.site, self.rate, self.duration_s = settings, site, rate, duration_s
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._username, self._password = username, password
        self._stopping = False
        self._token = uuid.uuid4().hex[:6]  # keeps client ids apart when two simulators run
        if len(device_ids) > 1 and username != SIMULATOR_USER:
            # The broker makes each client's id its username, so stations sharing one account would keep
            # disconnecting each other.
            raise ValueError(f"{username or 'anonymous'} can simulate one station only; use {SIMULATOR_USER}")
        if len(device_ids) > SIMULATOR_POOL:
            raise ValueError(f"the simulator drives at most {SIMULATOR_POOL} stations, got {len(device_ids)}")
        self._connections = [self._connection(n, d, d not in no_cleaning) for n, d in enumerate(device_ids)]

    def stop(self) -> None:
        """Ask `run()` to finish (safe from a signal handler: it only sets a flag)."""
        self._stopping = True

    def run(self) -> dict[str, int]:
        """Connect every device, publish on schedule, then shut down cleanly; returns messages per channel."""
        try:
            self._connect_all()
            s = self.settings
            log.info(
                "simulating %d devices at %.2f msg/s via %s:%s",
                len(self._connections),
                self.rate,
                s.mqtt_host,
                s.mqtt_port,
            )
            self._publish_loop()
        finally:
            self._shutdown()
        log.info("simulator stopped after publishing %s", dict(self.counts))
        return dict(self.counts)

    # -- clients ----------------------------------------------------------------------------------------
    def _connection(self, n: int, equipment_id: str, clean_after_use: bool) -> _Connection:
        s = self.settings
        device = SimulatedDevice(equipment_id, random.Random(self._rng.random()), clean_after_use)
        status = equipment_topic(s.topic_prefix, self.site, equipment_id, "status")
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sim-{equipment_id}-{self._token}",
            protocol=mqtt.MQTTv5,
        )
        if self._username == SIMULATOR_USER and self._password:
            # Station n connects as svc.simulator-<n> (its own client id at the broker), same rights.
            user = simulator_user(n)
            client.username_pw_set(user, pool_password(self._password, user))
        elif self._username:
            client.username_pw_set(self._username, self._password)
        if s.mqtt_tls_ca:
            use_tls(client, s.mqtt_tls_ca)
        client.will_set(status, "offline", qos=1, retain=True)
        client.reconnect_delay_set(1, 30)
        conn = _Connection(device, client, status)
        client.on_connect = lambda _c, _u, _f, reason, _p: self._on_connect(conn, reason)
        return conn

    def _on_connect(self, conn: _Connection, reason: ReasonCode) -> None:
        """Runs in the client's network thread: say online (retained), or note the refusal."""
        if reason.is_failure:
            conn.refused = str(reason)
        else:
            # On every connect, so that a reconnect after the Last Will fired says online again.
            conn.client.publish(conn.status_topic, "online", qos=1, retain=True)
            self.counts["status"] += 1
        conn.connected.set()

    def _connect_all(self) -> None:
        connect_all(self.settings, self._connections, self._username)

    # -- schedule ---------------------------------------------------------------------------------------
    def _publish_loop(self) -> None:
        """Publish message k at base + k/rate: absolute monotonic deadlines, so the rate does not drift."""
        base = time.monotonic()
        end = base + self.duration_s if self.duration_s else None
        sent = 0
        while not self._stopping:
            now = time.monotonic()
            if end is not None and now >= end:
                return
            due = base + sent / self.rate
            if now < due:
                time.sleep(min(due - now, NAP_S, (end or due) - now))
                continue
            if now - due > MAX_LAG_S:
                base, sent = now, 0
            self._step(now)
            sent += 1

    def _step(self, now: float) -> None:
        """Let one station (at random, passing over those waiting for repair) publish its next message."""
        for conn in self._rng.sample(self._connections, len(self._connections)):
            message = conn.device.next_message(now)
            if message is not None:
                self._publish(conn, *message)
                return

    def _publish(self, conn: _Connection, channel: Channel, body: dict[str, Any]) -> None:
        topic = equipment_topic(self.settings.topic_prefix, self.site, conn.device.equipment_id, channel)
        info = conn.client.publish(topic, json.dumps(body, separators=(",", ":")), qos=1)
        conn.pending = [p for p in conn.pending if outstanding(p)]
        conn.pending.append(info)
        self.counts[channel] += 1
        log.debug("published %s %s on %s", channel, body["event"], topic)

    # -- shutdown ---------------------------------------------------------------------------------------
    def _shutdown(self) -> None:
        """Say offline (retained), wait for the broker to acknowledge what is in flight, then disconnect."""
        for conn in self._connections:
            if conn.connected.is_set() and not conn.refused:
                conn.pending.append(conn.client.publish(conn.status_topic, "offline", qos=1, retain=True))
                self.counts["status"] += 1
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S
        # No point waiting on a client that is not connected: its acks cannot come.
        unconfirmed = sum(
            wait_for(conn.pending, deadline if conn.client.is_connected() else 0.0) for conn in self._connections
        )
        if unconfirmed:
            log.warning("%d messages were not acknowledged by the broker before shutdown", unconfirmed)
        for conn in self._connections:  # all first, so that no network thread goes on retrying meanwhile
            conn.client.disconnect()
        for conn in self._connections:
            conn.client.loop_stop()


class SimConnection(Protocol):
    """What `connect_all` needs of a simulated device's connection."""

    client: mqtt.Client
    connected: threading.Event
    refused: str | None


def connect_all(settings: Settings, connections: Sequence[SimConnection], username: str | None) -> None:
    """Connect every simulated device and wait for each CONNACK; `SimulatorError` says what went wrong."""
    where = f"{settings.mqtt_host}:{settings.mqtt_port}"
    for conn in connections:
        try:
            conn.client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=settings.mqtt_keepalive_s)
        except OSError as exc:
            raise SimulatorError(f"cannot reach the broker at {where}: {exc}") from exc
        conn.client.loop_start()
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    for conn in connections:
        if not conn.connected.wait(max(0.0, deadline - time.monotonic())):
            raise SimulatorError(f"no answer from the broker at {where} in {CONNECT_TIMEOUT_S:.0f}s")
        if conn.refused:
            who = username or "anonymous"
            hint = "check CLINIC_MQTT_USERNAME/PASSWORD, or run `clinic init` for the svc.simulator account"
            raise SimulatorError(f"the broker refused {who}: {conn.refused} ({hint})")


def wait_for(infos: list[mqtt.MQTTMessageInfo], deadline: float) -> int:
    """Wait until `deadline` for publishes to be acknowledged; returns how many still are not."""
    missing = 0
    for info in infos:
        # A publish made while disconnected stays queued for the next connection, but paho cannot wait on it.
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
        missing += outstanding(info)
    return missing


def outstanding(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether a publish still awaits the broker's ack (False once acked, or when paho cannot tell)."""
    try:
        return not info.is_published()
    except (RuntimeError, ValueError):
        return False
