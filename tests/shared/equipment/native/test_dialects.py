"""The native dialects against real payloads (`tests/fixtures/native/<vendor>.json`, each citing where it was
published) and against bad ones: readings exactly as expected, precise reasons, topic filters, device names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from shared.equipment.native.dialects import (
    NATIVE_SUBSCRIPTIONS,
    device_topics_read,
    native_topics,
    parse_native,
    source_name_problem,
)
from shared.equipment.native.readings import (
    VIAS,
    Active,
    Availability,
    NativeMalformed,
    NativeParsed,
    NativeReport,
    Power,
    Press,
    Reading,
    Relay,
    Via,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "native"
RESERVED = frozenset({"clinic"})
CONTRACT_TOPICS = ("clinic/main/equipment/tm-1/usage", "clinic/main/equipment/tm-1/status", "clinic/main/registry/tm-1")


def _fixtures() -> list[tuple[Via, dict[str, Any]]]:
    return [(via, entry) for via in VIAS for entry in json.loads((FIXTURES / f"{via}.json").read_text())]


FIXTURE_ENTRIES = _fixtures()


def _reading(spec: list[Any]) -> Reading:
    kind, *args = spec
    readings: dict[str, Any] = {"Power": Power, "Active": Active, "Relay": Relay, "Availability": Availability}
    return Press(*args) if kind == "Press" else readings[kind](*args)


def _expected(via: Via, part: dict[str, Any]) -> NativeParsed:
    if "malformed" in part:
        return NativeMalformed(via, part["source"], part["malformed"])
    readings = tuple(_reading(spec) for spec in part["readings"])
    return NativeReport(via, part["source"], readings, part.get("channel", ""), part.get("entity", ""),
                        part.get("device_ts"), part.get("summary", {}))  # fmt: skip


@pytest.mark.parametrize(
    ("via", "entry"), [pytest.param(v, e, id=f"{v}:{e['topic']}:{i}") for i, (v, e) in enumerate(FIXTURE_ENTRIES)]
)
def test_real_payloads_give_the_expected_readings(via: Via, entry: dict[str, Any]) -> None:
    got = parse_native(entry["topic"], entry["payload"].encode(), reserved=RESERVED)
    assert got == [_expected(via, part) for part in entry["expect"]]


def test_every_vendor_has_real_examples_with_their_source() -> None:
    for via in VIAS:
        entries = [entry for v, entry in FIXTURE_ENTRIES if v == via]
        assert len(entries) >= 7, via
        assert all(entry["_source"].startswith("github.com/") for entry in entries), via


@pytest.mark.parametrize("topic", sorted({entry["topic"] for _, entry in FIXTURE_ENTRIES}))
def test_every_fixture_topic_is_subscribed(topic: str) -> None:
    assert any(topic_matches_sub(sub, topic) for sub in NATIVE_SUBSCRIPTIONS)


@pytest.mark.parametrize("topic", CONTRACT_TOPICS)
def test_the_contract_topics_are_neither_subscribed_nor_parsed(topic: str) -> None:
    assert not any(topic_matches_sub(sub, topic) for sub in NATIVE_SUBSCRIPTIONS)
    assert parse_native(topic, b'{"event":"start"}', reserved=RESERVED) is None


def test_a_notify_status_about_two_switches_gives_one_report_per_channel() -> None:
    payload = (b'{"src":"shellypro2pm-ec6260977960","method":"NotifyStatus","params":{"ts":1700000000.12,'
               b'"switch:0":{"id":0,"apower":61.5},"switch:1":{"id":1,"apower":0,"output":false}}}')  # fmt: skip
    assert parse_native("shellypro2pm-ec6260977960/events/rpc", payload) == [
        NativeReport("shelly", "shellypro2pm-ec6260977960", (Power(61.5),), channel="0", device_ts=1700000000.12),
        NativeReport("shelly", "shellypro2pm-ec6260977960", (Power(0.0), Relay(False)), "1", device_ts=1700000000.12),
    ]


def test_a_press_carries_its_input_and_its_own_time() -> None:
    payload = (b'{"method":"NotifyEvent","params":{"ts":1700000001.5,"events":[{"component":"input:2","id":2,'
               b'"event":"long_push","ts":1700000001.25},'
               b'{"component":"input:2","id":2,"event":"btn_up","ts":1.0}]}}')  # fmt: skip
    assert parse_native("shellyplusi4-a8032ab1fe78/events/rpc", payload) == [
        NativeReport("shelly", "shellyplusi4-a8032ab1fe78", (Press("long", "long_push"),), "2", device_ts=1700000001.25)
    ]


MALFORMED = [
    ("tele/plug-1/SENSOR", b'{"ENERGY":{"Power":"abc"}}', "tasmota", "plug-1",
     "tele/plug-1/SENSOR: ENERGY.Power must be a number, got 'abc'"),
    ("tele/plug-1/SENSOR", b'{"ENERGY":{"Power":[12,true]}}', "tasmota", "plug-1",
     "tele/plug-1/SENSOR: ENERGY.Power[1] must be a number, got true"),
    ("tele/plug-1/SENSOR", b'{"ENERGY":{"Power":NaN}}', "tasmota", "plug-1",
     "tele/plug-1/SENSOR: payload is not JSON: NaN is not a JSON value"),
    ("tele/plug-1/SENSOR", b'{"ENERGY":{"Power":-Infinity}}', "tasmota", "plug-1",
     "tele/plug-1/SENSOR: payload is not JSON: -Infinity is not a JSON value"),
    ("tele/plug-1/SENSOR", b'{"ENERGY":[1]}', "tasmota", "plug-1",
     "tele/plug-1/SENSOR: ENERGY must be a JSON object, got a list"),
    ("tele/plug-1/SENSOR", b"[1]", "tasmota", "plug-1",
     "tele/plug-1/SENSOR: payload must be a JSON object, got a list"),
    ("tele/plug-1/LWT", b"Maybe", "tasmota", "plug-1",
     "tele/plug-1/LWT: payload must be Online or Offline, got 'Maybe'"),
    ("tele/plug-1/STATE", b'{"POWER":"BLINK"}', "tasmota", "plug-1",
     "tele/plug-1/STATE: POWER must be ON or OFF, got 'BLINK'"),
    ("stat/plug-1/RESULT", b'{"POWER2":1}', "tasmota", "plug-1", "stat/plug-1/RESULT: POWER2 must be ON or OFF, got 1"),
    ("stat/plug-1/POWER", b"1", "tasmota", "plug-1", "stat/plug-1/POWER: payload must be ON or OFF, got '1'"),
    ("shellyplusplugs-a8032ab1/status/switch:0", b'{"apower":true}', "shelly", "shellyplusplugs-a8032ab1",
     "shellyplusplugs-a8032ab1/status/switch:0: apower must be a number, got true"),
    ("shellyplusplugs-a8032ab1/status/switch:0", b'{"apower":1e400}', "shelly", "shellyplusplugs-a8032ab1",
     "shellyplusplugs-a8032ab1/status/switch:0: apower must be a finite number, got inf"),
    ("shellyplusplugs-a8032ab1/status/pm1:0", b'{"apower":"61.5"}', "shelly", "shellyplusplugs-a8032ab1",
     "shellyplusplugs-a8032ab1/status/pm1:0: apower must be a number, got '61.5'"),
    ("s1/events/rpc", b'{"method":"NotifyStatus","params":{"ts":"now","switch:0":{"apower":5}}}', "shelly", "s1",
     "s1/events/rpc: params.ts must be a number, got 'now'"),
    ("s1/events/rpc", b'{"method":"NotifyStatus","params":{"switch:1":{"output":"on"}}}', "shelly", "s1",
     "s1/events/rpc: params.switch:1.output must be true or false, got 'on'"),
    ("s1/events/rpc", b'{"method":"NotifyStatus","params":{"switch:0":[]}}', "shelly", "s1",
     "s1/events/rpc: params.switch:0 must be a JSON object, got a list"),
    ("s1/events/rpc", b'{"params":{}}', "shelly", "s1", "s1/events/rpc: method must be a string, got null"),
    ("s1/events/rpc", b'{"method":"NotifyEvent","params":{"events":{}}}', "shelly", "s1",
     "s1/events/rpc: params.events must be a list, got an object"),
    ("s1/events/rpc", b'{"method":"NotifyEvent","params":{"events":[{"component":"input:0"}]}}', "shelly", "s1",
     "s1/events/rpc: params.events[0].event must be a string, got null"),
    ("s1/online", b"yes", "shelly", "s1", "s1/online: payload must be true or false, got 'yes'"),
    ("s1/status/sys", b"\xff\xfe", "shelly", "s1", "s1/status/sys: payload is not UTF-8 text (bad byte at 0)"),
    ("s1/status/sys", b'{"a":', "shelly", "s1", "s1/status/sys: payload is not JSON: Expecting value at character 5"),
    ("s1/status/sys", b"[" * 60000, "shelly", "s1", "s1/status/sys: payload is not JSON we read: nested too deeply"),
    ("s1/status/sys", b"{" + b" " * 65536 + b"}", "shelly", "s1", "s1/status/sys: payload is 65538 bytes, over 65536"),
    ("zigbee2mqtt/bike sensor", b'{"vibration":"yes"}', "zigbee2mqtt", "bike sensor",
     "zigbee2mqtt/bike sensor: vibration must be true or false, got 'yes'"),
    ("zigbee2mqtt/button", b'{"action":5}', "zigbee2mqtt", "button",
     "zigbee2mqtt/button: action must be a string, got 5"),
    ("zigbee2mqtt/plug", b'{"power":"12 W"}', "zigbee2mqtt", "plug",
     "zigbee2mqtt/plug: power must be a number, got '12 W'"),
    ("zigbee2mqtt/plug/availability", b'{"state":"away"}', "zigbee2mqtt", "plug",
     "zigbee2mqtt/plug/availability: state must be online or offline, got 'away'"),
    ("zigbee2mqtt/bridge/state", b"gone", "zigbee2mqtt", "",
     "zigbee2mqtt/bridge/state: payload must be online or offline, got 'gone'"),
    ("gym-bike-2/sensor/power/state", b"abc", "esphome", "gym-bike-2",
     "gym-bike-2/sensor/power/state: payload must be a number, got 'abc'"),
    ("gym-bike-2/sensor/power/state", b"inf", "esphome", "gym-bike-2",
     "gym-bike-2/sensor/power/state: payload must be a number, got 'inf'"),
    ("gym-bike-2/sensor/power/state", b"1e999", "esphome", "gym-bike-2",
     "gym-bike-2/sensor/power/state: payload must be a finite number, got '1e999'"),
    ("gym-bike-2/binary_sensor/pedal/state", b"1", "esphome", "gym-bike-2",
     "gym-bike-2/binary_sensor/pedal/state: payload must be ON or OFF, got '1'"),
    ("gym-bike-2/status", b"up", "esphome", "gym-bike-2",
     "gym-bike-2/status: payload must be online or offline, got 'up'"),
]  # fmt: skip


@pytest.mark.parametrize(("topic", "payload", "via", "source", "reason"), MALFORMED, ids=[m[4][:70] for m in MALFORMED])
def test_unreadable_payloads_name_the_bad_value(topic: str, payload: bytes, via: Via, source: str, reason: str) -> None:
    assert parse_native(topic, payload, reserved=RESERVED) == [NativeMalformed(via, source, reason)]


NOT_NATIVE = [
    *CONTRACT_TOPICS,
    "clinic/status",  # the caller's own prefix is never a device name
    "homeassistant/status",  # Home Assistant's birth message
    "zigbee2mqtt/bridge/devices",
    "zigbee2mqtt/bridge/info",
    "zigbee2mqtt/bridge",
    "zigbee2mqtt/kitchen/floor_light",  # a friendly name with `/` is refused at bind time
    "zigbee2mqtt/button/set",
    "zigbee2mqtt/button/action",  # the same action as on zigbee2mqtt/button: it would count twice
    "cmnd/plug-1/POWER",
    "tele/plug-1",
    "tele/plug-1/SENSOR/extra",
    "tele/bad name/SENSOR",
    "stat/status/POWER",  # a reserved Tasmota name
    "shellies/shelly1-ABCDEF/relay/0",  # Gen1, not supported
    "$SYS/broker/uptime",
    "shellyplusplugs-a8032ab1/rpc",  # requests to the device, not from it
    "shellyplusplugs-a8032ab1/command",
    "shellyplusplugs-a8032ab1/status/",
    "gym-bike-2/sensor/power/command",
    "gym-bike-2/text_sensor/version/state",
    "gym-bike-2/sensor/bad id/state",
    "",
    "/",
    "gym-bike-2",
]


@pytest.mark.parametrize("topic", NOT_NATIVE)
def test_topics_of_no_native_device_are_ignored(topic: str) -> None:
    assert parse_native(topic, b'{"state":"online"}', reserved=RESERVED) is None


@pytest.mark.parametrize("topic", ["zigbee2mqtt/button", "tele/plug-1/LWT", "s1/status/switch:0", "gym-bike-2/status"])
def test_an_empty_payload_clears_a_retained_message_and_says_nothing(topic: str) -> None:
    assert parse_native(topic, b"") == []


PRESSES = [
    ("single", "single"), ("double", "double"), ("triple", "triple"), ("hold", "long"), ("long", "long"),
    ("long_press", "long"), ("press", "single"), ("on", "single"), ("off", "single"), ("toggle", "single"),
    ("single_left", "single"), ("1_single", "single"), ("double_both", "double"), ("on_hold", "long"),
    ("on-hold", "long"), ("toggle_hold", "long"), ("arrow_left_click", "single"), ("1_initial_press", "single"),
    ("hold_release", None), ("release", None), ("on_press_release", None), ("1_short_release", None),
    ("brightness_stop", None), ("brightness_move_up", None), ("vibration", None), ("tilt", None), ("drop", None),
    ("shake", None), ("quadruple", None), ("", None),
]  # fmt: skip


@pytest.mark.parametrize(("action", "kind"), PRESSES)
def test_zigbee2mqtt_actions_that_are_presses(action: str, kind: str | None) -> None:
    parts = parse_native("zigbee2mqtt/remote", json.dumps({"action": action}).encode())
    assert parts is not None and isinstance(parts[0], NativeReport)
    assert parts[0].readings == ((Press(kind, action),) if kind else ())  # type: ignore[arg-type]


def test_a_null_action_is_no_press() -> None:
    assert parse_native("zigbee2mqtt/remote", b'{"action":null,"linkquality":51}') == [
        NativeReport("zigbee2mqtt", "remote", summary={"linkquality": 51})
    ]


NAME_PROBLEMS = [
    ("tasmota", "tasmota_1A2B3C", None),
    ("shelly", "shellyplusplugs-a8032ab1", None),
    ("esphome", "gym-bike-2", None),
    ("zigbee2mqtt", "Treadmill vibration 1", None),
    ("zigbee2mqtt", "0x00158d00035cf702", None),
    ("shelly", "", "a Shelly name must be 1-64 letters, digits, '_' and '-', starting with a letter or digit "
                   "(a topic level and broker username), got ''"),
    ("tasmota", "-plug", "a Tasmota name must be 1-64 letters, digits, '_' and '-', starting with a letter or digit "
                         "(a topic level and broker username), got '-plug'"),
    ("esphome", "gym bike", "an ESPHome name must be 1-64 letters, digits, '_' and '-', starting with a letter or "
                            "digit (a topic level and broker username), got 'gym bike'"),
    ("shelly", "a" * 65, "a Shelly name must be 1-64 letters, digits, '_' and '-', starting with a letter or digit "
                         f"(a topic level and broker username), got '{'a' * 65}'"),
    ("shelly", "tele", "'tele' is a reserved topic level, not a Shelly name"),
    ("esphome", "Shellies", "'Shellies' is a reserved topic level, not an ESPHome name"),
    ("tasmota", "status", "'status' is a reserved topic level, not a Tasmota name"),
    ("zigbee2mqtt", "bridge", "'bridge' is a reserved topic level, not a Zigbee2MQTT friendly name"),
    ("zigbee2mqtt", "kitchen/light", "a Zigbee2MQTT friendly name may not hold '/' (one topic level, no wildcards), "
                                     "got 'kitchen/light'"),
    ("zigbee2mqtt", "a+", "a Zigbee2MQTT friendly name may not hold '+' (one topic level, no wildcards), got 'a+'"),
    ("zigbee2mqtt", "a\x00b", "a Zigbee2MQTT friendly name may not hold '\\x00' (one topic level, no wildcards), "
                              "got 'a\\x00b'"),
    ("zigbee2mqtt", " plug", "a Zigbee2MQTT friendly name may not start or end with a space, got ' plug'"),
    ("zigbee2mqtt", "", "a Zigbee2MQTT friendly name must be 1-64 characters, got 0"),
    ("zigbee2mqtt", "x" * 65, "a Zigbee2MQTT friendly name must be 1-64 characters, got 65"),
    ("mystery", "plug", "'mystery' is not one of shelly, tasmota, zigbee2mqtt, esphome"),
]  # fmt: skip


@pytest.mark.parametrize(("via", "name", "problem"), NAME_PROBLEMS)
def test_device_names(via: Via, name: str, problem: str | None) -> None:
    assert source_name_problem(via, name) == problem


def test_the_topics_a_device_writes_and_reads() -> None:
    assert native_topics("shelly", "shellyplusplugs-a8032ab1") == ("shellyplusplugs-a8032ab1/#",)
    assert native_topics("tasmota", "tasmota_1A2B3C") == ("tele/tasmota_1A2B3C/#", "stat/tasmota_1A2B3C/#")
    assert native_topics("esphome", "gym-bike-2") == ("gym-bike-2/#",)
    assert native_topics("zigbee2mqtt", "Bike 2") == ("zigbee2mqtt/Bike 2", "zigbee2mqtt/Bike 2/availability")
    assert native_topics("zigbee2mqtt", "") == ("zigbee2mqtt/#",)
    assert device_topics_read("shelly", "s1") == ("s1/rpc", "s1/command", "s1/command/#")
    assert device_topics_read("tasmota", "tasmota_1A2B3C") == ("cmnd/tasmota_1A2B3C/#",)
    assert device_topics_read("esphome", "gym-bike-2") == ("gym-bike-2/#",)
    assert device_topics_read("zigbee2mqtt", "") == ("zigbee2mqtt/#",)
    assert device_topics_read("zigbee2mqtt", "Bike 2") == ()


@pytest.mark.parametrize(("via", "name"), [("shelly", "a/#"), ("tasmota", "x\ntopic write #"), ("zigbee2mqtt", "#")])
def test_no_acl_line_for_a_name_the_device_could_not_have(via: Via, name: str) -> None:
    with pytest.raises(ValueError):
        native_topics(via, name)
    with pytest.raises(ValueError):
        device_topics_read(via, name)


LEVELS = st.sampled_from(["tele", "stat", "zigbee2mqtt", "bridge", "state", "status", "online", "events", "rpc",
                          "sensor", "binary_sensor", "switch", "availability", "switch:0", "pm1:1", "SENSOR", "LWT",
                          "STATE", "RESULT", "POWER2", "clinic", "x", ""])  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
KEYS = st.sampled_from(["method", "params", "ts", "switch:0", "pm1:2", "events", "event", "component", "apower",
                        "output", "ENERGY", "Power", "POWER", "POWER3", "action", "vibration", "occupancy", "power",
                        "state", "click", "aenergy", "total", "voltage"])  # fmt: skip
SHAPED = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.sampled_from(["ON", "off", "single_push", "online"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=25,
)


def _is_parsed(result: list[NativeParsed] | None) -> bool:
    return result is None or all(isinstance(part, NativeReport | NativeMalformed) for part in result)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60), st.binary(max_size=200))
def test_never_raises_on_arbitrary_bytes(topic: str, payload: bytes) -> None:
    assert _is_parsed(parse_native(topic, payload, reserved=RESERVED))


@settings(max_examples=400, deadline=None)
@given(st.lists(LEVELS, min_size=1, max_size=5).map("/".join), JSON_VALUES | SHAPED)
def test_never_raises_on_json_of_any_shape(topic: str, value: object) -> None:
    payload = json.dumps(value).encode()  # may hold NaN and Infinity, which must be refused
    assert _is_parsed(parse_native(topic, payload, reserved=RESERVED))
