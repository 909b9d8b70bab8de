"""The cleaning queue ("Clean next"): stations waiting to be cleaned, or in their disinfectant's contact time,
ordered by when they are next needed.

First the stations in the plans of patients who have checked in today (the earliest appointment first), then
those in the plans of patients whose appointments start soon, each with who needs it and when; then the rest,
the longest waiting first. Within each of these, a station already cleaned and only waiting for its contact
time comes after those that still need cleaning: there is nothing to do at it but wait.
`order_queue` is the pure rule; `cleaning_queue` reads it from the store.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from shared.care.models import Appointment, Patient, PlanItem
from shared.care.plans import active_on
from shared.equipment.stations import StationView, list_stations
from shared.store.clock import local_today

SOON_MIN = 60  # a booked patient whose appointment starts within this needs their stations next
LATE_MIN = 60  # a booked patient not checked in this long after the start no longer counts
QUEUED = ("needs_cleaning", "cleaning")
CHECKED_IN = ("arrived", "in_session")
NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Need:
    """A patient whose plan today uses a station."""

    site: str
    equipment_id: str
    patient: str  # first name and last initial ("Maria G.")
    starts_at: datetime  # the appointment's start
    checked_in: bool  # arrived or in session; otherwise booked and starting soon
    position: int = 0  # the exercise's place in the plan: an earlier one is needed sooner


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A station of the queue with who needs it, soonest first (empty for the rest)."""

    station: StationView
    needs: tuple[Need, ...]

    @property
    def tier(self) -> int:
        """0: a checked-in patient needs it; 1: a patient starting soon does; 2: nobody soon."""
        if not self.needs:
            return 2
        return 0 if self.needs[0].checked_in else 1


def order_queue(stations: Iterable[StationView], needs: Iterable[Need], *, now: datetime) -> list[QueueItem]:
    """The stations that need cleaning or are in their contact time, ordered by need (see the module)."""
    by_station: dict[tuple[str, str], list[Need]] = defaultdict(list)
    for need in needs:
        by_station[(need.site, need.equipment_id)].append(need)
    items = [
        QueueItem(view, tuple(sorted(by_station.get((view.site, view.id), []), key=_need_order)))
        for view in stations
        if view.effective_status in QUEUED
    ]
    return sorted(items, key=_queue_order)


def station_needs(
    *,
    session: Session,
    site: str,
    tz: tzinfo,
    now: datetime,
    soon_min: int = SOON_MIN,
    late_min: int = LATE_MIN,
) -> list[Need]:
    """Who needs which station today: patients checked in (arrived or in session), and booked patients whose
    appointment starts within `soon_min` (or started less than `late_min` ago) and who have not come yet."""
    day = local_today(now, tz)
    day_start = datetime.combine(day, time.min, tzinfo=tz)
    # "Soon" crosses midnight: a patient booked at 00:10 needs a clean station at 23:50 just as much.
    soon = (col(Appointment.status) == "scheduled") & (
        col(Appointment.starts_at) >= now - timedelta(minutes=late_min)
    ) & (col(Appointment.starts_at) <= now + timedelta(minutes=soon_min))  # fmt: skip
    checked_in_today = (col(Appointment.status).in_(CHECKED_IN)) & (col(Appointment.starts_at) >= day_start) & (
        col(Appointment.starts_at) < day_start + timedelta(days=1)
    )  # fmt: skip
    appointments = (
        select(Appointment, Patient)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(Appointment.site == site, or_(checked_in_today, soon))
    )
    booked = session.exec(appointments).all()
    lines = _station_lines(session, patient_ids={appointment.patient_id for appointment, _ in booked}, day=day)
    needs = []
    for appointment, patient in booked:
        checked_in = appointment.status in CHECKED_IN
        for item in lines[appointment.patient_id]:
            site_of_station = item.equipment_site or appointment.site
            needs.append(Need(site_of_station, item.equipment_id or "", patient.display_name, appointment.starts_at,
                              checked_in, item.position))  # fmt: skip
    return needs


