"""Zigbee2MQTT (base topic `zigbee2mqtt`): one bridge publishes for every Zigbee device, each by its friendly name.

- `zigbee2mqtt/<friendly>`: the device's state as a JSON object. `vibration` and `occupancy` (booleans) -> Active,
  `action` (a button's word; 1.x's `click` when there is no `action`) -> Press, `power` (watts) -> Power, `state`
  `ON`/`OFF` (a plug) -> Relay; `contact`, `battery`, `linkquality`, `voltage` and `energy` are for people only.
- `zigbee2mqtt/<friendly>/availability` and `zigbee2mqtt/bridge/state`: `{"state":"online"}` or
  `{"state":"offline"}` (Zigbee2MQTT 2.x), or plain `online`/`offline` (1.x with `legacy_availability_payload`,
  its default) -> Availability; the bridge's is reported with source `""`, which stands for the bridge itself.

An `action` is a press when one of its words (split on `_` and `-`) is a press word: `double` -> double, `triple`
-> triple, `hold`/`held`/`long` -> long, `single`/`press`/`pressed`/`click`/`short`/`on`/`off`/`toggle` -> single
(`single_left`, `1_single`, `on_press`, `long_press`, `arrow_left_click`, ...). A `release` or `stop` word ends a
press or hold already counted, so it gives nothing, as do `""` and `null` (Zigbee2MQTT's empty action after one)
and every other word: sensors report events through `action` too (the Aqara vibration sensor's `vibration`,
`tilt`, `drop`; a cube's `shake`, `rotate_left`), and those are not button presses.
"""

from __future__ import annotations

import re
from typing import Literal

from shared.equipment.native.dialect_common import (
    Unreadable,
    finite_numbers,
    flag,
    json_object,
    optional_number,
    shown,
    text_of,
)
from shared.equipment.native.readings import Active, Availability, NativeReport, Power, Press, Reading, Relay

WORD_SPLIT = re.compile(r"[_\-\s]+")
ENDS = frozenset({"release", "released", "stop", "stopped"})
PressKind = Literal["single", "double", "triple", "long"]
KINDS: tuple[tuple[frozenset[str], PressKind], ...] = (
    (frozenset({"double"}), "double"),
    (frozenset({"triple"}), "triple"),
    (frozenset({"hold", "held", "long"}), "long"),
    (frozenset({"single", "press", "pressed", "click", "short", "on", "off", "toggle"}), "single"),
)
SUMMARY_NUMBERS = ("battery", "linkquality", "voltage", "energy")


def parse_availability(source: str, payload: bytes) -> list[NativeReport]:
    """`{"state":"online"}`/`{"state":"offline"}`, or the legacy plain `online`/`offline`."""
    word = text_of(payload).strip()
    what = "payload"
    state: object = word
    if word.startswith("{"):
        state, what = json_object(payload).get("state"), "state"
    if state not in ("online", "offline"):
        raise Unreadable(f"{what} must be online or offline, got {shown(state)}")
    return [NativeReport("zigbee2mqtt", source, (Availability(state == "online"),))]


def parse_state(source: str, payload: bytes) -> list[NativeReport]:
    """`zigbee2mqtt/<friendly>`: the readings the device's state object carries (none is fine: it is alive)."""
    body = json_object(payload)
    readings: list[Reading] = []
    for key in ("vibration", "occupancy"):
        value = body.get(key)
        if value is not None:
            readings.append(Active(flag(value, key)))
    press = action_press(body.get("action")) if body.get("action") is not None else _click_press(body)
    if press is not None:
        readings.append(press)
    watts = optional_number(body, "power", "power")
    if watts is not None:
        readings.append(Power(watts))
    state = body.get("state")
    if state in ("ON", "OFF"):
        readings.append(Relay(state == "ON"))
    return [NativeReport("zigbee2mqtt", source, tuple(readings), summary=_summary(body))]


def action_press(action: object) -> Press | None:
    """The press an `action` value stands for, if any (see the module's rules)."""
    if action is None or action == "":
        return None
    if not isinstance(action, str):
        raise Unreadable(f"action must be a string, got {shown(action)}")
    words = set(WORD_SPLIT.split(action.lower()))
    if words & ENDS:
        return None
    for names, kind in KINDS:
        if words & names:
            return Press(kind, action)
    return None


def _click_press(body: dict[str, object]) -> Press | None:
    """The press of `click`, which Zigbee2MQTT 1.x sent before (and for a while beside) `action`."""
    click = body.get("click")
    return action_press(click) if isinstance(click, str) else None


def _summary(body: dict[str, object]) -> dict[str, object]:
    """A few fields for people: battery, link quality, voltage, energy, contact, the action's own word."""
    summary = finite_numbers(body, SUMMARY_NUMBERS)
    if isinstance(body.get("contact"), bool):
        summary["contact"] = body["contact"]
    for key in ("action", "click"):
        if isinstance(body.get(key), str) and body[key]:
            summary[key] = body[key]
    return summary
