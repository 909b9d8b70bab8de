"""The native device simulator: Shelly and Tasmota plugs, Zigbee2MQTT sensors and buttons, ESPHome nodes, each
speaking its vendor's own MQTT dialect, for demos and tests of the native adapter (`clinic simulate-native`).

What each device says is `telemetry.native_sim_devices` (pure); this module names the demo's devices and owns the
clients and the clock. A client connects with its vendor's Last Will (retained), says online (retained) on every
connect and offline on a clean shutdown, and publishes at QoS 1. Each device is a client of its own, except that
the Zigbee devices share one, their bridge, as with Zigbee2MQTT (whose Last Will is `zigbee2mqtt/bridge/state`).
With svc.simulator, client k connects as the pool account `svc.simulator-<63 - k>`: from the top of the pool, so
that `clinic simulate` (which counts from the bottom) runs beside it without the two taking each other's accounts
(the broker makes the username the client id).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from shared.demo import native as demo
from shared.store.settings import Settings
from telemetry.broker import pool_password
from telemetry.broker_acl import SIMULATOR_POOL, SIMULATOR_USER, simulator_user
from telemetry.broker_tls import use_tls
from telemetry.native_sim_devices import Behaviour, NativeSimDevice, Publish, behaviours, state_json
from telemetry.simulator import SHUTDOWN_TIMEOUT_S, connect_all, outstanding, wait_for

log = logging.getLogger(__name__)

TICK_S = 0.25  # how often every device is asked what it has to say
MAX_CLIENTS = 16  # pool accounts taken from the top; `clinic simulate` keeps the other 48
CLIENT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
Z2M_BRIDGE_STATE = "zigbee2mqtt/bridge/state"


def shelly_plug(name: str) -> NativeSimDevice:
    """A treadmill on a Shelly plug: ~3 W idle, runs of 45-120 s at 180-320 W, now and then a 1-2 s spike."""
    return NativeSimDevice("shelly", name, "plug", spikes=True)


def unbound_shelly_plug(name: str = demo.UNBOUND_PLUG) -> NativeSimDevice:
    """A Shelly plug feeding no station yet (2 W idle, runs at ~120 W), to bind and calibrate from live watts."""
    return NativeSimDevice("shelly", name, "plug", idle_watts=2.0, run_watts=(115.0, 125.0), spikes=True)


def tasmota_plug(name: str) -> NativeSimDevice:
    """A bike on a Tasmota plug: 1.5 W idle, runs of 60-150 s at 40-90 W, SENSOR every TelePeriod (5 s)."""
    return NativeSimDevice("tasmota", name, "plug", idle_watts=1.5, run_watts=(40.0, 90.0), run_s=(60.0, 150.0),
                           report_s=demo.TASMOTA_TELE_PERIOD_S)  # fmt: skip


def z2m_vibration(name: str) -> NativeSimDevice:
    """A plinth's Zigbee vibration sensor: sessions of 40-100 s (vibration every 3-8 s), gaps of 30-60 s."""
    return NativeSimDevice("zigbee2mqtt", name, "vibration", run_s=(40.0, 100.0), gap_s=(30.0, 60.0))


def z2m_button(name: str, *, after: str) -> NativeSimDevice:
    """A Zigbee button pressed 5-15 s after the vibration sensor `after` ends a session (1 in 20: held)."""
    return NativeSimDevice("zigbee2mqtt", name, "button", after=after)


def esphome_motion(name: str, object_id: str) -> NativeSimDevice:
    """An ESPHome node's motion binary_sensor: ON for 30-90 s, then OFF for 20-60 s."""
    return NativeSimDevice("esphome", name, "motion", object_id=object_id, run_s=(30.0, 90.0))


