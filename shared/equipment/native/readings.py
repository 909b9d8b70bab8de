"""What an off-the-shelf device said, once parsed from its own dialect: readings, independent of the vendor.

The dialect parsers (`dialects.py`) turn a native MQTT message into a `NativeReport`; the inference
(`inference.py`) turns readings into the device contract's events. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Via = Literal["shelly", "tasmota", "zigbee2mqtt", "esphome"]
VIAS: tuple[Via, ...] = ("shelly", "tasmota", "zigbee2mqtt", "esphome")
VENDOR_NAMES: dict[Via, str] = {
    "shelly": "Shelly plug",
    "tasmota": "Tasmota plug",
    "zigbee2mqtt": "Zigbee sensor",
    "esphome": "ESPHome node",
}


@dataclass(frozen=True, slots=True)
class Power:
    """Active power in watts (a plug's meter, or an ESPHome numeric sensor read as a level)."""

    watts: float


@dataclass(frozen=True, slots=True)
class Active:
    """A motion, vibration, occupancy or binary sensor's level: True while something moves or is on."""

    active: bool


@dataclass(frozen=True, slots=True)
class Press:
    """A button press, its kind normalised: `single`, `double`, `triple` or `long` (a hold or long push)."""

    kind: Literal["single", "double", "triple", "long"]
    raw: str = ""  # the vendor's own word (`single_push`, `hold`, ...), for people


@dataclass(frozen=True, slots=True)
class Relay:
    """Whether a plug's relay is switched on (shown to people; it says nothing about use)."""

    on: bool


@dataclass(frozen=True, slots=True)
class Availability:
    """The device (or its bridge) says it is online or offline (often its retained Last Will)."""

    online: bool


Reading = Power | Active | Press | Relay | Availability


@dataclass(frozen=True, slots=True)
class NativeReport:
    """One native message, parsed: which device said it, about which of its parts, and what.

    `channel` is the switch or meter number of a multi-channel plug (`"0"` for the first; Shelly `switch:<n>`,
    Tasmota's index in a list of powers), `entity` the ESPHome object id (`binary_sensor/<entity>`), and both are
    `""` where the dialect has no such part. An availability reading concerns the whole device, whatever its
    channel. `readings` may be empty: a known message with nothing the board uses (it still says the device is
    alive). `device_ts` is the device's own clock (epoch seconds) when the message carries one.
    """

    via: Via
    source: str
    readings: tuple[Reading, ...] = ()
    channel: str = ""
    entity: str = ""
    device_ts: float | None = None
    summary: dict[str, object] = field(default_factory=dict)  # a few fields for people (watts, state, battery)


@dataclass(frozen=True, slots=True)
class NativeMalformed:
    """A message on a native topic that its dialect cannot read, with the reason (it becomes a dead letter)."""

    via: Via
    source: str
    reason: str


NativeParsed = NativeReport | NativeMalformed
