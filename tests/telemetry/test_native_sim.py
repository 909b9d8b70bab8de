"""The native device simulator: its devices' behaviour (pure, on a simulated clock), its Last Wills, a short run
against a real Mosquitto, and the demo's bindings."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine

from shared.demo.native import DEMO_NATIVE, DEMO_NATIVE_DEVICES, PLINTH_BUTTON, PLINTH_VIBRATION, seed_demo_bindings
from shared.demo.stations import devices_to_simulate, seed_demo
from shared.equipment.native.bindings import list_bindings
from shared.equipment.native.dialects import NATIVE_SUBSCRIPTIONS, parse_native
from shared.equipment.native.readings import NativeMalformed, NativeReport
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from telemetry.broker_acl import NATIVE_USER, SIMULATOR_POOL, SIMULATOR_USER, simulator_user
from telemetry.native_sim import (
    NativeSimulator,
    birth,
    connection_groups,
    demo_devices,
    esphome_motion,
    farewell,
    last_will,
    shelly_plug,
    tasmota_plug,
    unbound_shelly_plug,
    z2m_button,
    z2m_vibration,
)
from telemetry.native_sim_devices import NativeSimDevice, Publish, behaviours
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import Client, connect

TICK = 0.25
WALL = 1_800_000_000.0
Said = list[tuple[float, Publish]]


def play(devices: list[NativeSimDevice], seconds: float, seed: int = 1) -> Said:
    """What the devices say over `seconds` of a simulated clock ticking like the simulator's."""
    machines = behaviours(devices, random.Random(seed), 0.0)
    said: Said = [(0.0, m) for b in machines.values() for m in b.start(0.0, WALL)]
    for n in range(1, int(seconds / TICK) + 1):
        now = n * TICK
        said += [(now, m) for b in machines.values() for m in b.step(now, WALL + now)]
    return said


def above(said: Said, topic: str, watts: float) -> list[float]:
    """How long each stretch of `apower` above `watts` lasted, from the status messages on `topic`."""
    spans, since = [], None
    for at, message in said:
        if message.topic == topic:
            power = json.loads(message.payload)["apower"]
            if power > watts and since is None:
                since = at
            elif power <= watts and since is not None:
                spans.append(at - since)
                since = None
    return spans


def test_a_shelly_plug_runs_for_minutes_and_its_spikes_last_seconds() -> None:
    said = play([shelly_plug("tm")], 3 * 3600)
    spans = above(said, "tm/status/switch:0", 10.0)
    uses, spikes = [s for s in spans if s >= 3], [s for s in spans if s < 3]
    assert any(s > 60 for s in uses)
    assert all(45 - TICK <= s <= 120 + TICK for s in uses), uses
    assert spikes and all(1 - TICK <= s < 3 for s in spikes), spikes
    assert len(uses) > 40


def test_shelly_reports_on_change_and_at_least_every_ten_seconds() -> None:
    said = play([shelly_plug("tm")], 1800)
    status = [(at, json.loads(m.payload)) for at, m in said if m.topic == "tm/status/switch:0"]
    notify = [(at, json.loads(m.payload)) for at, m in said if m.topic == "tm/events/rpc"]
    assert max(b[0] - a[0] for a, b in itertools.pairwise(status)) <= 10
    assert all(b[1]["apower"] == a[1]["apower"] or abs(b[1]["apower"] - a[1]["apower"]) > 2
               or b[0] - a[0] >= 10 for a, b in itertools.pairwise(status))  # fmt: skip
    assert notify and all(body["method"] == "NotifyStatus" and body["params"]["ts"] == round(WALL + at, 2)
                          for at, body in notify)  # fmt: skip
    first = status[0][1]
    assert first["output"] is True and 1 < first["apower"] < 5 and first["aenergy"]["total"] > 0


def test_the_unbound_plug_idles_at_two_watts_and_runs_at_about_120() -> None:
    said = play([unbound_shelly_plug()], 1800)
    powers = [json.loads(m.payload)["apower"] for _, m in said if m.topic.endswith("/status/switch:0")]
    assert {p for p in powers if p < 10} and all(p < 3 for p in powers if p < 10)
    assert all(100 < p < 140 for p in powers if 10 < p < 200)


