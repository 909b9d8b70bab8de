"""The four vendors' native MQTT dialects: which topics are theirs, and what a message on one says, as readings.

Each dialect is a module of its own (`dialect_shelly`, `dialect_tasmota`, `dialect_zigbee2mqtt`,
`dialect_esphome`, whose docstrings list the topics and what each gives); this one routes a topic to its dialect,
never raises, and holds the naming rules the broker's accounts and ACL rest on. A device name is one topic level:
a Shelly's topic prefix, a Tasmota's `%topic%`, an ESPHome node's `topic_prefix`, a Zigbee2MQTT friendly name
(set so when the device is bound). Shelly and ESPHome share the top level; their topics differ in shape, and on
`<name>/status` a JSON object is a Shelly's full status while `online`/`offline` is an ESPHome node's.

`parse_native` gives None for a topic that is no native device's (the caller ignores it), else one entry per
device part the message is about (a Shelly NotifyStatus about `switch:0` and `switch:1` gives two reports): a
`NativeReport`, whose readings may be empty (a known message with nothing for the board still proves the device
alive), or a `NativeMalformed` whose reason names the topic, the field and the bad value. `reserved` holds first
topic levels that are never a Shelly's or ESPHome node's name (the caller's own prefix, `clinic`). An empty payload
(a retained message being cleared) gives `[]`: a known topic, but nothing said by the device. Payloads over 64 KiB
are malformed, and nothing raises: an unexpected error in a dialect becomes a `NativeMalformed` too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from shared.equipment.native import dialect_esphome, dialect_shelly, dialect_tasmota, dialect_zigbee2mqtt
from shared.equipment.native.dialect_common import MAX_PAYLOAD_BYTES, Unreadable, shown
from shared.equipment.native.readings import VIAS, NativeMalformed, NativeParsed, NativeReport, Via

NATIVE_SUBSCRIPTIONS: tuple[str, ...] = (
    "+/online",  # Shelly: Last Will
    "+/status",  # Shelly: full status on request; ESPHome: birth message and Last Will
    "+/status/+",  # Shelly: one component's status
    "+/events/rpc",  # Shelly: NotifyStatus, NotifyFullStatus, NotifyEvent
    "tele/+/+",  # Tasmota: LWT, SENSOR, STATE, INFO1, ...
    "stat/+/+",  # Tasmota: POWER<n>, RESULT, STATE, STATUS<n>
    "zigbee2mqtt/+",  # Zigbee2MQTT: a device's state
    "zigbee2mqtt/+/availability",
    "zigbee2mqtt/bridge/state",
    "+/sensor/+/state",  # ESPHome
    "+/binary_sensor/+/state",
    "+/switch/+/state",
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESERVED_FIRST_LEVELS = frozenset({"tele", "stat", "cmnd", "zigbee2mqtt", "homeassistant", "shellies"})
TASMOTA_RESERVED = frozenset({"status"})  # `stat/status/...` would also match `+/status/+`: delivered twice
ZIGBEE2MQTT_RESERVED = frozenset({"bridge", "online", "status"})  # the bridge's own; `+/online`, `+/status` twins
NAME_RULE = "1-64 letters, digits, '_' and '-', starting with a letter or digit"
LABELS: dict[str, str] = {"shelly": "a Shelly", "tasmota": "a Tasmota", "esphome": "an ESPHome"}

Reader = Callable[[bytes], list[NativeReport]]
Route = tuple[Via, str, Reader]


def parse_native(topic: str, payload: bytes, *, reserved: frozenset[str] = frozenset()) -> list[NativeParsed] | None:
    """None for no native device's topic, else an entry per device part: its report, or why it is unreadable."""
    try:
        route = _route(topic, payload, reserved)
    except Exception:  # a topic no rule expected; nothing here should raise
        return None
    if route is None:
        return None
    via, source, read = route
    if len(payload) > MAX_PAYLOAD_BYTES:
        return [NativeMalformed(via, source, f"{topic}: payload is {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")]
    if not payload:
        return []
    try:
        return list(read(payload))
    except Unreadable as exc:
        return [NativeMalformed(via, source, f"{topic}: {exc}")]
    except Exception as exc:  # a bug in a dialect must not stop the adapter: the message becomes a dead letter
        return [NativeMalformed(via, source, f"{topic}: could not be read ({type(exc).__name__}: {shown(str(exc))})")]


def _route(topic: str, payload: bytes, reserved: frozenset[str]) -> Route | None:
    """The dialect, device name and reader of `topic`, or None when it is no native device's."""
    levels = topic.split("/")
    head = levels[0]
    if head in ("tele", "stat"):
        return _tasmota_route(levels)
    if head == "zigbee2mqtt":
        return _zigbee2mqtt_route(levels)
    if head in reserved or source_name_problem("shelly", head) is not None:
        return None
    if len(levels) == 2:
        return _top_level_route(head, levels[1], payload)
    if len(levels) == 3 and levels[1] == "status" and levels[2]:
        return "shelly", head, partial(dialect_shelly.parse_component_status, head, levels[2])
    if len(levels) == 3 and levels[1:] == ["events", "rpc"]:
        return "shelly", head, partial(dialect_shelly.parse_rpc_event, head)
    if len(levels) == 4 and levels[1] in dialect_esphome.STATE_COMPONENTS and levels[3] == "state":
        return _esphome_state_route(head, levels[1], levels[2])
    return None


