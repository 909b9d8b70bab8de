"""Arrivals for the front desk: today's appointments with who is waiting and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.care.arrival_words import arrival_words, is_walk_in, whole_minutes
from shared.care.models import Appointment, CheckIn, Patient
from shared.store.clock import local_today
from shared.store.settings import DEFAULT_WAITING_ALERT_MIN

STATUS_WORDS = {"scheduled": "scheduled", "arrived": "arrived", "in_session": "in session", "done": "done",
                "no_show": "no-show"}  # fmt: skip
WAITING_ASKED = "waiting_asked"  # check_in.result of a waiting patient who scanned again: the team was told


@dataclass(frozen=True, slots=True)
class Arrival:
    """One of today's appointments as the arrivals view shows it (staff see full names)."""

    appointment_id: int
    patient_id: int
    patient_name: str
    starts_at: datetime
    minutes: int
    clinician: str
    status: str
    arrived_at: datetime | None
    waiting_min: int | None
    asked_at: datetime | None = None  # the last time the waiting patient asked at the lobby (since arriving)
    walk_in: bool = False  # booked as they came, without an appointment


@dataclass(frozen=True, slots=True)
class WalkIn:
    """A patient who scanned a card but had no appointment today."""

    patient_id: int | None
    patient_name: str
    at: datetime


def todays_arrivals(*, session: Session, site: str, tz: tzinfo, now: datetime) -> list[Arrival]:
    """Today's appointments at the site in start order; waiting time for those arrived but not started."""
    return day_appointments(session=session, site=site, tz=tz, day=local_today(now, tz), now=now)