def test_a_tasmota_plug_reports_energy_every_tele_period_and_state_every_30_s() -> None:
    said = play([tasmota_plug("bike")], 1800)
    sensors = [(at, json.loads(m.payload)) for at, m in said if m.topic == "tele/bike/SENSOR"]
    states = [at for at, m in said if m.topic == "tele/bike/STATE"]
    assert {round(b[0] - a[0], 2) for a, b in itertools.pairwise(sensors)} == {5.0}
    assert {round(b - a, 2) for a, b in itertools.pairwise(states)} == {30.0}
    powers = {body["ENERGY"]["Power"] for _, body in sensors}
    assert any(p <= 2 for p in powers) and any(40 <= p <= 90 for p in powers)
    assert all(p <= 2 or 35 <= p <= 100 for p in powers)  # 40-90 W, give or take the noise


def test_the_button_is_pressed_5_to_15_s_after_each_vibration_session() -> None:
    said = play([z2m_button("btn", after="vib"), z2m_vibration("vib")], 3600, seed=4)
    ends = [at for at, m in said if m.topic == "zigbee2mqtt/vib" and not json.loads(m.payload)["vibration"] and at]
    actions = [(at, json.loads(m.payload).get("action")) for at, m in said if m.topic == "zigbee2mqtt/btn"]
    presses = [(at, a) for at, a in actions if a]
    assert len(ends) > 10 and len(presses) >= len(ends) - 1  # the last session may end too late for its press
    for end, (pressed, action) in zip(ends, presses, strict=False):
        assert 5 <= pressed - end <= 15 + TICK and action in ("single", "hold")
    assert [a for _, a in actions].count("") == len(presses)  # Zigbee2MQTT's empty action after each


def test_vibration_comes_every_few_seconds_during_a_session() -> None:
    said = play([z2m_vibration("vib")], 3600)
    pings = [at for at, m in said if m.topic == "zigbee2mqtt/vib" and json.loads(m.payload)["vibration"]]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert pings and all(3 - TICK <= g <= 8 + TICK or g >= 30 for g in gaps)


def test_esphome_motion_is_on_for_30_to_90_s() -> None:
    said = play([esphome_motion("bars", "bars_motion")], 3600)
    states = [(at, m.payload) for at, m in said if m.topic == "bars/binary_sensor/bars_motion/state"]
    assert all(m.retain for _, m in said)
    ons = [b[0] - a[0] for a, b in itertools.pairwise(states) if a[1] == "ON"]
    offs = [b[0] - a[0] for a, b in itertools.pairwise(states[1:]) if a[1] == "OFF"]  # not the first: a short gap
    assert ons and all(30 - TICK <= s <= 90 + TICK for s in ons)
    assert offs and all(20 - TICK <= s <= 60 + TICK for s in offs)


def test_every_message_is_one_the_native_adapter_reads() -> None:
    devices = demo_devices()
    groups = connection_groups(devices)
    said = play(devices, 1200) + [(0.0, m) for g in groups for m in [*birth(g), *farewell(g), last_will(g)]]
    readings: dict[str, set[str]] = defaultdict(set)
    for _, message in said:
        parsed = parse_native(message.topic, message.payload.encode())
        assert parsed, message
        assert not [p for p in parsed if isinstance(p, NativeMalformed)], (message, parsed)
        for report in parsed:
            assert isinstance(report, NativeReport)
            readings[report.source] |= {type(r).__name__ for r in report.readings}
    assert readings["shellyplus-treadmill2"] >= {"Power", "Availability"}
    assert readings["tasmota-bike2"] >= {"Power", "Relay", "Availability"}
    assert readings[PLINTH_VIBRATION] >= {"Active", "Availability"}
    assert readings[PLINTH_BUTTON] >= {"Press", "Availability"}
    assert readings["gym-bars"] >= {"Active", "Availability"}


