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
ending, over the uses that ended in the period. The database does the searching: each use's stop, next start and
cleaning are found by index probes on the events' (site, station, time) index, bounded by a look-ahead, so a
week costs the same in a store of a year of events as in a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, select
from sqlmodel import Session

from shared.equipment.ingest_rows import EQUIPMENT, EVENTS
from shared.equipment.record_chain import RECORDS, corrections_of
from shared.store.settings import contact_time_for, get_settings

Verdict = Literal["cleaned_in_time", "late", "not_cleaned", "used_before_contact_time"]
VERDICTS: tuple[Verdict, ...] = ("cleaned_in_time", "late", "not_cleaned", "used_before_contact_time")
LOOK_BACK = timedelta(hours=12)  # a use that ends in the period began at most this long before it
LOOK_AHEAD = timedelta(days=2)  # how far after the period its uses' stops, next starts and cleanings are sought
_CHUNK = 400


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
    conn = session.connection()
    uses = [row for row in conn.execute(_uses_query(start, end, site)) if _end_of(row) is not None]
    uses = [row for row in uses if start <= _end_of(row) < end]
    cleanings = _cleanings(session, {row.cleaning_row for row in uses if row.cleaning_row is not None})
    found = []
    for row in uses:
        use_end = _end_of(row)
        assert use_end is not None
        default_contact = contact_time_for(settings.contact_time_min, str(row.kind)).total_seconds() / 60
        found.append(_judge(row, use_end, cleanings.get(row.cleaning_row), default_contact, within))
    return found


def compliance_pct(rows: Iterable[UseCleaning]) -> float | None:
    """The share of `rows` cleaned in time (before the next use, within CLINIC_CLEAN_WITHIN_MIN), in percent; None
    for no uses."""
    rows = list(rows)
    if not rows:
        return None
    return 100.0 * sum(1 for row in rows if row.compliant) / len(rows)


def _uses_query(start: datetime, end: datetime, site: str | None) -> Any:
    """Starts that may belong to uses ending in the period, each with its stop, the next start and its cleaning."""
    s = EVENTS.alias("s")
    until = end + LOOK_AHEAD

    stop_e, next_e, clean_e = EVENTS.alias("stop_e"), EVENTS.alias("next_e"), EVENTS.alias("clean_e")
    stop = _probe(s, stop_e, until, stop_e.c.channel == "usage", stop_e.c.event == "stop")
    next_start = _probe(s, next_e, until, next_e.c.channel == "usage", next_e.c.event == "start", strictly=True)
    corrected, correction = RECORDS.alias("corrected"), RECORDS.alias("correction")
    voided = exists(
        select(correction.c.id)
        .select_from(corrected.join(correction, correction.c.corrects == corrected.c.seq))
        .where(corrected.c.event_id == clean_e.c.event_id, corrected.c.site == clean_e.c.site, correction.c.void)
    )
    cleaning = _probe(s, clean_e, until, clean_e.c.channel == "cleaning", clean_e.c.event == "cleaned", ~voided,
                      column="id")  # fmt: skip
    query = (
        select(s.c.site, s.c.equipment_id, EQUIPMENT.c.name, EQUIPMENT.c.zone, EQUIPMENT.c.kind,
               s.c.event_at.label("use_start"), stop.label("stop_at"), next_start.label("next_start"),
               cleaning.label("cleaning_row"))
        .select_from(EQUIPMENT.join(s, and_(s.c.site == EQUIPMENT.c.site, s.c.equipment_id == EQUIPMENT.c.id)))
        .where(EQUIPMENT.c.clean_after_use, s.c.channel == "usage", s.c.event == "start",
               s.c.event_at >= start - LOOK_BACK, s.c.event_at < end)
        .order_by(s.c.site, s.c.equipment_id, s.c.event_at)
    )  # fmt: skip
    return query.where(EQUIPMENT.c.site == site) if site is not None else query


