"""Usage statistics for the staff charts: uses and in-use minutes per station per day, cleaning compliance,
and the time from the end of a use to the cleaning.

One pass over a site's usage and cleaning events in the window, per station in time order: the store keeps
raw events, and a clinic's month is tens of thousands of rows, which Python pairs faster than portable SQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median

from sqlalchemy import Engine, select

from shared.db import read_session
from shared.ingest import EQUIPMENT, EVENTS


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


def usage_stats(engine: Engine, *, site: str, days: int, tz: tzinfo, now: datetime) -> list[StationStats]:
    """Figures per station for the last `days` local days (today included)."""
    first_day = now.astimezone(tz).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    stations = _stations(engine, site)
    query = (
        select(EVENTS.c.equipment_id, EVENTS.c.channel, EVENTS.c.event, EVENTS.c.event_at, EVENTS.c.duration_s)
        .where(EVENTS.c.site == site, EVENTS.c.event_at >= since, EVENTS.c.channel.in_(("usage", "cleaning")))
        .order_by(EVENTS.c.equipment_id, EVENTS.c.event_at, EVENTS.c.id)
    )
    events: dict[str, list[tuple[str, datetime, float | None]]] = defaultdict(list)
    with read_session(engine) as session:
        for equipment_id, channel, event, at, duration in session.execute(query):
            events[equipment_id].append((f"{channel}:{event}", at, duration))
    out = []
    for equipment_id, (name, clean_after_use) in stations.items():
        stats = StationStats(equipment_id, name)
        _pair(stats, events.get(equipment_id, []), clean_after_use, tz)
        out.append(stats)
    return out


def _stations(engine: Engine, site: str) -> dict[str, tuple[str, bool]]:
    query = select(EQUIPMENT.c.id, EQUIPMENT.c.name, EQUIPMENT.c.clean_after_use).where(EQUIPMENT.c.site == site)
    with read_session(engine) as session:
        return {row.id: (row.name, bool(row.clean_after_use)) for row in session.execute(query)}


def _pair(
    stats: StationStats, events: list[tuple[str, datetime, float | None]], clean_after_use: bool, tz: tzinfo
) -> None:
    """Walk one station's events: starts count uses, stops add minutes, cleanings close the cleaning wait."""
    started: datetime | None = None
    ended: datetime | None = None  # end of the last use not yet cleaned
    for kind, at, duration in events:
        day = at.astimezone(tz).date()
        if kind == "usage:start":
            stats.uses_by_day[day] = stats.uses_by_day.get(day, 0) + 1
            if clean_after_use and ended is not None:
                ended = None  # used again before a cleaning: that use stays uncleaned
            started = at
        elif kind == "usage:stop":
            minutes = duration / 60 if duration is not None else ((at - started).total_seconds() / 60 if started else 0)
            stats.minutes_by_day[day] = stats.minutes_by_day.get(day, 0.0) + max(0.0, minutes)
            started = None
            if clean_after_use:
                stats.uses_needing_cleaning += 1
                ended = at
        elif kind == "cleaning:cleaned" and ended is not None:
            stats.cleaned_before_next_use += 1
            stats.minutes_to_clean.append((at - ended).total_seconds() / 60)
            ended = None