def test_the_demo_devices_are_the_demo_bindings_and_one_unbound_plug() -> None:
    assert [d.name for d in demo_devices()] == list(DEMO_NATIVE_DEVICES)
    by_name = {d.name: d for d in demo_devices()}
    for spec in DEMO_NATIVE:
        assert by_name[spec.source].via == spec.via
        assert spec.entity is None or by_name[spec.source].object_id == spec.entity
    assert "shellyplugsg3-demo01" in by_name and "shellyplugsg3-demo01" not in {s.source for s in DEMO_NATIVE}


def test_each_client_has_its_vendors_last_will_and_the_zigbee_devices_share_their_bridge() -> None:
    sim = NativeSimulator(settings_stub(), demo_devices(), username=SIMULATOR_USER, password="secret")
    wills = {c.client.will_topic: (c.client.will_payload, c.client._will_retain) for c in sim._connections}
    assert wills == {
        "shellyplus-treadmill2/online": (b"false", True),
        "tele/tasmota-bike2/LWT": (b"Offline", True),
        "gym-bars/status": (b"offline", True),
        "shellyplugsg3-demo01/online": (b"false", True),
        "zigbee2mqtt/bridge/state": (b'{"state":"offline"}', True),
    }
    users = [c.client._username for c in sim._connections]
    assert users == [simulator_user(SIMULATOR_POOL - 1 - n).encode() for n in range(5)]  # the top of the pool


def test_buttons_must_follow_a_simulated_vibration_sensor() -> None:
    with pytest.raises(ValueError, match="no simulated vibration sensor"):
        behaviours([z2m_button("btn", after="nobody")], random.Random(1), 0.0)
    with pytest.raises(ValueError, match=r"svc\.simulator"):
        NativeSimulator(settings_stub(), demo_devices(), username="alice", password="x")


def settings_stub() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


# -- against a real broker ----------------------------------------------------------------------------------------
@dataclass
class Heard:
    """Messages a subscriber with the adapter's account received, by topic."""

    client: Client
    topics: dict[str, list[tuple[str, bool]]] = field(default_factory=lambda: defaultdict(list))

    def collect(self) -> dict[str, list[tuple[str, bool]]]:
        self.topics.clear()
        for msg in self.client.received:
            self.topics[msg.topic].append((msg.payload.decode(), msg.retain))
        return self.topics


def listen_as_adapter(broker: Broker) -> Heard:
    client = connect(broker.port, NATIVE_USER, broker.accounts[NATIVE_USER])
    for topic in NATIVE_SUBSCRIPTIONS:
        assert not client.subscribe(topic)[0].is_failure
    return Heard(client)


AVAILABILITY = {
    "shellyplus-treadmill2/online": ("true", "false"),
    "tele/tasmota-bike2/LWT": ("Online", "Offline"),
    "zigbee2mqtt/bridge/state": ('{"state":"online"}', '{"state":"offline"}'),
    f"zigbee2mqtt/{PLINTH_VIBRATION}/availability": ('{"state":"online"}', '{"state":"offline"}'),
    "gym-bars/status": ("online", "offline"),
}
READINGS = ("shellyplus-treadmill2/status/switch:0", "tele/tasmota-bike2/SENSOR", f"zigbee2mqtt/{PLINTH_VIBRATION}",
            "gym-bars/binary_sensor/bars_motion/state")  # fmt: skip


def test_a_short_run_says_online_then_readings_then_offline_retained(broker: Broker) -> None:
    heard = listen_as_adapter(broker)
    sim = NativeSimulator(broker.settings, demo_devices(), username=SIMULATOR_USER,
                          password=broker.simulator_password, duration_s=3, seed=5)  # fmt: skip
    counts = sim.run()
    assert set(counts) == {"shelly", "tasmota", "zigbee2mqtt", "esphome"}
    wait_until(lambda: all(t in heard.collect() for t in READINGS), timeout=10, what="a reading from each vendor")

    def every_device_said_offline() -> bool:  # the last words arrive after the readings, and may trail them
        topics = heard.collect()
        return all(len(topics.get(topic, [])) >= 2 for topic in AVAILABILITY)

    wait_until(every_device_said_offline, timeout=10, what="each device's offline after its online")
    topics = heard.collect()
    for topic, (online, offline) in AVAILABILITY.items():
        assert [p for p, _ in topics[topic]] == [online, offline], topic
    heard.client.close()

    later = listen_as_adapter(broker)  # a newcomer gets what is retained: each device's last word, offline
    wait_until(lambda: all(t in later.collect() for t in AVAILABILITY), timeout=10, what="retained availability")
    retained = later.collect()
    for topic, (_online, offline) in AVAILABILITY.items():
        assert retained[topic] == [(offline, True)], topic
    later.client.close()


