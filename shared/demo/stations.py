"""Demo data: a small therapy gym's stations, registered once so `clinic up` shows a realistic board."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from shared.equipment.models import Equipment
from shared.equipment.native.models import NativeBinding
from shared.equipment.stations import register_equipment


@dataclass(frozen=True, slots=True)
class DemoStation:
    """One station of the demo gym, as `register_equipment` takes it."""

    id: str
    name: str
    kind: str
    zone: str
    clean_after_use: bool = True
    maintenance_interval_hours: float | None = None


# The demo's station with no device yet: its plug (the simulated, unbound `shellyplugsg3-demo01`) is for a person to
# bind from the staff app's Devices page, so `clinic simulate` leaves it alone.
AWAITING_PLUG = "treadmill-3"
DEMO_STATIONS: tuple[DemoStation, ...] = (
    DemoStation("treadmill-1", "Treadmill 1", "treadmill", "Gym A", maintenance_interval_hours=500),
    DemoStation("treadmill-2", "Treadmill 2", "treadmill", "Gym A", maintenance_interval_hours=500),
    DemoStation(AWAITING_PLUG, "Treadmill 3", "treadmill", "Gym A", maintenance_interval_hours=500),
    DemoStation("bike-1", "Recumbent bike 1", "recumbent_bike", "Gym A"),
    DemoStation("bike-2", "Recumbent bike 2", "recumbent_bike", "Gym A"),
    DemoStation("nustep-1", "NuStep T5", "nustep", "Gym A"),
    DemoStation("bars-1", "Parallel bars", "parallel_bars", "Gym B"),
    DemoStation("stairs-1", "Training stairs", "stairs", "Gym B"),
    DemoStation("plinth-1", "Hi-lo plinth", "plinth", "Gym B"),
    DemoStation("hotpack-1", "Hot-pack unit", "hot_pack", "Modalities", clean_after_use=False),
    DemoStation("ultrasound-1", "Ultrasound", "ultrasound", "Modalities", maintenance_interval_hours=1000),
    DemoStation("traction-1", "Traction table", "traction_table", "Modalities"),
)
SIM_PREFIX = "sim-"
DEFAULT_SIM_DEVICES = 10  # what `clinic simulate` runs at a site with no stations yet


def registered_ids(*, session: Session, site: str) -> list[str]:
    """Ids of the stations registered at `site`, in id order."""
    query = select(col(Equipment.id)).where(col(Equipment.site) == site).order_by(col(Equipment.id))
    return list(session.execute(query).scalars())


def seed_demo(*, session: Session, site: str) -> list[str]:
    """Register the demo stations missing at `site` (existing ones stay as they are); returns the demo ids."""
    present = set(registered_ids(session=session, site=site))
    for station in DEMO_STATIONS:
        if station.id not in present:
            register_equipment(
                session=session,
                site=site,
                equipment_id=station.id,
                name=station.name,
                kind=station.kind,
                zone=station.zone,
                clean_after_use=station.clean_after_use,
                maintenance_interval_hours=station.maintenance_interval_hours,
            )
    return [station.id for station in DEMO_STATIONS]


def natively_fed(*, session: Session, site: str) -> set[str]:
    """Ids of the stations at `site` that a native device (a plug, a sensor, a button) feeds."""
    query = select(col(NativeBinding.equipment_id)).where(col(NativeBinding.site) == site).distinct()
    return set(session.execute(query).scalars())


def ensure_sim_stations(*, session: Session, site: str, count: int, exclude: Collection[str] = ()) -> list[str]:
    """Ids of `count` stations at `site` (none of `exclude`), registering `sim-001`, `sim-002`, ... when too few
    exist."""
    registered = registered_ids(session=session, site=site)
    ids = [i for i in registered if i not in exclude]
    number = 0
    while len(ids) < count:
        number += 1
        candidate = f"{SIM_PREFIX}{number:03d}"
        if candidate not in registered:
            register_equipment(
                session=session,
                site=site,
                equipment_id=candidate,
                name=f"Simulated station {number}",
                kind="simulated",
                zone="Simulated",
            )
            registered.append(candidate)
            ids.append(candidate)
    return ids[:count]


def devices_to_simulate(
    *, session: Session, site: str, count: int | None, register: bool
) -> tuple[list[str], set[str]]:
    """The ids `clinic simulate` runs (every registered one by default) and those not cleaned after use.

    Stations fed by a native device are left out: `clinic simulate-native` plays their devices (and the demo's
    station awaiting its plug is left for a person to bind). With `register`,
    missing simulated stations are registered in the caller's unit of work.
    """
    registered = registered_ids(session=session, site=site)
    native = natively_fed(session=session, site=site)
    native |= {AWAITING_PLUG}
    own = [i for i in registered if i not in native]
    wanted = count or len(own) or DEFAULT_SIM_DEVICES
    if register:
        ids = ensure_sim_stations(session=session, site=site, count=wanted, exclude=native)
    else:  # unregistered ids too: their messages become dead letters, which is worth seeing in a demo
        extra = (f"{SIM_PREFIX}{n:03d}" for n in range(1, wanted + 1))
        ids = (own + [i for i in extra if i not in registered])[:wanted]
    query = select(col(Equipment.id)).where(col(Equipment.site) == site, col(Equipment.clean_after_use).is_(False))
    no_cleaning = set(session.execute(query).scalars())
    return ids, no_cleaning
