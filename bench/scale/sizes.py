"""The stores' sizes (what one site holds, how many sites each store has) and what the benchmark keeps of one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from datetime import time as dtime

FULL_SITES = 20
STATIONS_PER_SITE = 50
EVENTS_PER_STATION = 5_000  # usage events (start + stop) over HISTORY_DAYS: 5,000,000 for 1,000 stations
PATIENTS_PER_SITE = 5_000
HISTORY_DAYS = 30
OPEN, CLOSE = dtime(6, 30), dtime(20, 30)  # opening hours, local
TODAY_SHARE = 0.06  # share of a site's patients booked today (the check-in pool)
# kind, label, zone, stations per 50, relative use, cleaned after each use, maintenance interval (h)
STATION_MIX: tuple[tuple[str, str, str, int, float, bool, float | None], ...] = (
    ("treadmill", "Treadmill", "Gym A", 7, 1.4, True, 500.0),
    ("recumbent_bike", "Recumbent bike", "Gym A", 7, 1.3, True, None),
    ("nustep", "NuStep T5", "Gym A", 4, 1.2, True, None),
    ("elliptical", "Elliptical", "Gym A", 3, 1.1, True, 500.0),
    ("rower", "Rowing machine", "Gym A", 2, 0.9, True, None),
    ("cable_column", "Cable column", "Gym B", 4, 1.0, True, None),
    ("parallel_bars", "Parallel bars", "Gym B", 3, 0.8, True, None),
    ("stairs", "Training stairs", "Gym B", 2, 0.7, True, None),
    ("plinth", "Hi-lo plinth", "Gym B", 8, 1.0, True, None),
    ("balance_platform", "Balance platform", "Gym B", 2, 0.8, True, None),
    ("hot_pack", "Hot-pack unit", "Modalities", 2, 0.9, False, None),
    ("ultrasound", "Ultrasound", "Modalities", 3, 0.8, True, 1000.0),
    ("traction_table", "Traction table", "Modalities", 3, 0.6, True, None),
)
assert sum(m[3] for m in STATION_MIX) == STATIONS_PER_SITE


@dataclass(frozen=True)
class Size:
    label: str
    sites: int

    @property
    def stations(self) -> int:
        return self.sites * STATIONS_PER_SITE

    @property
    def events(self) -> int:
        return self.stations * EVENTS_PER_STATION

    @property
    def patients(self) -> int:
        return self.sites * PATIENTS_PER_SITE

    def describe(self) -> str:
        return (
            f"{self.sites} sites, {self.stations:,} stations, {self.events:,} usage events, {self.patients:,} patients"
        )


def sizes(scale: float, ratio: int) -> tuple[Size, Size]:
    sites = max(1, round(FULL_SITES * scale))
    small = max(1, round(sites / ratio))
    return Size("small", small), Size("full", sites)


@dataclass(frozen=True)
class Case:
    """A patient booked today: their card's raw token and when they scan it (shortly before the start)."""

    site: str
    token: str
    at: datetime


@dataclass
class Chain:
    """What the benchmark keeps of a generated store."""

    size: Size
    sites: list[str]
    now: datetime
    tz: tzinfo
    cases: list[Case] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