def test_the_broker_publishes_each_clients_last_will_when_it_drops(broker: Broker) -> None:
    sim = NativeSimulator(broker.settings, demo_devices(), username=SIMULATOR_USER,
                          password=broker.simulator_password)  # fmt: skip
    sim._connect_all()
    with_will = ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message")
    for conn in sim._connections:  # as if the device lost power: the broker sends the Will
        conn.client.disconnect(reasoncode=with_will)
        conn.client.loop_stop()
    later = listen_as_adapter(broker)
    wait_until(lambda: "zigbee2mqtt/bridge/state" in later.collect(), timeout=10, what="retained wills")
    retained = later.collect()
    for topic in ("shellyplus-treadmill2/online", "tele/tasmota-bike2/LWT", "zigbee2mqtt/bridge/state",
                  "gym-bars/status"):  # fmt: skip
        assert retained[topic] == [(AVAILABILITY[topic][1], True)], topic
    # A Zigbee device's own availability is the bridge's word: still online; the bridge's Will covers it.
    assert retained[f"zigbee2mqtt/{PLINTH_VIBRATION}/availability"] == [('{"state":"online"}', True)]
    later.client.close()


# -- the demo's bindings ------------------------------------------------------------------------------------------
@dataclass
class FakeAccounts:
    """The domain's `BrokerAccounts`, in memory."""

    natives: dict[str, str] = field(default_factory=dict)

    def account_site(self, equipment_id: str) -> str | None:
        return None

    def set_password(self, equipment_id: str, *, site: str) -> str:
        raise AssertionError("no station account is made")

    def native_account(self, username: str) -> str | None:
        return self.natives.get(username)

    def add_native_account(self, username: str, *, via: str) -> str:
        self.natives[username] = via
        return f"pw-{username}"

    def remove_native_account(self, username: str) -> None:
        self.natives.pop(username, None)


def test_seed_demo_bindings_binds_once_and_the_contract_simulator_leaves_those_stations(engine: Engine) -> None:
    accounts = FakeAccounts()
    with unit_of_work(engine) as session:
        assert seed_demo_bindings(session=session, accounts=accounts, site="main") == []  # no demo stations yet
        seed_demo(session=session, site="main")
    with unit_of_work(engine) as session:
        bound = seed_demo_bindings(session=session, accounts=accounts, site="main")
    assert bound == [spec.source for spec in DEMO_NATIVE]
    with unit_of_work(engine) as session:
        assert seed_demo_bindings(session=session, accounts=accounts, site="main") == []
    assert accounts.natives == {"shellyplus-treadmill2": "shelly", "tasmota-bike2": "tasmota",
                                "zigbee2mqtt": "zigbee2mqtt", "gym-bars": "esphome"}  # fmt: skip
    with read_session(engine) as session:
        bindings = list_bindings(session=session, site="main")
        ids, _ = devices_to_simulate(session=session, site="main", count=None, register=False)
    assert sorted((b.equipment_id, b.source, b.role, b.entity) for b in bindings) == [
        ("bars-1", "gym-bars", "usage", "bars_motion"),
        ("bike-2", "tasmota-bike2", "usage", ""),
        ("plinth-1", PLINTH_BUTTON, "cleaned", ""),
        ("plinth-1", PLINTH_VIBRATION, "usage", ""),
        ("treadmill-2", "shellyplus-treadmill2", "usage", ""),
    ]
    treadmill = next(b for b in bindings if b.equipment_id == "treadmill-2").thresholds
    assert (treadmill.on_hold_s, treadmill.off_hold_s, treadmill.idle_s) == (5.0, 10.0, 20.0)
    assert not {"treadmill-2", "bike-2", "plinth-1", "bars-1"} & set(ids)
    assert {"treadmill-1", "bike-1", "nustep-1"} <= set(ids)