def _probe(s: Any, e: Any, until: datetime, *conditions: ColumnElement[bool], strictly: bool = False,
           column: str = "event_at") -> Any:  # fmt: skip
    """The first of the start `s`'s station's events `e` at (or `strictly` after) its time meeting `conditions`:
    a probe of the (site, station, time) index, stopped at `until`."""
    later = e.c.event_at > s.c.event_at if strictly else e.c.event_at >= s.c.event_at
    return (
        select(e.c[column])
        .where(e.c.site == s.c.site, e.c.equipment_id == s.c.equipment_id, later, e.c.event_at < until, *conditions)
        .order_by(e.c.event_at)
        .limit(1)
        .scalar_subquery()
    )  # fmt: skip


def _end_of(row: Any) -> Any:
    """A use's end: its stop, or the next start when that came first (it closed the use)."""
    stop, next_start = row.stop_at, row.next_start
    if stop is None or (next_start is not None and next_start < stop):
        return next_start
    return stop


@dataclass(frozen=True, slots=True)
class _Cleaning:
    at: datetime
    by: str | None
    disinfectant: str | None
    contact_min: float | None


def _cleanings(session: Session, row_ids: set[int]) -> dict[int, _Cleaning]:
    """The cleaning events with these row ids, with their records' disinfectant (as corrected, if corrected)."""
    conn = session.connection()
    found: dict[int, _Cleaning] = {}
    ids = sorted(row_ids)
    for chunk in _chunks(ids):
        query = (
            select(EVENTS.c.id, EVENTS.c.event_at, EVENTS.c.by, RECORDS.c.seq, RECORDS.c.by.label("record_by"),
                   RECORDS.c.disinfectant, RECORDS.c.contact_min)
            .select_from(EVENTS.outerjoin(RECORDS, and_(RECORDS.c.event_id == EVENTS.c.event_id,
                                                        RECORDS.c.site == EVENTS.c.site,
                                                        RECORDS.c.kind == "cleaning")))
            .where(EVENTS.c.id.in_(chunk))
        )  # fmt: skip
        rows = conn.execute(query).all()
        fixes = corrections_of(conn, [int(r.seq) for r in rows if r.seq is not None])
        for r in rows:
            by, disinfectant, contact = r.record_by or r.by, r.disinfectant, r.contact_min
            for fix in fixes.get(int(r.seq), []) if r.seq is not None else []:
                disinfectant = fix["disinfectant"] or disinfectant
                contact = fix["contact_min"] if fix["contact_min"] is not None else contact
            found[int(r.id)] = _Cleaning(r.event_at, by, disinfectant, contact)
    return found


def _judge(row: Any, use_end: datetime, cleaning: _Cleaning | None, default_contact: float,
           within: timedelta) -> UseCleaning:  # fmt: skip
    next_start = row.next_start
    if cleaning is not None and next_start is not None and cleaning.at > next_start:
        cleaning = None  # the next use came first: that cleaning belongs to a later use
    contact = default_contact if cleaning is None or cleaning.contact_min is None else cleaning.contact_min
    verdict: Verdict
    compliant = False
    if cleaning is None:
        verdict = "not_cleaned"
    else:
        in_time = cleaning.at - use_end <= within
        compliant = in_time
        if next_start is not None and next_start < cleaning.at + timedelta(minutes=contact):
            verdict = "used_before_contact_time"
        else:
            verdict = "cleaned_in_time" if in_time else "late"
    return UseCleaning(
        site=str(row.site), station=str(row.equipment_id), station_name=str(row.name), zone=str(row.zone or ""),
        use_start=row.use_start, use_end=use_end, cleaned_at=cleaning.at if cleaning else None,
        cleaned_by=cleaning.by if cleaning else None, disinfectant=cleaning.disinfectant if cleaning else None,
        contact_min=contact, next_use_start=next_start, verdict=verdict, compliant=compliant,
    )  # fmt: skip


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for at in range(0, len(items), _CHUNK):
        yield items[at : at + _CHUNK]