def day_appointments(*, session: Session, site: str, tz: tzinfo, day: date, now: datetime) -> list[Arrival]:
    """The appointments at the site on the clinic's calendar `day`, in start order, with full names.

    Waiting minutes (up to `now`) are given for those arrived but not yet started.
    """
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    query = (
        select(Appointment, Patient)
        .join(Patient, col(Patient.id) == col(Appointment.patient_id))
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    rows = session.exec(query).all()
    asks = _last_asks(session, [a.id for a, _ in rows if a.status == "arrived" and a.id is not None])
    out = []
    for appointment, patient in rows:
        assert appointment.id is not None and patient.id is not None
        waiting = None
        if appointment.status == "arrived" and appointment.arrived_at is not None:
            waiting = whole_minutes(wait_start(appointment.arrived_at, appointment.starts_at), now)
        asked = asks.get(appointment.id)
        out.append(
            Arrival(
                appointment.id,
                patient.id,
                f"{patient.first_name} {patient.last_name}",
                appointment.starts_at,
                appointment.minutes,
                appointment.clinician,
                appointment.status,
                appointment.arrived_at,
                waiting,
                asked if asked is not None and appointment.arrived_at and asked >= appointment.arrived_at else None,
                is_walk_in(
                    created_at=appointment.created_at,
                    starts_at=appointment.starts_at,
                    arrived_at=appointment.arrived_at,
                ),
            )
        )
    return out


def note_waiting_patient(
    *,
    session: Session,
    appointment_id: int,
    limit_min: int,
    now: datetime,
    kiosk: str = "",
) -> bool:
    """A checked-in patient scanned again at the lobby: when they have waited longer than `limit_min` and
    their session has not started, record that they asked (staff see "asked at 10:41") and return True."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status != "arrived" or appointment.arrived_at is None:
        return False
    if whole_minutes(wait_start(appointment.arrived_at, appointment.starts_at), now) <= limit_min:
        return False
    session.add(CheckIn(site=appointment.site, at=now, result=WAITING_ASKED, patient_id=appointment.patient_id,
                        appointment_id=appointment_id, kiosk=kiosk or None))  # fmt: skip
    return True


def wait_start(arrived_at: datetime, starts_at: datetime) -> datetime:
    """When a wait begins: the later of arrival and the appointment's start (an early patient is not waiting
    on the clinic until their time comes)."""
    return max(arrived_at, starts_at)


def _last_asks(session: Session, appointment_ids: list[int]) -> dict[int, datetime]:
    """The last waiting ask of each appointment."""
    if not appointment_ids:
        return {}
    query = (
        select(CheckIn.appointment_id, func.max(CheckIn.at))
        .where(CheckIn.result == WAITING_ASKED, col(CheckIn.appointment_id).in_(appointment_ids))
        .group_by(col(CheckIn.appointment_id))
    )
    return {appointment_id: at for appointment_id, at in session.execute(query).all() if appointment_id is not None}


def todays_walk_ins(*, session: Session, site: str, tz: tzinfo, now: datetime) -> list[WalkIn]:
    """'No appointment' scans from the lobby today that nobody has resolved yet, newest first, one per patient.

    A scan is resolved once the patient has an appointment today that arrived, or was booked, after it (they
    checked in since, or the front desk gave them a walk-in or a booking).
    """
    start, end = _day_bounds(now, tz)
    query = (
        select(CheckIn, Patient)
        .join(Patient, col(Patient.id) == col(CheckIn.patient_id))
        .where(
            CheckIn.site == site, CheckIn.result == "no_appointment", col(CheckIn.at) >= start, col(CheckIn.at) < end
        )
        .order_by(col(CheckIn.at).desc())
    )
    seen: set[int] = set()
    out = []
    scans = session.exec(query).all()
    resolved = _resolved_after(session, {p.id for _, p in scans if p.id is not None}, site, start, end)
    for check_in, patient in scans:
        if patient.id is None or patient.id in seen:
            continue
        seen.add(patient.id)
        if resolved.get(patient.id, check_in.at) > check_in.at:
            continue
        out.append(WalkIn(patient.id, f"{patient.first_name} {patient.last_name}", check_in.at))
    return out


def _resolved_after(
    session: Session, patient_ids: set[int], site: str, start: datetime, end: datetime
) -> dict[int, datetime]:
    """For each patient, the latest time today one of their appointments was booked or arrived."""
    if not patient_ids:
        return {}
    query = select(Appointment.patient_id, Appointment.created_at, Appointment.arrived_at).where(
        col(Appointment.patient_id).in_(patient_ids),
        Appointment.site == site,
        col(Appointment.starts_at) >= start,
        col(Appointment.starts_at) < end,
    )
    latest: dict[int, datetime] = {}
    for patient_id, created_at, arrived_at in session.execute(query).all():
        for at in (created_at, arrived_at):
            if at is not None and (patient_id not in latest or at > latest[patient_id]):
                latest[patient_id] = at
    return latest


def _day_bounds(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(local_today(now, tz), time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def describe_arrival(arrival: Arrival, tz: tzinfo, now: datetime | None = None) -> str:
    """The status in words: 'scheduled', 'in session', 'done', 'no-show', or for an arrived patient when they
    came against their appointment and how long they have sat there (`arrival_words`, counted up to `now`):
    'arrived at 10:02, early (appt 10:15), here 9 min', 'arrived at 10:21, late (appt 10:15), waiting 9 min'."""
    if arrival.status == "arrived" and arrival.arrived_at is not None:
        return arrival_words(arrived_at=arrival.arrived_at, starts_at=arrival.starts_at, tz=tz, now=now,
                             waiting_min=arrival.waiting_min, walk_in=arrival.walk_in,
                             asked_at=arrival.asked_at)  # fmt: skip
    return STATUS_WORDS.get(arrival.status, arrival.status)


FINISHED = ("done", "no_show")


def queue_order(rows: list[Arrival], *, flagged: frozenset[int] = frozenset()) -> list[Arrival]:
    """The front desk's queue: who is still to come, waiting or in session first, then who is done or a no-show
    (each part in start order), so late in the day the people who matter now are at the top. A finished patient
    in `flagged` (their feedback needs a look before they leave, e.g. high pain) stays in the first part."""
    return sorted(rows, key=lambda r: r.status in FINISHED and r.appointment_id not in flagged)


def waits_too_long(arrival: Arrival, limit_min: int = DEFAULT_WAITING_ALERT_MIN) -> bool:
    """Whether an arrived patient has waited longer than `limit_min` minutes (the `CLINIC_WAITING_ALERT_MIN`
    setting; staff see a warning)."""
    return arrival.waiting_min is not None and arrival.waiting_min > limit_min
