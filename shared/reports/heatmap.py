"""The utilization heatmap: in-use hours per local wall-clock hour of each day of the week.

A cell is a local (day, hour) as the clinic's clock shows it: across the autumn change the repeated hour is one
cell two hours long, across the spring change the skipped hour is a cell of zero hours. Utilization is the
cell's in-use station-hours over (stations x the cell's real length).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from shared.reports.station_week import Interval

STEP = timedelta(minutes=15)  # every zone's offset is a multiple of 15 minutes: local hours change on this grid


@dataclass(slots=True)
class Cell:
    """One local hour of one day."""

    day: date
    hour: int
    start: datetime
    end: datetime
    in_use_seconds: float = 0.0

    @property
    def length_hours(self) -> float:
        """Its real length: 1, or 2 / 0 at a daylight-saving change."""
        return (self.end - self.start).total_seconds() / 3600


def hour_cells(days: list[date], start: datetime, end: datetime, tz: tzinfo) -> list[Cell]:
    """The 24 cells of each of `days` between `start` and `end` (UTC), in order; skipped hours have no length."""
    spans: dict[tuple[date, int], list[datetime]] = {}
    moment = start
    while moment < end:
        local = moment.astimezone(tz)
        span = spans.setdefault((local.date(), local.hour), [moment, moment])
        span[1] = moment + STEP
        moment += STEP
    cells = []
    for day in days:
        for hour in range(24):
            found = spans.get((day, hour))
            if found is None:  # a skipped hour: placed where the next hour begins
                later = [s for (d, h), s in spans.items() if (d, h) > (day, hour)]
                at = min(s[0] for s in later) if later else end
                found = [at, at]
            cells.append(Cell(day, hour, found[0], found[1]))
    return cells


def fill(cells: list[Cell], intervals: Iterable[Interval]) -> None:
    """Add each interval's time to the cells it overlaps (in epoch seconds: a week holds tens of thousands)."""
    starts = [c.start.timestamp() for c in cells]
    ends = [c.end.timestamp() for c in cells]
    seconds = [0.0] * len(cells)
    for began, ended in intervals:
        a, b = began.timestamp(), ended.timestamp()
        i = max(0, bisect_right(starts, a) - 1)
        while i < len(cells) and starts[i] < b:
            seconds[i] += max(0.0, min(b, ends[i]) - max(a, starts[i]))
            i += 1
    for cell, added in zip(cells, seconds, strict=True):
        cell.in_use_seconds += added
