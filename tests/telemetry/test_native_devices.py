"""Real devices' dialects end to end: `clinic device bind` makes the account, the device publishes its vendor's
real payload shapes through it on the repo's Mosquitto, the native adapter and the listener put it on the board."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from shared.equipment.models import EquipmentEvent
from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from shared.store.settings import Settings, get_settings
from telemetry.native_adapter import NativeAdapter
from tests.cli_support import run, run_json
from tests.conftest import Broker
from tests.factories import read_station
from tests.helpers import wait_until
from tests.mqtt_helpers import Client, connect, listener_settings, running_listener

pytestmark = pytest.mark.integration
SHELLY = "shellyplusplugs-a8032ab1"
HOLDS = ("--on-watts", "50", "--off-watts", "20", "--on-hold", "2", "--off-hold", "2")


@pytest.fixture
def clinic(broker: Broker, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """`clinic` on the test broker's data folder and store, with a treadmill and a plinth registered."""
    for key, value in listener_settings(broker, db_url).as_env().items():
        if not key.startswith("CLINIC_MQTT_USER") and not key.startswith("CLINIC_MQTT_PASS"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="treadmill-1", name="Treadmill 1",
                           kind="treadmill")  # fmt: skip
        register_equipment(session=session, site="main", equipment_id="plinth-1", name="Plinth", kind="plinth")
    yield CliRunner()
    get_settings.cache_clear()


def adapter_settings(broker: Broker, db_url: str) -> Settings:
    return listener_settings(broker, db_url, mqtt_username="svc.native", mqtt_password=broker.accounts["svc.native"])


@contextmanager
def running_adapter(settings: Settings, engine: Engine) -> Iterator[NativeAdapter]:
    """The native adapter on a thread, stopped (commit, publish, ack) on exit."""
    adapter = NativeAdapter(settings, engine)
    thread = threading.Thread(target=adapter.run, daemon=True)
    thread.start()
    try:
        # Subscribed, not only connected: a device's message before the SUBACK would find no subscription.
        wait_until(adapter.subscribed.is_set, timeout=15, what="adapter subscribed")
        yield adapter
    finally:
        adapter.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "adapter did not stop"


@contextmanager
def recording(broker: Broker, engine: Engine, db_url: str) -> Iterator[NativeAdapter]:
    with running_listener(listener_settings(broker, db_url), engine), \
            running_adapter(adapter_settings(broker, db_url), engine) as adapter:  # fmt: skip
        yield adapter


def shelly_device(broker: Broker, password: str) -> Client:
    """A Shelly plug as it connects: its own account, a retained `online false` Last Will, then `true`."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=SHELLY, protocol=mqtt.MQTTv311)
    raw.will_set(f"{SHELLY}/online", "false", qos=1, retain=True)
    raw.username_pw_set(SHELLY, password)
    client = Client(raw)
    raw.on_connect = lambda _c, _u, _f, rc, _p: client.connack.append(rc)
    raw.on_publish = lambda _c, _u, mid, rc, _p: client.pubacks.__setitem__(mid, rc)
    raw.connect("127.0.0.1", broker.port)
    raw.loop_start()
    wait_until(lambda: client.connack, what="the plug's CONNACK")
    assert not client.connack[0].is_failure, client.connack
    client.publish(f"{SHELLY}/online", "true", retain=True)
    return client


def shelly_watts(device: Client, watts: float, *, twice: bool = False) -> None:
    """What a Shelly Plus Plug S publishes when its power changes: the switch's status and an RPC notification."""
    status = {"id": 0, "source": "init", "output": True, "apower": watts, "voltage": 120.4, "current": watts / 120,
              "aenergy": {"total": 10.5, "by_minute": [0.0, 0.0, 0.0], "minute_ts": 1765000000},
              "temperature": {"tC": 33.1, "tF": 91.6}}  # fmt: skip
    notify = {"src": SHELLY, "dst": f"{SHELLY}/events", "method": "NotifyStatus",
              "params": {"ts": __import__("time").time(), "switch:0": {"id": 0, "apower": watts}}}  # fmt: skip
    for _ in range(2 if twice else 1):
        device.publish(f"{SHELLY}/status/switch:0", json.dumps(status))
        device.publish(f"{SHELLY}/events/rpc", json.dumps(notify))


def derived_events(engine: Engine, equipment_id: str) -> list[tuple[str, str]]:
    query = select(EquipmentEvent.channel, EquipmentEvent.event).where(
        EquipmentEvent.equipment_id == equipment_id, EquipmentEvent.channel != "status"  # type: ignore[arg-type]
    ).order_by(EquipmentEvent.event_at)  # type: ignore[arg-type]
    with engine.connect() as conn:
        return [(c, e) for c, e in conn.execute(query)]


