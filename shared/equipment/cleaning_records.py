"""The cleaning record per use, for an inspector: after each use of a station that is cleaned after use, who
cleaned it, when, with which disinfectant, and whether the next use waited for the cleaning and its contact time.

A use starts with a `usage` `start` event and ends at its `stop` (or at the next start, which closed it). The use's
cleaning is the first cleaning event at the station after it began that no correction voided; it counts for this
use only if it came before the next use started. Verdicts, most serious first:

- `not_cleaned`: the next use started (or the period's look-ahead ran out) with no cleaning;
- `used_before_contact_time`: cleaned, but the next use started before the disinfectant's contact time passed;
- `late`: cleaned before the next use, but more than CLINIC_CLEAN_WITHIN_MIN after the use ended;
- `cleaned_in_time`: otherwise.

Compliance (the issue's definition) = uses cleaned before the next use and within CLINIC_CLEAN_WITHIN_MIN of the use
ending, over the uses that ended in the period. The database reads each station's usage and cleaning events of the
period (with half a day before and two days after) in one ordered range of the events' (site, station, time)
index, and one pass pairs them up, so a week costs the same in a store of a year of events as in a new one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, select, type_coerce
from sqlalchemy.types import NullType
from sqlmodel import Session

from shared.equipment.ingest_rows import EQUIPMENT, EVENTS
from shared.equipment.record_chain import RECORDS
from shared.store.settings import contact_time_for, get_settings

Verdict = Literal["cleaned_in_time", "late", "not_cleaned", "used_before_contact_time"]
VERDICTS: tuple[Verdict, ...] = ("cleaned_in_time", "late", "not_cleaned", "used_before_contact_time")
LOOK_BACK = timedelta(hours=12)  # a use that ends in the period began at most this long before it
_fromisoformat = datetime.fromisoformat
LOOK_AHEAD = timedelta(days=2)  # how far after the period its uses' stops, next starts and cleanings are sought


@dataclass(frozen=True, slots=True)
class UseCleaning:
    """One use and its cleaning, as the inspector's table lists it (times in UTC)."""

    site: str
    station: str
    station_name: str
    zone: str
    use_start: datetime
    use_end: datetime
    cleaned_at: datetime | None
    cleaned_by: str | None
    disinfectant: str | None
    contact_min: float
    next_use_start: datetime | None
    verdict: Verdict
    compliant: bool  # cleaned before the next use and within CLINIC_CLEAN_WITHIN_MIN of the use's end

    @property
    def minutes_to_clean(self) -> float | None:
        """Minutes from the use's end to its cleaning (None when not cleaned)."""
        if self.cleaned_at is None:
            return None
        return max(0.0, (self.cleaned_at - self.use_end).total_seconds() / 60)


def cleaning_per_use(
    *, session: Session, start: datetime, end: datetime, site: str | None = None, within_min: float | None = None
) -> list[UseCleaning]:
    """Every use that ended in [start, end) at a station cleaned after use, with its cleaning and verdict, in
    order of station then time. `within_min` defaults to CLINIC_CLEAN_WITHIN_MIN."""
    settings = get_settings()
    within = timedelta(minutes=settings.clean_within_min if within_min is None else within_min)
    lo, hi = start - LOOK_BACK, end + LOOK_AHEAD
    conn = session.connection()
    voided = _voided(conn, lo, hi, site)
    details = _cleaning_details(conn, lo, hi, site)
    found: list[UseCleaning] = []
    for station, events in _station_events(conn, lo, hi, site):
        default_contact = contact_time_for(settings.contact_time_min, station.kind).total_seconds() / 60
        for use_start, use_end, next_start, cleaning in _uses(events, voided):
            if start <= use_end < end:
                found.append(_judge(station, use_start, use_end, next_start,
                                    details.get(cleaning[1]) if cleaning else None, cleaning, default_contact,
                                    within))  # fmt: skip
    return found


def compliance_pct(rows: Iterable[UseCleaning]) -> float | None:
    """The share of `rows` cleaned in time (before the next use, within CLINIC_CLEAN_WITHIN_MIN), in percent; None
    for no uses."""
    rows = list(rows)
    if not rows:
        return None
    return 100.0 * sum(1 for row in rows if row.compliant) / len(rows)


