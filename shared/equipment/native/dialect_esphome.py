"""ESPHome's MQTT client with its default `topic_prefix`, the node's name.

- `<node>/status`: `online` (birth message) or `offline` (Last Will, shutdown) -> Availability.
- `<node>/binary_sensor/<object_id>/state`: `ON` or `OFF` -> Active, entity `<object_id>`.
- `<node>/switch/<object_id>/state`: `ON` or `OFF` -> Relay, entity `<object_id>`.
- `<node>/sensor/<object_id>/state`: the value as text with the sensor's accuracy (`61.50`) -> Power (a numeric
  sensor read as a level), entity `<object_id>`; `nan` (no value yet; written `None` with `publish_nan_as_none`)
  gives an empty report: the node is alive but the sensor has nothing to say.
"""

from __future__ import annotations

from shared.equipment.native.dialect_common import Unreadable, number_text, on_off, shown, text_of
from shared.equipment.native.readings import Active, Availability, NativeReport, Power, Reading, Relay

STATE_COMPONENTS = ("sensor", "binary_sensor", "switch")
NO_VALUE = frozenset({"nan", "-nan", "none"})


def parse_status(source: str, payload: bytes) -> list[NativeReport]:
    """`<node>/status`: `online` or `offline`."""
    word = text_of(payload).strip()
    if word.lower() not in ("online", "offline"):
        raise Unreadable(f"payload must be online or offline, got {shown(word)}")
    return [NativeReport("esphome", source, (Availability(word.lower() == "online"),))]


def parse_state(source: str, component: str, entity: str, payload: bytes) -> list[NativeReport]:
    """`<node>/<component>/<entity>/state` for a sensor, binary sensor or switch."""
    word = text_of(payload)
    readings: tuple[Reading, ...]
    if component == "binary_sensor":
        readings = (Active(on_off(word, "payload")),)
    elif component == "switch":
        readings = (Relay(on_off(word, "payload")),)
    elif word.strip().lower() in NO_VALUE:
        readings = ()
    else:
        readings = (Power(number_text(word, "payload")),)
    return [NativeReport("esphome", source, readings, entity=entity)]