def bind_shelly(clinic: CliRunner) -> dict[str, Any]:
    info = run_json(clinic, "device", "bind", "treadmill-1", "--via", "shelly", "--source", SHELLY, *HOLDS)
    assert isinstance(info, dict)
    return info


def test_bind_prints_the_account_and_its_topics_once(clinic: CliRunner) -> None:
    info = bind_shelly(clinic)
    assert (info["station"], info["via"], info["source"], info["username"]) == ("treadmill-1", "shelly", SHELLY, SHELLY)
    assert info["topics"] == [f"{SHELLY}/#"] and len(info["password"]) >= 16
    again = run_json(clinic, "device", "bind", "treadmill-1", "--via", "shelly", "--source", SHELLY, "--on-watts", "80")
    assert isinstance(again, dict) and "password" not in again and again["updated"] is True
    assert (again["on_watts"], again["off_watts"]) == (80, 20)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--via", "shelly", "--source", SHELLY], "station nope is not registered at site main"),
        (["treadmill-1", "--via", "hue", "--source", SHELLY], "--via 'hue' is not one of"),
        (["treadmill-1", "--via", "shelly", "--source", SHELLY, "--on-watts", "5", "--off-watts", "9"],
         "off-watts"),
        (["treadmill-1", "--via", "shelly", "--source", "treadmill-1"], "already the broker account of station"),
    ],
)
def test_bind_refusals_are_one_clear_line(clinic: CliRunner, args: list[str], message: str) -> None:
    if args[-1] == "treadmill-1":
        assert run(clinic, "device", "add", "treadmill-1")[0] == 0
    code, _out, err = run(clinic, "device", "bind", *args)
    assert code == 2 and err.startswith("error: ") and message in err, err


def test_a_source_bound_elsewhere_is_refused(clinic: CliRunner) -> None:
    bind_shelly(clinic)
    code, _out, err = run(clinic, "device", "bind", "plinth-1", "--via", "shelly", "--source", SHELLY)
    assert code == 2 and "already bound to station treadmill-1" in err


def test_a_plug_cannot_publish_as_another_plug_or_on_the_contract(clinic: CliRunner, broker: Broker) -> None:
    device = connect(broker.port, SHELLY, bind_shelly(clinic)["password"])  # MQTT 5: a refusal has a reason code
    try:
        assert not device.publish(f"{SHELLY}/status/switch:0", '{"id":0,"apower":1}').is_failure
        for topic in ("shellyplusplugs-other/status/switch:0", "clinic/main/equipment/treadmill-1/usage",
                      "zigbee2mqtt/Plinth button"):  # fmt: skip
            assert device.publish(topic, "{}").is_failure, topic
    finally:
        device.close()


def test_one_use_per_power_run_none_for_a_spike_and_offline_by_last_will(
    clinic: CliRunner, broker: Broker, engine: Engine, db_url: str
) -> None:
    password = bind_shelly(clinic)["password"]
    with recording(broker, engine, db_url):
        device = shelly_device(broker, password)
        shelly_watts(device, 3.2)
        wait_until(lambda: read_station(engine, "treadmill-1").online is True, what="online from the plug")
        shelly_watts(device, 310.0)  # a one-second spike: switching on, a belt test
        shelly_watts(device, 3.1)
        shelly_watts(device, 245.0, twice=True)  # a real run; every message duplicated by the device's retries
        wait_until(lambda: read_station(engine, "treadmill-1").status == "in_use", what="in use after the hold")
        shelly_watts(device, 2.0, twice=True)
        wait_until(lambda: read_station(engine, "treadmill-1").status == "needs_cleaning", what="done")
        device.client.socket().close()  # the plug loses power: no DISCONNECT, the broker sends its Last Will
        wait_until(lambda: read_station(engine, "treadmill-1").online is False, what="offline by last will")
        device.client.loop_stop()
    station = read_station(engine, "treadmill-1")
    assert station.uses_total == 1
    assert derived_events(engine, "treadmill-1") == [("usage", "start"), ("usage", "stop")]