def demo_devices() -> list[NativeSimDevice]:
    """The devices of the demo gym (`shared.demo.native`), bound or not."""
    return [
        shelly_plug(demo.SHELLY_TREADMILL),
        tasmota_plug(demo.TASMOTA_BIKE),
        z2m_vibration(demo.PLINTH_VIBRATION),
        z2m_button(demo.PLINTH_BUTTON, after=demo.PLINTH_VIBRATION),
        esphome_motion(demo.BARS_NODE, demo.BARS_ENTITY),
        unbound_shelly_plug(),
    ]


# -- connections: who says what about being online -----------------------------------------------------------------
def connection_groups(devices: Sequence[NativeSimDevice]) -> list[list[NativeSimDevice]]:
    """One MQTT client per device, but one for all the Zigbee devices: their Zigbee2MQTT bridge."""
    zigbee = [d for d in devices if d.via == "zigbee2mqtt"]
    groups = [[d] for d in devices if d.via != "zigbee2mqtt"]
    return [*groups, zigbee] if zigbee else groups


def last_will(group: Sequence[NativeSimDevice]) -> Publish:
    """The client's Last Will, as the vendor sets it (retained): a Zigbee2MQTT bridge's is the bridge's state."""
    if group[0].via == "zigbee2mqtt":
        return Publish(Z2M_BRIDGE_STATE, state_json(False), True)
    return group[0].availability(False)


def birth(group: Sequence[NativeSimDevice]) -> list[Publish]:
    """What the client says on every connect (retained): online, for the bridge and each of its devices."""
    bridge = [Publish(Z2M_BRIDGE_STATE, state_json(True), True)] if group[0].via == "zigbee2mqtt" else []
    return bridge + [d.availability(True) for d in group]


def farewell(group: Sequence[NativeSimDevice]) -> list[Publish]:
    """What the client says before a clean disconnect (which discards the Last Will): offline, retained."""
    bridge = [last_will(group)] if group[0].via == "zigbee2mqtt" else []
    return [d.availability(False) for d in group] + bridge


@dataclass(slots=True)
class _Connection:
    group: list[NativeSimDevice]
    client: mqtt.Client
    connected: threading.Event = field(default_factory=threading.Event)
    refused: str | None = None
    started: bool = False  # said its devices' current state once
    pending: list[mqtt.MQTTMessageInfo] = field(default_factory=list)


