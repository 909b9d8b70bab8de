"""The translator's rules without a broker: redeliveries skipped, ids deterministic, buttons end uses, bridges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shared.equipment.native.bindings import BindingView
from shared.equipment.native.inference import Thresholds
from shared.equipment.native.translate import NativeMessage, Outgoing, Translator

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
FAST = Thresholds(on_watts=50, off_watts=20, on_hold_s=5, off_hold_s=5, idle_s=30)


def binding(bid: int, via: str, source: str, role: str = "usage", station: str = "plinth-1") -> BindingView:
    thresholds = Thresholds(role=role, on_watts=50, off_watts=20, on_hold_s=5, off_hold_s=5, idle_s=30)  # type: ignore[arg-type]
    return BindingView(bid, "main", station, via, source, "0" if via == "shelly" else "", "", thresholds)  # type: ignore[arg-type]


def translator(*bindings: BindingView) -> Translator:
    t = Translator(prefix="clinic")
    t.use_bindings(list(bindings), {})
    return t


def z2m(name: str, body: dict[str, object], seconds: float, *, mid: int = 0, dup: bool = False) -> NativeMessage:
    return NativeMessage(f"zigbee2mqtt/{name}", json.dumps(body).encode(), T0 + timedelta(seconds=seconds), mid, dup)


def events(outgoing: list[Outgoing]) -> list[tuple[str, str]]:
    return [(o.topic.rsplit("/", 1)[1], json.loads(o.payload)["event"]) for o in outgoing if not o.retain]


def run(t: Translator, messages: list[NativeMessage], now_s: float) -> list[Outgoing]:
    plan = t.plan(messages, T0 + timedelta(seconds=now_s))
    t.accept(plan)
    return plan.outgoing


def test_a_redelivered_message_is_skipped_but_a_new_one_under_the_same_packet_id_is_not() -> None:
    t = translator(binding(1, "zigbee2mqtt", "Plinth button", role="cleaned"))
    press = z2m("Plinth button", {"action": "single"}, 1, mid=7)
    assert events(run(t, [press], 1)) == [("cleaning", "cleaned")]
    again = NativeMessage(press.topic, press.payload, press.received_at + timedelta(seconds=9), 7, dup=True)
    plan = t.plan([again], T0 + timedelta(seconds=10))
    assert (plan.duplicates, plan.outgoing) == (1, [])
    new = z2m("Plinth button", {"action": "double"}, 20, mid=7, dup=True)  # same packet id, other bytes
    assert events(run(t, [new], 20)) == [("cleaning", "cleaned")]


def test_planning_the_same_readings_from_the_same_state_gives_the_same_event_ids() -> None:
    t = translator(binding(1, "zigbee2mqtt", "Plinth vibration"))
    messages = [z2m("Plinth vibration", {"vibration": True}, 1, mid=1)]
    first = t.plan(messages, T0 + timedelta(seconds=1))  # never accepted: its commit failed
    second = t.plan(messages, T0 + timedelta(seconds=2))
    assert [o.payload for o in first.outgoing] == [o.payload for o in second.outgoing]
    assert json.loads(first.outgoing[0].payload)["event_id"].startswith("zigbee2mqtt-")


def test_a_cleaning_button_ends_the_use_its_sensor_still_holds_open() -> None:
    t = translator(binding(1, "zigbee2mqtt", "Plinth vibration"), binding(2, "zigbee2mqtt", "Plinth button", "cleaned"))
    run(t, [z2m("Plinth vibration", {"vibration": True}, 0, mid=1)], 0)
    run(t, [z2m("Plinth vibration", {"vibration": False}, 60, mid=2)], 60)
    out = run(t, [z2m("Plinth button", {"action": "single"}, 70, mid=3)], 70)  # before the 30 s idle time is up
    assert events(out) == [("usage", "stop"), ("cleaning", "cleaned")]
    stop = json.loads(out[0].payload)
    assert (stop["duration_s"], stop["ts"]) == (60.0, "2026-12-06T10:01:00.000Z"), "the use ended when it went quiet"
    assert events(run(t, [], 200)) == [], "and the idle timer has nothing left to end"


def test_a_zigbee2mqtt_bridge_going_offline_takes_its_sensors_with_it_and_back() -> None:
    t = translator(binding(1, "zigbee2mqtt", "Plinth vibration"))
    available = NativeMessage("zigbee2mqtt/Plinth vibration/availability", b'{"state":"online"}', T0, 1)
    status = [(o.topic, o.payload) for o in run(t, [available], 0)]
    assert status == [("clinic/main/equipment/plinth-1/status", b"online")]
    bridge_off = NativeMessage("zigbee2mqtt/bridge/state", b'{"state":"offline"}', T0 + timedelta(seconds=5), 2)
    assert [o.payload for o in run(t, [bridge_off], 5)] == [b"offline"]
    bridge_on = NativeMessage("zigbee2mqtt/bridge/state", b'{"state":"online"}', T0 + timedelta(seconds=9), 3)
    assert [o.payload for o in run(t, [bridge_on], 9)] == [b"online"], "its own last word was online"


def test_unreadable_native_payloads_are_rejected_with_the_vendor_and_reason() -> None:
    t = translator()
    bad = NativeMessage("tele/plug-1/SENSOR", b'{"ENERGY":{"Power":"abc"}}', T0, 1)
    plan = t.plan([bad], T0)
    assert [(r.topic, r.reason) for r in plan.rejects] == [
        ("tele/plug-1/SENSOR", "tasmota: tele/plug-1/SENSOR: ENERGY.Power must be a number, got 'abc'")
    ]


def test_a_device_history_is_saved_every_two_seconds_and_its_last_readings_once_it_goes_quiet() -> None:
    t = translator()

    def plug(watts: float, seconds: float) -> NativeMessage:
        body = json.dumps({"id": 0, "apower": watts}).encode()
        at = T0 + timedelta(seconds=seconds)
        return NativeMessage("shellyplugsg3-demo01/status/switch:0", body, at, int(seconds * 10))

    saved = []
    for seconds, watts in ((0, 2.0), (0.5, 120.0), (1.0, 0.0)):
        plan = t.plan([plug(watts, seconds)], T0 + timedelta(seconds=seconds))
        saved.append([s.save_recent for s in plan.sources.values()])
        t.accept(plan)
    assert saved == [[True], [False], [False]], "the first reading is saved, then at most every 2 s"
    assert t.due(T0 + timedelta(seconds=2.5)), "a quiet device's unsaved readings make work for the timer"
    plan = t.plan([], T0 + timedelta(seconds=2.5))
    [seen] = plan.sources.values()
    assert seen.save_recent and [r[2] for r in seen.recent] == [2.0, 120.0, 0.0]
    t.accept(plan)
    assert not t.due(T0 + timedelta(seconds=60))
