"""Tasmota over MQTT with the default FullTopic `%prefix%/%topic%/`, the topic being the device's name.

- `tele/<name>/LWT`: `Online` or `Offline` (the retained Last Will) -> Availability.
- `tele/<name>/SENSOR`: `ENERGY.Power` in watts -> Power, channel `0`; a list (`[12, 0]`, a two-channel meter)
  gives one report per channel `0`, `1`, ...
- `tele/<name>/STATE`, `stat/<name>/STATE`, `stat/<name>/RESULT`: `POWER` or `POWER1` -> Relay on channel `0`,
  `POWER2` on channel `1`, ...
- `stat/<name>/POWER`, `stat/<name>/POWER<n>`: plain `ON` or `OFF` -> Relay on channel `0` (`n - 1`).
- Any other `tele/<name>/<X>` or `stat/<name>/<X>` (INFO1, STATUS10, MARGINS, ...) proves the device alive.

`Time` is the device's local time without an offset, so it is never used as the device's clock.
"""

from __future__ import annotations

import re

from shared.equipment.native.dialect_common import (
    Unreadable,
    as_object,
    is_finite_number,
    json_object,
    number,
    on_off,
    shown,
    text_of,
)
from shared.equipment.native.readings import Availability, NativeReport, Power, Relay

POWER_KEY = re.compile(r"POWER([1-9][0-9]?)?")
SUMMARY_KEYS = ("Total", "Today", "Voltage", "Current")
JSON_RELAYS = ("STATE", "RESULT")


def parse(prefix: str, source: str, kind: str, payload: bytes) -> list[NativeReport]:
    """`<prefix>/<name>/<kind>`, `prefix` being `tele` or `stat`."""
    if prefix == "tele" and kind == "LWT":
        return _lwt(source, payload)
    if prefix == "tele" and kind == "SENSOR":
        return _sensor(source, json_object(payload))
    if kind in JSON_RELAYS:
        return _relays(source, json_object(payload))
    power = POWER_KEY.fullmatch(kind)
    if prefix == "stat" and power is not None:
        on = on_off(text_of(payload), "payload")
        return [NativeReport("tasmota", source, (Relay(on),), channel=_channel(power))]
    return [NativeReport("tasmota", source)]


def _lwt(source: str, payload: bytes) -> list[NativeReport]:
    """`Online` or `Offline` (any case)."""
    word = text_of(payload).strip()
    if word.lower() not in ("online", "offline"):
        raise Unreadable(f"payload must be Online or Offline, got {shown(word)}")
    return [NativeReport("tasmota", source, (Availability(word.lower() == "online"),))]


def _channel(power: re.Match[str]) -> str:
    """`POWER` and `POWER1` are channel 0, `POWER2` channel 1, ..."""
    index = power.group(1)
    return str(int(index) - 1) if index else "0"


def _relays(source: str, body: dict[str, object]) -> list[NativeReport]:
    """A Relay report per `POWER<n>` key, in channel order, or one empty report when there is none."""
    relays: dict[str, Relay] = {}
    for key, value in body.items():
        power = POWER_KEY.fullmatch(key)
        if power is None:
            continue
        if not isinstance(value, str):
            raise Unreadable(f"{key} must be ON or OFF, got {shown(value)}")
        relays[_channel(power)] = Relay(on_off(value, key))
    ordered = sorted(relays.items(), key=lambda item: int(item[0]))
    return [NativeReport("tasmota", source, (relay,), channel=ch) for ch, relay in ordered] or [
        NativeReport("tasmota", source)
    ]


def _sensor(source: str, body: dict[str, object]) -> list[NativeReport]:
    """`ENERGY.Power` per channel, with a few energy fields for people; a SENSOR without ENERGY is just alive."""
    if body.get("ENERGY") is None:
        return [NativeReport("tasmota", source)]
    energy = as_object(body["ENERGY"], "ENERGY")
    powers = _powers(energy.get("Power"))
    if not powers:
        return [NativeReport("tasmota", source, summary=_summary(energy, 0))]
    return [
        NativeReport("tasmota", source, (Power(watts),), channel=str(index), summary=_summary(energy, index))
        for index, watts in enumerate(powers)
    ]


def _powers(value: object) -> list[float]:
    """`ENERGY.Power`: a number (one channel), a list of numbers (one per channel), or absent."""
    if value is None:
        return []
    if isinstance(value, list):
        return [number(item, f"ENERGY.Power[{index}]") for index, item in enumerate(value)]
    return [number(value, "ENERGY.Power")]


def _summary(energy: dict[str, object], index: int) -> dict[str, object]:
    """Total, Today, Voltage and Current of channel `index` (a list's item, or the one value all channels share)."""
    summary: dict[str, object] = {}
    for key in SUMMARY_KEYS:
        value = energy.get(key)
        if isinstance(value, list):
            value = value[index] if index < len(value) else None
        if is_finite_number(value):
            summary[key] = value
    return summary
