"""Shelly Gen2 and later (Plus, Pro, Gen3, Gen4) over MQTT, the topic prefix being the device's name.

- `<name>/online`: `true` or `false` (the retained Last Will) -> Availability.
- `<name>/status/<component>` ("Generic status update over MQTT"): the component's whole status; `switch:<n>` and
  `pm1:<n>` (PM Mini) give Power (`apower`) and, for a switch, Relay (`output`) on channel `<n>`; any other
  component (`sys`, `wifi`, `input:0`, ...) proves the device alive.
- `<name>/status`: every component's status at once (the reply to `status_update` on `<name>/command`).
- `<name>/events/rpc` ("RPC status notifications over MQTT"): `NotifyStatus` and `NotifyFullStatus` carry the
  changed fields of components as above, `params.ts` being the device's clock; `NotifyEvent` carries
  `params.events[]`, whose `single_push`, `double_push`, `triple_push` and `long_push` are button presses.
"""

from __future__ import annotations

import re

from shared.equipment.native.dialect_common import (
    Unreadable,
    as_object,
    finite_numbers,
    flag,
    is_finite_number,
    json_object,
    optional_number,
    shown,
    text_of,
)
from shared.equipment.native.readings import Availability, NativeReport, Power, Press, Reading, Relay

METERED = re.compile(r"(switch|pm1):(\d{1,3})")
COMPONENT_ID = re.compile(r"[a-z0-9_]+:(\d{1,3})")
PRESSES: dict[str, Press] = {
    "single_push": Press("single", "single_push"),
    "double_push": Press("double", "double_push"),
    "triple_push": Press("triple", "triple_push"),
    "long_push": Press("long", "long_push"),
}


def parse_online(source: str, payload: bytes) -> list[NativeReport]:
    """`<name>/online`: `true` or `false`."""
    word = text_of(payload).strip()
    if word not in ("true", "false"):
        raise Unreadable(f"payload must be true or false, got {shown(word)}")
    return [NativeReport("shelly", source, (Availability(word == "true"),))]


def parse_component_status(source: str, component: str, payload: bytes) -> list[NativeReport]:
    """`<name>/status/<component>`: one component's status object."""
    body = json_object(payload)
    metered = METERED.fullmatch(component)
    if metered is None:
        return [NativeReport("shelly", source)]
    return [_metered(source, metered, body, None, "")]


def parse_full_status(source: str, payload: bytes) -> list[NativeReport]:
    """`<name>/status`: an object of every component's status, keyed `switch:0`, `sys`, ..."""
    return _components(source, json_object(payload), None, "")


def parse_rpc_event(source: str, payload: bytes) -> list[NativeReport]:
    """`<name>/events/rpc`: a JSON-RPC notification frame."""
    frame = json_object(payload)
    method = frame.get("method")
    if not isinstance(method, str):
        raise Unreadable(f"method must be a string, got {shown(method)}")
    params = as_object(frame.get("params", {}), "params")
    ts = optional_number(params, "ts", "params.ts")
    if method in ("NotifyStatus", "NotifyFullStatus"):
        return _components(source, params, ts, "params.")
    if method == "NotifyEvent":
        return _events(source, params, ts)
    return [NativeReport("shelly", source, device_ts=ts)]


def _components(source: str, body: dict[str, object], ts: float | None, where: str) -> list[NativeReport]:
    """A report per metered component in `body`, or one empty report when it has none."""
    reports = []
    for key, value in body.items():
        metered = METERED.fullmatch(key)
        if metered is not None:
            part = as_object(value, f"{where}{key}")
            reports.append(_metered(source, metered, part, ts, f"{where}{key}."))
    return reports or [NativeReport("shelly", source, device_ts=ts)]


def _metered(source: str, key: re.Match[str], part: dict[str, object], ts: float | None, where: str) -> NativeReport:
    """A switch's or power meter's status (or the changed part of it): Power and Relay when present."""
    readings: list[Reading] = []
    watts = optional_number(part, "apower", f"{where}apower")
    if watts is not None:
        readings.append(Power(watts))
    output = part.get("output")
    if output is not None:
        readings.append(Relay(flag(output, f"{where}output")))
    summary = finite_numbers(part, ("voltage", "current"))
    energy = part.get("aenergy")
    if isinstance(energy, dict) and is_finite_number(energy.get("total")):
        summary["aenergy.total"] = energy["total"]
    channel = str(int(key.group(2)))
    return NativeReport("shelly", source, tuple(readings), channel=channel, device_ts=ts, summary=summary)


def _events(source: str, params: dict[str, object], ts: float | None) -> list[NativeReport]:
    """`NotifyEvent`: a report per button press in `params.events`, or one empty report when there is none."""
    events = params.get("events")
    if not isinstance(events, list):
        raise Unreadable(f"params.events must be a list, got {shown(events)}")
    reports = []
    for index, item in enumerate(events):
        where = f"params.events[{index}]"
        event = as_object(item, where)
        name = event.get("event")
        if not isinstance(name, str):
            raise Unreadable(f"{where}.event must be a string, got {shown(name)}")
        press = PRESSES.get(name)
        if press is not None:
            at = optional_number(event, "ts", f"{where}.ts")
            channel = _event_channel(event)
            reports.append(
                NativeReport("shelly", source, (press,), channel=channel, device_ts=ts if at is None else at)
            )
    return reports or [NativeReport("shelly", source, device_ts=ts)]


def _event_channel(event: dict[str, object]) -> str:
    """The number of the input (or BLU button device) an event comes from: `input:2` -> `2`."""
    component = event.get("component")
    found = COMPONENT_ID.fullmatch(component) if isinstance(component, str) else None
    if found is not None:
        return str(int(found.group(1)))
    ident = event.get("id")
    return str(ident) if isinstance(ident, int) and not isinstance(ident, bool) and 0 <= ident < 1000 else ""