def _station_lines(session: Session, *, patient_ids: set[int], day: date) -> dict[int, list[PlanItem]]:
    """Each patient's plan lines in force on `day` that name a station."""
    lines: dict[int, list[PlanItem]] = defaultdict(list)
    if not patient_ids:
        return lines
    query = select(PlanItem).where(
        col(PlanItem.patient_id).in_(patient_ids), col(PlanItem.equipment_id).is_not(None), active_on(day)
    )
    for item in session.exec(query).all():
        lines[item.patient_id].append(item)
    return lines


def cleaning_queue(
    *,
    session: Session,
    site: str,
    tz: tzinfo,
    now: datetime,
    contact_time_min: Mapping[str, float] | None = None,
    soon_min: int = SOON_MIN,
) -> list[QueueItem]:
    """The site's cleaning queue at `now`, most needed first."""
    stations = list_stations(session=session, tz=tz, site=site, now=now, contact_time_min=contact_time_min)
    needs = station_needs(session=session, site=site, tz=tz, now=now, soon_min=soon_min)
    return order_queue(stations, needs, now=now)


def describe_need(need: Need, tz: tzinfo, now: datetime) -> str:
    """'Maria G., 10:30 (checked in)' or 'James O., 11:00 (in 25 min)'."""
    at = need.starts_at.astimezone(tz).strftime("%H:%M")
    if need.checked_in:
        return f"{need.patient}, {at} (checked in)"
    minutes = math.ceil((need.starts_at - now).total_seconds() / 60)
    return f"{need.patient}, {at} (in {minutes} min)" if minutes > 0 else f"{need.patient}, {at} (not here yet)"


def describe_item(item: QueueItem, tz: tzinfo, now: datetime) -> str:
    """Why the station is where it is in the queue: who needs it and when, or how long it has waited."""
    if item.needs:
        patients = []
        for need in item.needs:  # one line per patient: their soonest use of the station
            text = describe_need(need, tz, now)
            if text not in patients:
                patients.append(text)
        return "Needed by " + "; ".join(patients)
    since = item.station.needs_cleaning_since
    if item.station.effective_status == "needs_cleaning" and since is not None:
        minutes = max(0, int((now - since).total_seconds() // 60))
        return f"Nobody booked needs it soon; waiting {minutes} min"
    return "Nobody booked needs it soon"


def _need_order(need: Need) -> tuple[bool, datetime, int]:
    return (not need.checked_in, need.starts_at, need.position)


def _queue_order(item: QueueItem) -> tuple[Any, ...]:
    view = item.station
    done_soon = view.effective_status == "cleaning"  # in contact time: nothing to do but wait
    waited_since = view.needs_cleaning_since or NEVER
    if item.needs:
        need = item.needs[0]
        return (item.tier, done_soon, need.starts_at, need.position, waited_since, view.name.lower(), view.id)
    return (item.tier, done_soon, waited_since, view.ready_at or NEVER, view.name.lower(), view.id)


def hold_places(
    shown: Sequence[str], items: Sequence[QueueItem], *, resort: bool, limit: int
) -> list[tuple[str, QueueItem | None]]:
    """The rows "Clean next" shows: on a re-sort (a page load, the user's own tap) the queue's order; on an
    automatic refresh the rows already shown keep their places (one that left the queue stays as an empty row
    until the next re-sort) and new stations join at the end, so no button moves under a finger."""
    by_key = {station_key(item): item for item in items}
    if resort or not shown:
        return [(station_key(item), item) for item in items[:limit]]
    rows: list[tuple[str, QueueItem | None]] = [(key, by_key.get(key)) for key in shown]
    held = set(shown)
    rows.extend((key, item) for key, item in by_key.items() if key not in held)
    return rows


def station_key(item: QueueItem) -> str:
    """site/id: how the queue names a station across refreshes."""
    return f"{item.station.site}/{item.station.id}"
