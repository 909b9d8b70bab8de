"""Demo data: off-the-shelf devices feeding some demo stations, bound once so `clinic up --simulate` shows the board
moving from a Shelly plug, a Tasmota plug, a Zigbee vibration sensor and button, and an ESPHome motion sensor.

`clinic simulate-native` (telemetry/native_sim.py) plays these devices under the same names; one more Shelly plug,
`UNBOUND_PLUG`, reports without feeding any station, for a technician to bind and calibrate from its live watts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from shared.demo.stations import registered_ids
from shared.equipment.native.bindings import ThresholdChanges, bind_source
from shared.equipment.native.inference import Role
from shared.equipment.native.models import NativeBinding
from shared.equipment.native.readings import Via
from shared.equipment.provisioning import BrokerAccounts

SHELLY_TREADMILL = "shellyplus-treadmill2"
TASMOTA_BIKE = "tasmota-bike2"
PLINTH_VIBRATION = "Plinth vibration"
PLINTH_BUTTON = "Plinth button"
BARS_NODE, BARS_ENTITY = "gym-bars", "bars_motion"
UNBOUND_PLUG = "shellyplugsg3-demo01"
TASMOTA_TELE_PERIOD_S = 5.0  # the demo's TelePeriod (Tasmota's default is 300 s)

# Short holds, so that the board moves within a minute of a simulated use beginning or ending.
DEMO_HOLDS = ThresholdChanges(on_hold_s=5.0, off_hold_s=10.0, idle_s=20.0)
# The plinth's sensor says `vibration: false` when a session ends and its button is pressed 5-15 s later (the press
# itself ends a use still open); a short idle time lets the board show "needs cleaning" in between.
PLINTH_HOLDS = ThresholdChanges(on_hold_s=5.0, off_hold_s=10.0, idle_s=3.0)


@dataclass(frozen=True, slots=True)
class DemoNative:
    """One simulated native device (or ESPHome entity) feeding a demo station, as `bind_source` takes it."""

    station: str
    via: Via
    source: str
    role: Role = "usage"
    entity: str | None = None
    report_interval_s: float | None = None
    holds: ThresholdChanges = DEMO_HOLDS


DEMO_NATIVE: tuple[DemoNative, ...] = (
    DemoNative("treadmill-2", "shelly", SHELLY_TREADMILL),
    DemoNative("bike-2", "tasmota", TASMOTA_BIKE, report_interval_s=TASMOTA_TELE_PERIOD_S),
    DemoNative("plinth-1", "zigbee2mqtt", PLINTH_VIBRATION, holds=PLINTH_HOLDS),
    DemoNative("plinth-1", "zigbee2mqtt", PLINTH_BUTTON, role="cleaned", holds=PLINTH_HOLDS),
    DemoNative("bars-1", "esphome", BARS_NODE, entity=BARS_ENTITY),
)
DEMO_NATIVE_DEVICES: tuple[str, ...] = (
    SHELLY_TREADMILL,
    TASMOTA_BIKE,
    PLINTH_VIBRATION,
    PLINTH_BUTTON,
    BARS_NODE,
    UNBOUND_PLUG,
)
"""Every device `clinic simulate-native` plays, bound or not (an ESPHome node by its name)."""


def seed_demo_bindings(*, session: Session, accounts: BrokerAccounts, site: str, actor: str = "demo") -> list[str]:
    """Bind the demo devices that feed nothing yet to their demo stations at `site` (making their broker accounts);
    a device already bound anywhere, or whose station is not registered there, is left as it is. Returns the names
    of the devices bound now (none the second time), in the caller's unit of work."""
    present = set(registered_ids(session=session, site=site))
    bound: list[str] = []
    for spec in DEMO_NATIVE:
        if spec.station not in present or _is_bound(session, spec):
            continue
        bind_source(session=session, accounts=accounts, site=site, equipment_id=spec.station, via=spec.via,
                    source=spec.source, role=spec.role, entity=spec.entity, thresholds=spec.holds,
                    report_interval_s=spec.report_interval_s, actor=actor)  # fmt: skip
        bound.append(spec.source)
    return bound


def _is_bound(session: Session, spec: DemoNative) -> bool:
    """Whether the device (any of its channels or entities) feeds a station already."""
    query = select(NativeBinding.id).where(col(NativeBinding.via) == spec.via, col(NativeBinding.source) == spec.source)
    return session.exec(query).first() is not None