@dataclass(frozen=True, slots=True)
class _Station:
    site: str
    id: str
    name: str
    zone: str
    kind: str


@dataclass(slots=True)
class _Events:
    """One station's starts, stops and cleanings (time, event id, by) in time order."""

    starts: list[datetime] = field(default_factory=list)
    stops: list[datetime] = field(default_factory=list)
    cleanings: list[tuple[datetime, str, str | None]] = field(default_factory=list)


def _station_events(
    conn: Connection, lo: datetime, hi: datetime, site: str | None
) -> Iterator[tuple[_Station, _Events]]:
    """Each station cleaned after use with its usage and cleaning events in [lo, hi): one read of the (site, station,
    time) index per station, in order. Times are read raw and parsed here (UTCDateTime's per-row processing was
    a fifth of the time on SQLite)."""
    stations = {(str(s), str(i)): _Station(str(s), str(i), str(n), str(z or ""), str(k)) for s, i, n, z, k in
                conn.execute(select(EQUIPMENT.c.site, EQUIPMENT.c.id, EQUIPMENT.c.name, EQUIPMENT.c.zone,
                                    EQUIPMENT.c.kind))}  # fmt: skip
    query = (
        select(EVENTS.c.site, EVENTS.c.equipment_id, type_coerce(EVENTS.c.event_at, NullType()), EVENTS.c.channel,
               EVENTS.c.event, EVENTS.c.event_id, EVENTS.c.by)
        .select_from(EQUIPMENT.join(EVENTS, and_(EVENTS.c.site == EQUIPMENT.c.site,
                                                 EVENTS.c.equipment_id == EQUIPMENT.c.id)))
        .where(EQUIPMENT.c.clean_after_use, EVENTS.c.event_at >= lo, EVENTS.c.event_at < hi,
               EVENTS.c.channel.in_(("usage", "cleaning")))
        .order_by(EQUIPMENT.c.site, EQUIPMENT.c.id, EVENTS.c.event_at)
    )  # fmt: skip
    if site is not None:
        query = query.where(EQUIPMENT.c.site == site)
    key: tuple[str, str] | None = None
    events = _Events()
    for s, eid, raw_at, channel, event, event_id, by in conn.execute(query).all():
        if key != (s, eid):
            if key is not None:
                yield stations[key], events
            key, events = (s, eid), _Events()
        at = _utc(raw_at)
        if channel == "usage":
            (events.starts if event == "start" else events.stops).append(at)
        elif event == "cleaned":
            events.cleanings.append((at, event_id, by))
    if key is not None:
        yield stations[key], events


def _utc(value: datetime | str) -> datetime:
    """A stored time as read raw: SQLite's UTC text ("2026-11-23 10:30:00.000000") gets its zone in the one parse;
    PostgreSQL's aware datetimes are converted."""
    if isinstance(value, str):
        return _fromisoformat(value + "+00:00")
    return value.astimezone(UTC)


def _uses(events: _Events, voided: set[str]) -> Iterator[tuple[datetime, datetime, datetime | None,
                                                               tuple[datetime, str, str | None] | None]]:  # fmt: skip
    """Each use (start, end, next start, first valid cleaning at or after its start), in order: it ends at its first
    stop, or at the next start when that came first (which closed it)."""
    cleanings = [c for c in events.cleanings if c[1] not in voided]
    cleaning_times = [c[0] for c in cleanings]
    starts, stops = events.starts, events.stops
    for index, use_start in enumerate(starts):
        next_start = starts[index + 1] if index + 1 < len(starts) else None
        at = bisect_left(stops, use_start)
        stop = stops[at] if at < len(stops) else None
        use_end = next_start if stop is None or (next_start is not None and next_start < stop) else stop
        if use_end is None:
            continue  # still in use (or its stop is beyond the look-ahead)
        found = bisect_left(cleaning_times, use_start)
        yield use_start, use_end, next_start, cleanings[found] if found < len(cleanings) else None