def test_vibration_sensor_and_cleaning_button_through_zigbee2mqtt(
    clinic: CliRunner, broker: Broker, engine: Engine, db_url: str
) -> None:
    first = run_json(clinic, "device", "bind", "plinth-1", "--via", "zigbee2mqtt", "--source", "Plinth vibration",
                     "--idle", "2")  # fmt: skip
    second = run_json(clinic, "device", "bind", "plinth-1", "--via", "zigbee2mqtt", "--source", "Plinth button",
                      "--role", "cleaned")  # fmt: skip
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["username"] == second["username"] == "zigbee2mqtt" and "password" not in second
    with recording(broker, engine, db_url):
        bridge = connect(broker.port, "zigbee2mqtt", first["password"])
        bridge.publish("zigbee2mqtt/Plinth vibration/availability", '{"state":"online"}', retain=True)
        sensor = {"battery": 97, "linkquality": 120, "voltage": 3005, "strength": 12, "angle_x": 1, "angle_y": 2}
        bridge.publish("zigbee2mqtt/Plinth vibration", json.dumps({**sensor, "vibration": True}))
        wait_until(lambda: read_station(engine, "plinth-1").status == "in_use", what="in use on vibration")
        bridge.publish("zigbee2mqtt/Plinth vibration", json.dumps({**sensor, "vibration": False}))
        wait_until(lambda: read_station(engine, "plinth-1").status == "needs_cleaning", what="done after idle")
        bridge.publish("zigbee2mqtt/Plinth button", '{"battery":100,"linkquality":90,"action":"single"}')
        bridge.publish("zigbee2mqtt/Plinth button", '{"battery":100,"linkquality":90,"action":""}')
        wait_until(lambda: read_station(engine, "plinth-1").status == "available", what="cleaned by the button")
        bridge.close()
    station = read_station(engine, "plinth-1")
    assert (station.uses_total, station.last_cleaned_by) == (1, "cleaning button")
    assert derived_events(engine, "plinth-1") == [("usage", "start"), ("usage", "stop"), ("cleaning", "cleaned")]


def test_unbound_device_is_offered_and_malformed_payloads_are_dead_letters(
    clinic: CliRunner, broker: Broker, engine: Engine, db_url: str
) -> None:
    with recording(broker, engine, db_url):
        simulator = connect(broker.port, "svc.simulator", broker.simulator_password)
        simulator.publish("shellyplugsg3-8cbfeaa5c0f4/status/switch:0", '{"id":0,"output":true,"apower":0.0}')
        simulator.publish("tele/tasmota_1A2B3C/SENSOR", '{"Time":"2026-12-06T10:00:00","ENERGY":{"Power":"abc"}}')
        simulator.close()
        wait_until(lambda: run_json(clinic, "device", "unbound"), what="the unbound plug listed")
        wait_until(lambda: run_json(clinic, "deadletters"), what="the malformed payload kept")
    unbound = run_json(clinic, "device", "unbound")
    assert isinstance(unbound, list) and [u["source"] for u in unbound] == ["shellyplugsg3-8cbfeaa5c0f4"]
    assert unbound[0]["now"] == "0 W now" and unbound[0]["vendor"] == "Shelly plug"
    text = run(clinic, "device", "unbound")[1]
    assert "shellyplugsg3-8cbfeaa5c0f4" in text and "0 W now" in text
    letters = run_json(clinic, "deadletters")
    assert isinstance(letters, list) and letters[0]["topic"] == "tele/tasmota_1A2B3C/SENSOR"
    assert "Power" in letters[0]["reason"] and letters[0]["code"] == "native_payload"


def native_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`clinic native` as a real process, so it can be SIGKILLed mid-use; returns once it has subscribed."""
    env = {**os.environ, **settings.as_env()}
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as handle:
        process = subprocess.Popen([sys.executable, "-c", "from clinic.cli import main; main()", "native"], env=env,
                                   stderr=handle)  # fmt: skip
    wait_until(lambda: "subscribed to the native topics" in log.read_text()[start:], what="the adapter subscribed")
    return process


def test_adapter_killed_mid_use_records_the_use_once(
    clinic: CliRunner, broker: Broker, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    password = bind_shelly(clinic)["password"]
    settings = adapter_settings(broker, db_url)
    with running_listener(listener_settings(broker, db_url), engine):
        adapter = native_process(settings, tmp_path / "native.log")
        device = shelly_device(broker, password)
        try:
            shelly_watts(device, 240.0)
            wait_until(lambda: read_station(engine, "treadmill-1").status == "in_use", what="in use")
            adapter.send_signal(signal.SIGKILL)
            adapter.wait(timeout=10)
            shelly_watts(device, 238.0, twice=True)  # queued for the adapter's session while it is down
            shelly_watts(device, 1.5)
            adapter = native_process(settings, tmp_path / "native.log")
            wait_until(lambda: read_station(engine, "treadmill-1").status == "needs_cleaning", what="done, restarted")
            shelly_watts(device, 1.4, twice=True)
        finally:
            adapter.terminate()
            adapter.wait(timeout=20)
            device.close()
    assert read_station(engine, "treadmill-1").uses_total == 1
    assert derived_events(engine, "treadmill-1") == [("usage", "start"), ("usage", "stop")]
