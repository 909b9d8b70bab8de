"""The weekly report as tables: the one set of numbers the command, the CSV files, the PDF and the page show.

Every table has a stable name (its CSV file's stem) and columns named for what they hold (docs/reports.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from shared.equipment.cleaning_records import VERDICTS, UseCleaning, cleaning_per_use
from shared.equipment.ingest_rows import EQUIPMENT
from shared.reports.arrivals_week import week_arrivals
from shared.reports.figures import hours, minutes_or_none, pct, percentile
from shared.reports.heatmap import fill, hour_cells
from shared.reports.maintenance_week import STATUSES, maintenance_tables
from shared.reports.outcomes_week import adherence_table, outcomes_table
from shared.reports.station_week import Interval, StationWeek, read_station_week
from shared.reports.table import Cell, Table
from shared.reports.weeks import Week

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(slots=True)
class WeekReport:
    """The week's tables, in the order the report shows them."""

    week: Week
    site: str
    tables: list[Table] = field(default_factory=list)

    def table(self, name: str) -> Table:
        """The table called `name`."""
        return next(t for t in self.tables if t.name == name)


@dataclass(frozen=True, slots=True)
class _Station:
    id: str
    name: str
    kind: str
    zone: str
    clean_after_use: bool


def build_week_report(*, session: Session, site: str, week: Week, clean_within_min: float | None = None) -> WeekReport:
    """The weekly report of `site`'s stations and front desk for `week` (read only). Cleaning after each use is
    the inspector's record (`shared.equipment.cleaning_records`): verdicts, contact times of the disinfectant
    used, and CLINIC_CLEAN_WITHIN_MIN unless `clean_within_min` is given."""
    conn = session.connection()
    stations = [_Station(r.id, r.name, r.kind, r.zone, bool(r.clean_after_use)) for r in conn.execute(
        select(EQUIPMENT.c.id, EQUIPMENT.c.name, EQUIPMENT.c.kind, EQUIPMENT.c.zone, EQUIPMENT.c.clean_after_use)
        .where(EQUIPMENT.c.site == site).order_by(EQUIPMENT.c.id))]  # fmt: skip
    replays = {s.id: _replay(session, site, s, week) for s in stations}
    verdicts: dict[str, list[UseCleaning]] = {s.id: [] for s in stations}
    for use in cleaning_per_use(session=session, start=week.start, end=week.end, site=site,
                                within_min=clean_within_min):  # fmt: skip
        verdicts.setdefault(use.station, []).append(use)
    report = WeekReport(week, site)
    usage = _usage_table(stations, replays, week)
    cleaning = _cleaning_table(stations, verdicts)
    zones = _zone_table(stations, verdicts)
    heatmap = _heatmap_table(stations, replays, week)
    arrivals = _arrivals_table(session, site, week)
    plan, done = maintenance_tables(session=session, site=site, week=week)
    summary = _summary_table(week, site, stations, usage, verdicts, arrivals, plan, done)
    report.tables = [summary, usage, cleaning, zones, heatmap, plan, done, arrivals,
                     adherence_table(session=session, site=site, week=week),
                     outcomes_table(session=session, site=site, week=week)]  # fmt: skip
    return report


def _replay(session: Session, site: str, station: _Station, week: Week) -> StationWeek:
    return read_station_week(session.connection(), site=site, equipment_id=station.id, start=week.start, end=week.end)


def _clipped(intervals: list[Interval], week: Week) -> float:
    """Seconds of `intervals` inside the week."""
    first, last = week.start.timestamp(), week.end.timestamp()
    return sum(max(0.0, min(b.timestamp(), last) - max(a.timestamp(), first)) for a, b in intervals)


def _usage_table(stations: list[_Station], replays: Mapping[str, StationWeek], week: Week) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for s in stations:
        replay = replays[s.id]
        uses = sum(week.start <= at < week.end for at in replay.starts)
        rows.append((s.id, s.name, s.zone, uses, hours(_clipped(replay.in_use, week)),
                     hours(_clipped(replay.out_of_service, week)), hours(_clipped(replay.offline, week))))  # fmt: skip
    columns = ("station", "name", "zone", "uses", "in_use_hours", "out_of_service_hours", "offline_hours")
    return Table("usage", "Uses, in-use hours and downtime per station", columns, rows)


def _cleaning_figures(judged: list[UseCleaning]) -> tuple[Cell, ...]:
    tally = Counter(u.verdict for u in judged)
    counts = [tally[name] for name in VERDICTS]
    waits = [m for u in judged if (m := u.minutes_to_clean) is not None]
    compliant = sum(u.compliant for u in judged)
    return (len(judged), *counts, pct(compliant, len(judged)), minutes_or_none(percentile(waits, 50)),
            minutes_or_none(percentile(waits, 90)))  # fmt: skip