class NativeSimulator:
    """Plays native devices until `duration_s` passes or `stop()` is called; see `run()`."""

    def __init__(
        self,
        settings: Settings,
        devices: Sequence[NativeSimDevice],
        *,
        username: str | None,
        password: str | None,
        duration_s: float | None = None,
        seed: int | None = None,
    ) -> None:
        if not devices:
            raise ValueError("the native simulator needs at least one device")
        self.settings, self.duration_s = settings, duration_s
        self.counts: Counter[str] = Counter()  # messages published, by vendor (`shelly`, `tasmota`, ...)
        self._rng = random.Random(seed)
        self._username, self._password = username, password
        self._stopping = False
        self._lock = threading.Lock()  # publishes come from the main thread and from the clients' on_connect
        self._token = uuid.uuid4().hex[:6]  # keeps client ids apart when two simulators run
        self._behaviours: dict[str, Behaviour] = behaviours(devices, self._rng, time.monotonic())
        groups = connection_groups(devices)
        if len(groups) > 1 and username != SIMULATOR_USER:
            raise ValueError(f"{username or 'anonymous'} can play one device only; use {SIMULATOR_USER}")
        if len(groups) > MAX_CLIENTS:
            raise ValueError(f"the native simulator runs at most {MAX_CLIENTS} clients, got {len(groups)}")
        self._connections = [self._connection(n, group) for n, group in enumerate(groups)]

    def stop(self) -> None:
        """Ask `run()` to finish (safe from a signal handler: it only sets a flag)."""
        self._stopping = True

    def run(self) -> dict[str, int]:
        """Connect every device, let them talk, then shut down cleanly; returns the messages per vendor."""
        try:
            self._connect_all()
            log.info("playing %d native devices via %s:%s", len(self._behaviours), self.settings.mqtt_host,
                     self.settings.mqtt_port)  # fmt: skip
            self._loop()
        finally:
            self._shutdown()
        log.info("native simulator stopped after publishing %s", dict(self.counts))
        return dict(self.counts)

    # -- clients ----------------------------------------------------------------------------------------------------
    def _connection(self, n: int, group: list[NativeSimDevice]) -> _Connection:
        name = "zigbee2mqtt" if group[0].via == "zigbee2mqtt" else group[0].name
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5,
                             client_id=f"nsim-{CLIENT_ID_UNSAFE.sub('_', name)}-{self._token}")  # fmt: skip
        if self._username == SIMULATOR_USER and self._password:
            user = simulator_user(SIMULATOR_POOL - 1 - n)  # from the top: `clinic simulate` starts at 0
            client.username_pw_set(user, pool_password(self._password, user))
        elif self._username:
            client.username_pw_set(self._username, self._password)
        if self.settings.mqtt_tls_ca:
            use_tls(client, self.settings.mqtt_tls_ca)
        will = last_will(group)
        client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        client.reconnect_delay_set(1, 30)
        conn = _Connection(group, client)
        client.on_connect = lambda _c, _u, _f, reason, _p: self._on_connect(conn, reason)
        return conn

    def _on_connect(self, conn: _Connection, reason: ReasonCode) -> None:
        """Runs in the client's network thread: say online (retained), or note the refusal."""
        if reason.is_failure:
            conn.refused = str(reason)
        else:  # on every connect, so that a reconnect after the Last Will fired says online again
            for message in birth(conn.group):
                self._publish(conn, message)
        conn.connected.set()

    def _connect_all(self) -> None:
        connect_all(self.settings, self._connections, self._username)

    # -- the clock --------------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        """Every TICK_S, ask each device what it has to say; the first time, its current state."""
        end = time.monotonic() + self.duration_s if self.duration_s else None
        next_tick = time.monotonic()
        while not self._stopping:
            now = time.monotonic()
            if end is not None and now >= end:
                return
            if now < next_tick:
                time.sleep(min(next_tick - now, (end or next_tick) - now))
                continue
            next_tick = max(next_tick + TICK_S, now)  # after a stall, carry on from now rather than burst
            wall = time.time()
            for conn in self._connections:
                for spec in conn.group:
                    device = self._behaviours[spec.name]
                    said = device.step(now, wall) if conn.started else device.start(now, wall)
                    for message in said:
                        self._publish(conn, message)
                conn.started = True

    def _publish(self, conn: _Connection, message: Publish) -> None:
        info = conn.client.publish(message.topic, message.payload, qos=1, retain=message.retain)
        with self._lock:
            conn.pending = [p for p in conn.pending if outstanding(p)]
            conn.pending.append(info)
            self.counts[conn.group[0].via] += 1
        log.debug("published %s on %s", message.payload, message.topic)

    # -- shutdown ---------------------------------------------------------------------------------------------------
    def _shutdown(self) -> None:
        """Say offline (retained), wait for the broker to acknowledge what is in flight, then disconnect."""
        for conn in self._connections:
            if conn.connected.is_set() and not conn.refused:
                for message in farewell(conn.group):
                    self._publish(conn, message)
        deadline = time.monotonic() + SHUTDOWN_TIMEOUT_S
        unconfirmed = sum(
            wait_for(self._pending(conn), deadline if conn.client.is_connected() else 0.0)
            for conn in self._connections
        )
        if unconfirmed:
            log.warning("%d messages were not acknowledged by the broker before shutdown", unconfirmed)
        for conn in self._connections:  # all first, so that no network thread goes on retrying meanwhile
            conn.client.disconnect()
        for conn in self._connections:
            conn.client.loop_stop()

    def _pending(self, conn: _Connection) -> list[mqtt.MQTTMessageInfo]:
        with self._lock:
            return list(conn.pending)
