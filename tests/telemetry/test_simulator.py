"""The simulator against a real Mosquitto: valid payloads, unique ids, plausible sequences, online/offline."""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from shared.equipment.events import DeviceEvent
from shared.equipment.payloads import decode
from telemetry.broker_acl import SIMULATOR_USER, listener_user
from telemetry.sim_device import SimulatedDevice
from telemetry.simulator import Simulator, SimulatorError
from tests.conftest import Broker
from tests.helpers import wait_until

DEVICES = [f"sim-{n}" for n in range(1, 6)]
PREFIX = "clinic"


@dataclass
class Recorder:
    """A subscriber with the listener's account that keeps every message it receives, in order."""

    client: mqtt.Client
    messages: list[mqtt.MQTTMessage] = field(default_factory=list)
    subscribed: threading.Event = field(default_factory=threading.Event)

    def statuses(self, *, retained: bool | None = None) -> dict[str, str]:
        """The last status payload seen per device (optionally only retained deliveries)."""
        out = {}
        for msg in self.messages:
            if msg.topic.endswith("/status") and (retained is None or msg.retain == retained):
                out[msg.topic.split("/")[3]] = msg.payload.decode()
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def record(broker: Broker, topic: str = f"{PREFIX}/+/equipment/+/+", *, member: int = 1) -> Recorder:
    """Connect a recorder as a listener account and wait until its subscription is in place.

    Two recorders at once need two accounts: the broker makes the username the client id.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"rec-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    client.username_pw_set(listener_user(member), broker.accounts[listener_user(member)])
    recorder = Recorder(client)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda _c, _u, _m, _rcs, _p: recorder.subscribed.set()
    client.on_message = lambda _c, _u, msg: recorder.messages.append(msg)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert recorder.subscribed.wait(10), "recorder did not subscribe"
    return recorder


def simulator(broker: Broker, *, rate: float, duration_s: float | None) -> Simulator:
    """A simulator on the test broker with the svc.simulator account."""
    password = broker.accounts[SIMULATOR_USER]
    return Simulator(
        broker.settings,
        DEVICES,
        site="main",
        rate=rate,
        duration_s=duration_s,
        username=SIMULATOR_USER,
        password=password,
        seed=7,
    )


def decoded_events(recorder: Recorder) -> list[DeviceEvent]:
    """Every event message decoded with the listener's decoder; fails on the first one it rejects."""
    events = []
    now = datetime.now(UTC)
    for msg in recorder.messages:
        if msg.topic.endswith("/status"):
            continue
        result = decode(msg.topic, msg.payload, prefix=PREFIX, received_at=now)
        assert isinstance(result, DeviceEvent), f"{msg.topic} {msg.payload!r} -> {result}"
        events.append(result)
    return events


@pytest.mark.integration
def test_simulated_traffic_follows_the_device_contract(broker: Broker) -> None:
    live = record(broker)
    sim = simulator(broker, rate=50, duration_s=4)
    thread = threading.Thread(target=sim.run)
    thread.start()
    wait_until(lambda: len(live.statuses()) == len(DEVICES), timeout=15, what="every device online")
    late = record(broker, f"{PREFIX}/main/equipment/+/status", member=2)  # joins mid-run: gets retained
    wait_until(lambda: len(late.statuses(retained=True)) == len(DEVICES), timeout=10, what="retained status")
    assert set(late.statuses(retained=True).values()) == {"online"}
    thread.join(timeout=30)
    assert not thread.is_alive(), "the simulator did not stop after its duration"
    wait_until(lambda: set(live.statuses().values()) == {"offline"}, timeout=10, what="every device offline")
    live.close()
    late.close()

    events = decoded_events(live)
    assert 150 <= len(events) <= 210, f"{len(events)} events in 4 s at 50 msg/s"
    assert len({e.event_id for e in events}) == len(events), "event ids repeat"
    assert Counter(e.channel for e in events) == Counter({k: v for k, v in sim.counts.items() if k != "status"})
    assert_usage_alternates(events)
    after = record(broker, f"{PREFIX}/main/equipment/+/status")
    wait_until(lambda: len(after.statuses(retained=True)) == len(DEVICES), timeout=10, what="retained status")
    assert set(after.statuses(retained=True).values()) == {"offline"}
    after.close()


def assert_usage_alternates(events: list[DeviceEvent]) -> None:
    """Per device: start, stop, start, ... with each stop closing the session its start opened."""
    by_device: dict[str, list[DeviceEvent]] = defaultdict(list)
    for event in events:
        if event.channel == "usage":
            by_device[event.equipment_id].append(event)
    assert set(by_device) == set(DEVICES)
    for device, usage in by_device.items():
        kinds = [e.event for e in usage]
        assert kinds == ["start", "stop"] * (len(kinds) // 2) + ["start"] * (len(kinds) % 2), device
        for start, stop in zip(usage[::2], usage[1::2], strict=False):
            assert stop.session_id == start.session_id and start.session_id
            assert stop.duration_s is not None and stop.duration_s >= 0


@pytest.mark.integration
def test_stop_ends_a_run_without_duration(broker: Broker) -> None:
    live = record(broker)
    sim = simulator(broker, rate=20, duration_s=None)
    thread = threading.Thread(target=sim.run)
    thread.start()
    wait_until(lambda: sim.counts["usage"] >= 5, timeout=15, what="some usage published")
    sim.stop()
    thread.join(timeout=15)
    assert not thread.is_alive()
    wait_until(lambda: set(live.statuses().values()) == {"offline"}, timeout=10, what="every device offline")
    live.close()


@pytest.mark.integration
def test_wrong_password_is_a_clear_error(broker: Broker) -> None:
    sim = Simulator(
        broker.settings,
        DEVICES[:1],
        site="main",
        rate=5,
        duration_s=1,
        username=SIMULATOR_USER,
        password="wrong",
    )
    with pytest.raises(SimulatorError, match=r"refused svc\.simulator"):
        sim.run()


@pytest.mark.parametrize("clean_after_use", [True, False])
def test_device_state_machine(clean_after_use: bool) -> None:
    device = SimulatedDevice("bars-1", random.Random(3), clean_after_use=clean_after_use)
    messages = [m for step in range(10_000) if (m := device.next_message(float(step))) is not None]
    channels = Counter(channel for channel, _ in messages)
    assert channels["usage"] > 3000
    assert (channels["cleaning"] > 0) == clean_after_use
    faults = [body for channel, body in messages if channel == "fault"]
    raised = [f for f in faults if f["event"] == "fault"]
    assert {f["severity"] for f in raised} == {"warning", "critical"}
    assert 120 <= len(raised) <= 300  # about one step in fifty
    assert sum(f["event"] == "cleared" for f in faults) >= len(raised) - 1  # each is cleared later
    assert all(json.dumps(body) for _, body in messages)


def test_usage_stop_reports_the_elapsed_time() -> None:
    device = SimulatedDevice("tm-1", random.Random(1))
    device.state = "idle"
    start = device._start(100.0)
    channel, stop = device._stop(112.5)
    assert channel == "usage" and stop["event"] == "stop"
    assert stop["duration_s"] == 12.5
    assert stop["session_id"] == start[1]["session_id"]
    assert stop["ts"].endswith("Z")