_CLEANING_COLUMNS = ("uses_ended", *VERDICTS, "cleaning_compliance_pct", "time_to_clean_p50_min",
                     "time_to_clean_p90_min")  # fmt: skip


def _cleaning_table(stations: list[_Station], verdicts: Mapping[str, list[UseCleaning]]) -> Table:
    rows = [(s.id, s.zone, *_cleaning_figures(verdicts[s.id])) for s in stations if s.clean_after_use]
    return Table("cleaning", "Cleaning after each use, per station", ("station", "zone", *_CLEANING_COLUMNS), rows)


def _zone_table(stations: list[_Station], verdicts: Mapping[str, list[UseCleaning]]) -> Table:
    zones: dict[str, list[UseCleaning]] = {}
    counts: dict[str, int] = {}
    for s in stations:
        if s.clean_after_use:
            zones.setdefault(s.zone, []).extend(verdicts[s.id])
            counts[s.zone] = counts.get(s.zone, 0) + 1
    rows = [(zone, counts[zone], *_cleaning_figures(zones[zone])) for zone in sorted(zones)]
    return Table("cleaning_by_zone", "Cleaning after each use, per zone", ("zone", "stations", *_CLEANING_COLUMNS),
                 rows)  # fmt: skip


def _heatmap_table(stations: list[_Station], replays: Mapping[str, StationWeek], week: Week) -> Table:
    cells = hour_cells(week.days, week.start, week.end, week.tz)
    for replay in replays.values():
        fill(cells, replay.in_use)
    rows: list[tuple[Cell, ...]] = []
    for c in cells:
        capacity = len(stations) * c.length_hours * 3600
        share = None if capacity == 0 else round(100 * c.in_use_seconds / capacity, 1)
        rows.append((c.day.isoformat(), WEEKDAYS[c.day.weekday()], c.hour, round(c.length_hours, 2),
                     hours(c.in_use_seconds), share))  # fmt: skip
    columns = ("date", "weekday", "hour", "hour_length_hours", "in_use_hours", "utilization_pct")
    return Table("utilization_heatmap", "Utilization by local hour and day", columns, rows)


def _arrivals_table(session: Session, site: str, week: Week) -> Table:
    days = week_arrivals(session=session, site=site, days=week.days, start=week.start, end=week.end, tz=week.tz)
    rows: list[tuple[Cell, ...]] = [
        (d.day.isoformat(), WEEKDAYS[d.day.weekday()], d.appointments, d.arrivals, d.no_shows, len(d.waits_min),
         minutes_or_none(percentile(d.waits_min, 50)), minutes_or_none(percentile(d.waits_min, 90)))
        for d in days
    ]  # fmt: skip
    all_waits = [w for d in days for w in d.waits_min]
    rows.append(("week", "", sum(d.appointments for d in days), sum(d.arrivals for d in days),
                 sum(d.no_shows for d in days), len(all_waits), minutes_or_none(percentile(all_waits, 50)),
                 minutes_or_none(percentile(all_waits, 90))))  # fmt: skip
    columns = ("date", "weekday", "appointments", "arrivals", "no_shows", "waits", "wait_p50_min", "wait_p90_min")
    return Table("arrivals", "Arrivals, no-shows and waits per day", columns, rows)


def _summary_table(
    week: Week, site: str, stations: list[_Station], usage: Table, verdicts: Mapping[str, list[UseCleaning]],
    arrivals: Table, plan: Table, done: Table,
) -> Table:  # fmt: skip
    judged = [pair for s in stations if s.clean_after_use for pair in verdicts[s.id]]
    cleaning = _cleaning_figures(judged)
    total = arrivals.rows[-1]

    def summed(column: str) -> float:
        return round(sum((float(v or 0) for v in usage.column(column)), 0.0), 2)

    columns = ("week", "site", "first_day", "last_day", "week_hours", "stations", "uses", "in_use_hours",
               *_CLEANING_COLUMNS, "out_of_service_hours", "offline_hours", "maintenance_done",
               *(f"maintenance_{status}" for status in STATUSES), "appointments", "arrivals", "no_shows",
               "wait_p50_min", "wait_p90_min")  # fmt: skip
    row = (week.label, site, week.days[0].isoformat(), week.days[-1].isoformat(), round(week.hours, 2),
           len(stations), int(summed("uses")), summed("in_use_hours"), *cleaning, summed("out_of_service_hours"),
           summed("offline_hours"), len(done.rows), *(plan.column("status_at_week_end").count(s) for s in STATUSES),
           total[2], total[3], total[4], total[6], total[7])  # fmt: skip
    return Table("summary", "The week at a glance", columns, [row])


def report_sites(*, session: Session, home: str) -> list[str]:
    """The sites a report can be about: `home` (this site) first, then every other site with stations here."""
    found = session.connection().execute(select(EQUIPMENT.c.site).distinct()).scalars()
    return [home, *sorted(set(found) - {home})]