def _voided(conn: Connection, lo: datetime, hi: datetime, site: str | None) -> set[str]:
    """Event ids of the cleanings in [lo, hi) whose record a correction voided (an undone "Mark cleaned")."""
    record, fix = RECORDS.alias("record"), RECORDS.alias("fix")
    query = (
        select(record.c.event_id)
        .select_from(record.join(fix, fix.c.corrects == record.c.seq))
        .where(record.c.kind == "cleaning", record.c.at >= lo, record.c.at < hi, fix.c.void,
               record.c.event_id.is_not(None))
    )  # fmt: skip
    if site is not None:
        query = query.where(record.c.site == site)
    return {str(event_id) for (event_id,) in conn.execute(query)}


@dataclass(frozen=True, slots=True)
class _Cleaning:
    by: str | None
    disinfectant: str | None
    contact_min: float | None


def _cleaning_details(conn: Connection, lo: datetime, hi: datetime, site: str | None) -> dict[str, _Cleaning]:
    """The cleaning records in [lo, hi) by event id: who, which disinfectant and its contact time, as corrected."""
    query = select(RECORDS.c.seq, RECORDS.c.event_id, RECORDS.c.by, RECORDS.c.disinfectant, RECORDS.c.contact_min
                   ).where(RECORDS.c.kind == "cleaning", RECORDS.c.at >= lo, RECORDS.c.at < hi,
                           RECORDS.c.event_id.is_not(None))  # fmt: skip
    if site is not None:
        query = query.where(RECORDS.c.site == site)
    rows = conn.execute(query).all()
    fixes = _corrections_since(conn, lo, {int(r.seq) for r in rows})
    found: dict[str, _Cleaning] = {}
    for seq, event_id, by, disinfectant, contact in rows:
        for fix in fixes.get(int(seq), []):
            disinfectant = fix.disinfectant or disinfectant
            contact = fix.contact_min if fix.contact_min is not None else contact
        found[str(event_id)] = _Cleaning(by, disinfectant, contact)
    return found


def _corrections_since(conn: Connection, lo: datetime, seqs: set[int]) -> dict[int, list[Any]]:
    """The corrections (not voiding) of records in `seqs`, made since `lo`, oldest first."""
    query = select(RECORDS.c.corrects, RECORDS.c.disinfectant, RECORDS.c.contact_min).where(
        RECORDS.c.kind == "correction", RECORDS.c.at >= lo, ~RECORDS.c.void).order_by(RECORDS.c.seq)  # fmt: skip
    found: dict[int, list[Any]] = {}
    for row in conn.execute(query):
        if row.corrects is not None and int(row.corrects) in seqs:
            found.setdefault(int(row.corrects), []).append(row)
    return found


def _judge(station: _Station, use_start: datetime, use_end: datetime, next_start: datetime | None,
           record: _Cleaning | None, cleaning: tuple[datetime, str, str | None] | None, default_contact: float,
           within: timedelta) -> UseCleaning:  # fmt: skip
    if cleaning is not None and next_start is not None and cleaning[0] > next_start:
        cleaning = record = None  # the next use came first: that cleaning belongs to a later use
    contact = default_contact if record is None or record.contact_min is None else record.contact_min
    verdict: Verdict
    compliant = False
    cleaned_at = cleaning[0] if cleaning is not None else None
    if cleaned_at is None:
        verdict = "not_cleaned"
    else:
        compliant = cleaned_at - use_end <= within
        if next_start is not None and next_start < cleaned_at + timedelta(minutes=contact):
            verdict = "used_before_contact_time"
        else:
            verdict = "cleaned_in_time" if compliant else "late"
    by = (record.by if record is not None and record.by else None) or (cleaning[2] if cleaning else None)
    return UseCleaning(
        site=station.site, station=station.id, station_name=station.name, zone=station.zone, use_start=use_start,
        use_end=use_end, cleaned_at=cleaned_at, cleaned_by=by if cleaning else None,
        disinfectant=record.disinfectant if record else None, contact_min=contact, next_use_start=next_start,
        verdict=verdict, compliant=compliant,
    )  # fmt: skip
