"""Usage statistics for the staff charts: uses and in-use minutes per station per day, cleaning compliance,
and the time from the end of a use to the cleaning.

Read from the daily rollups (`station_day`) that ingest keeps in each batch's transaction: a site's month is a
few hundred rows whatever the size of the event log. Days are the clinic's local days (CLINIC_TIMEZONE), as
ingest counted them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median

from sqlalchemy import select
from sqlmodel import Session

from shared.equipment.ingest_rows import EQUIPMENT
from shared.equipment.rollups import DAYS


@dataclass(slots=True)
class StationStats:
    """One station's figures over the window."""

    equipment_id: str
    name: str
    uses_by_day: dict[date, int] = field(default_factory=dict)
    minutes_by_day: dict[date, float] = field(default_factory=dict)
    uses_needing_cleaning: int = 0
    cleaned_before_next_use: int = 0
    minutes_to_clean: list[float] = field(default_factory=list)

    @property
    def compliance(self) -> float | None:
        """Share of uses followed by a cleaning before the next use (None when no use needed one)."""
        if not self.uses_needing_cleaning:
            return None
        return self.cleaned_before_next_use / self.uses_needing_cleaning

    @property
    def median_minutes_to_clean(self) -> float | None:
        """Median time from the end of a use to its cleaning."""
        return median(self.minutes_to_clean) if self.minutes_to_clean else None


def usage_stats(*, session: Session, site: str, days: int, tz: tzinfo, now: datetime) -> list[StationStats]:
    """Figures per station for the last `days` local days (today included)."""
    first_day = now.astimezone(tz).date() - timedelta(days=days - 1)
    stations = select(EQUIPMENT.c.id, EQUIPMENT.c.name).where(EQUIPMENT.c.site == site)
    rollups = select(
        DAYS.c.equipment_id, DAYS.c.day, DAYS.c.uses, DAYS.c.in_use_seconds, DAYS.c.uses_needing_cleaning,
        DAYS.c.cleaned_before_next_use, DAYS.c.clean_wait_minutes,
    ).where(DAYS.c.site == site, DAYS.c.day >= first_day)  # fmt: skip
    conn = session.connection()
    found = {row.id: StationStats(row.id, row.name) for row in conn.execute(stations)}
    rows = conn.execute(rollups).all()
    for equipment_id, day, uses, seconds, needing, cleaned, waits in rows:
        stats = found.get(equipment_id)
        if stats is None:
            continue
        if uses:
            stats.uses_by_day[day] = uses
        if seconds:
            stats.minutes_by_day[day] = seconds / 60
        stats.uses_needing_cleaning += needing
        stats.cleaned_before_next_use += cleaned
        stats.minutes_to_clean.extend(float(w) for w in waits.split())
    return list(found.values())