def _top_level_route(name: str, leaf: str, payload: bytes) -> Route | None:
    """`<name>/online` (Shelly), `<name>/status` (a Shelly's JSON status, or an ESPHome node's online/offline)."""
    if leaf == "online":
        return "shelly", name, partial(dialect_shelly.parse_online, name)
    if leaf == "status" and payload.lstrip()[:1] == b"{":
        return "shelly", name, partial(dialect_shelly.parse_full_status, name)
    if leaf == "status":
        return "esphome", name, partial(dialect_esphome.parse_status, name)
    return None


def _esphome_state_route(node: str, component: str, entity: str) -> Route | None:
    """`<node>/<component>/<object_id>/state`, the object id being letters, digits, `_` and `-`."""
    if source_name_problem("esphome", entity) is not None:
        return None
    return "esphome", node, partial(dialect_esphome.parse_state, node, component, entity)


def _tasmota_route(levels: list[str]) -> Route | None:
    """`tele/<name>/<kind>` and `stat/<name>/<kind>`."""
    if len(levels) != 3 or not levels[2] or source_name_problem("tasmota", levels[1]) is not None:
        return None
    return "tasmota", levels[1], partial(dialect_tasmota.parse, levels[0], levels[1], levels[2])


def _zigbee2mqtt_route(levels: list[str]) -> Route | None:
    """`zigbee2mqtt/<friendly>`, `zigbee2mqtt/<friendly>/availability`, `zigbee2mqtt/bridge/state`."""
    if levels[1:] == ["bridge", "state"]:
        return "zigbee2mqtt", "", partial(dialect_zigbee2mqtt.parse_availability, "")
    if len(levels) not in (2, 3) or source_name_problem("zigbee2mqtt", levels[1]) is not None:
        return None
    if len(levels) == 2:
        return "zigbee2mqtt", levels[1], partial(dialect_zigbee2mqtt.parse_state, levels[1])
    if levels[2] == "availability":
        return "zigbee2mqtt", levels[1], partial(dialect_zigbee2mqtt.parse_availability, levels[1])
    return None


def source_name_problem(via: Via, name: str) -> str | None:
    """Why `name` cannot be a device's MQTT name for `via` (None when it can)."""
    if via == "zigbee2mqtt":
        return _friendly_name_problem(name)
    if via not in VIAS:
        return f"{via!r} is not one of {', '.join(VIAS)}"
    if not NAME.fullmatch(name):
        return f"{LABELS[via]} name must be {NAME_RULE} (a topic level and broker username), got {name!r}"
    if name.lower() in RESERVED_FIRST_LEVELS or (via == "tasmota" and name.lower() in TASMOTA_RESERVED):
        return f"{name!r} is a reserved topic level, not {LABELS[via]} name"
    return None


def _friendly_name_problem(name: str) -> str | None:
    """Why `name` cannot be a Zigbee2MQTT friendly name we bind (one topic level)."""
    if not 1 <= len(name) <= 64:
        return f"a Zigbee2MQTT friendly name must be 1-64 characters, got {len(name)}"
    bad = next((c for c in name if c in "/+#" or ord(c) < 32 or 127 <= ord(c) < 160), None)
    if bad is not None:
        return f"a Zigbee2MQTT friendly name may not hold {bad!r} (one topic level, no wildcards), got {name!r}"
    if name != name.strip():
        return f"a Zigbee2MQTT friendly name may not start or end with a space, got {name!r}"
    if name.lower() in ZIGBEE2MQTT_RESERVED:
        return f"{name!r} is a reserved topic level, not a Zigbee2MQTT friendly name"
    return None


def _checked(via: Via, name: str) -> str:
    """`name`, refused with ValueError when the dialect could not have it (it goes into ACL lines)."""
    problem = source_name_problem(via, name)
    if problem is not None:
        raise ValueError(problem)
    return name


def native_topics(via: Via, name: str) -> tuple[str, ...]:
    """The topic filters device `name` publishes on (the ACL's `topic write`); the Zigbee2MQTT bridge is `""`."""
    if via == "zigbee2mqtt" and name == "":
        return ("zigbee2mqtt/#",)
    name = _checked(via, name)
    if via == "zigbee2mqtt":
        return (f"zigbee2mqtt/{name}", f"zigbee2mqtt/{name}/availability")
    if via == "tasmota":
        return (f"tele/{name}/#", f"stat/{name}/#")
    return (f"{name}/#",)


def device_topics_read(via: Via, name: str) -> tuple[str, ...]:
    """What device `name` subscribes to (the ACL's `topic read`); the Zigbee2MQTT bridge (`""`) reads it all."""
    if via == "zigbee2mqtt" and name == "":
        return ("zigbee2mqtt/#",)
    name = _checked(via, name)
    if via == "shelly":
        return (f"{name}/rpc", f"{name}/command", f"{name}/command/#")
    if via == "tasmota":
        return (f"cmnd/{name}/#",)
    return (f"{name}/#",) if via == "esphome" else ()
